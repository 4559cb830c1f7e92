"""The `prtkg` command: a thin layer over the library. Exit 0 clean, 1 violations, 2 unusable input."""
from __future__ import annotations

import datetime as dt
import io
import json
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from prtkg.errors import PrtkgError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="prtkg: compliance checks for public resource trading supervision (公共资源交易监管).")
err = Console(stderr=True)
# A report written to a file is not bound to this terminal's width.
FILE_WIDTH = 160


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version
        print(f"prtkg {version('prtkg')}")
        raise typer.Exit(0)


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show the version and exit.")) -> None:
    """prtkg: compliance checks for public resource trading supervision (公共资源交易监管)."""


class Format(str, Enum):
    table = "table"
    json = "json"
    shacl = "shacl"
    html = "html"


class Lang(str, Enum):
    zh = "zh"
    en = "en"


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(2)


def _parse_date(value: Optional[str], option: str) -> Optional[dt.date]:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"{option}: {value!r} is not a date (YYYY-MM-DD)")


def _write(text: str, out: Optional[Path], lang: str = "zh") -> None:
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        _fail(f"--out: cannot write {out}: {e.strerror or e}")
    err.print(f"{_ui(lang, 'report.wrote')} {out.resolve()}", highlight=False, markup=False, soft_wrap=True)


def _ui(lang: str, key: str, **fields: object) -> str:
    """A label of the shared message catalogue (api/static/messages.json) in `lang`."""
    from prtkg.ui_messages import messages
    text = messages()[lang].get(key, key)
    return text.format(**fields) if fields else text


def _findings_table(doc: dict, lang: str) -> Table:
    from rich.markup import escape

    from prtkg.findings import insufficiency_by_rule

    s = doc["summary"]
    title = _ui(lang, "cli.summary", records=s["records"], rejected=s["rejected"], violations=s["violations"],
                warnings=s["warnings"], info=s.get("info", 0), asOf=s.get("asOf", "?"))
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column(_ui(lang, "col.severity"), no_wrap=True)
    table.add_column(_ui(lang, "col.rule"), overflow="fold", max_width=20)
    table.add_column(_ui(lang, "col.record"), overflow="fold", max_width=22)
    # The basis goes under the message: a fifth column would squeeze both to a few characters.
    table.add_column(f"{_ui(lang, 'col.message')} / {_ui(lang, 'col.basis')}", overflow="fold", ratio=1)
    colour = {"violation": "red", "warning": "yellow", "info": "cyan"}

    def severity(word: str) -> str:
        return f"[{colour.get(word, 'magenta')}]{escape(_ui(lang, 'severity.' + word))}[/]"

    for f in doc["findings"]:
        if f["rule"] == "DATA-INSUFFICIENT":
            continue
        table.add_row(severity(f["severity"]), f["rule"], escape(f["record"]),
                      f"{escape(f['message'][lang])}\n[dim]{escape(f['basis'])}[/]")
    for x in insufficiency_by_rule(doc["findings"]):
        table.add_row(severity("info"), f"DATA-INSUFFICIENT\n{x['rule']}",
                      escape(_ui(lang, "insufficient.records", records=x["records"])),
                      escape(_ui(lang, "insufficient.summary", records=x["records"], fields="、".join(x["fields"]))))
    for r in doc["rejected"]:
        reasons = "; ".join(f"{e['field']}: {e['error']}" for e in r["errors"])
        table.add_row(severity("rejected"), "-", escape(r["record"]), escape(reasons))
    return table


@app.command()
def check(
    paths: List[Path] = typer.Argument(None, help="Record files or folders; none = the bundled demo dataset."),
    reference: Optional[str] = typer.Option(None, "--reference",
                                            help="Reference data folder, or 'none'; default: the bundled reference data."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json, shacl (the raw SHACL validation report, Turtle), or html (a self-contained report)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the report to this file."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="'Today' for running deadlines (YYYY-MM-DD); "
                                        "default today, or the demo's own date when checking the demo."),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="Language of the table (messages, headers, severities)."),
) -> None:
    """Validate and check records in a temporary store, with the bundled reference data."""
    from .checking import check as run_check
    from .serve import DEMO_AS_OF

    day = _parse_date(as_of, "--as-of")
    if day is None and not paths:
        day = DEMO_AS_OF   # the demo's deadlines are planted against its own day, as `serve --demo` uses
    ref: Optional[str] = "bundled" if reference is None else (None if reference == "none" else reference)
    if ref not in (None, "bundled") and not Path(ref).is_dir():
        _fail(f"--reference: {ref!r} is not a folder (give a folder of reference data, or 'none')")
    try:
        if err.is_terminal:
            with err.status("loading and checking …" if lang is Lang.en else "正在载入并检查 …"):
                result = run_check(paths or [], reference=ref, as_of=day)
        else:
            result = run_check(paths or [], reference=ref, as_of=day)
    except PrtkgError as e:
        _fail(str(e))
    doc = result.report()
    if fmt is Format.shacl:
        from prtkg.shapes.validate import report_turtle
        _write(report_turtle(result, day), out, lang.value)
    elif fmt is Format.json:
        _write(json.dumps(doc, ensure_ascii=False, indent=2), out, lang.value)
    elif fmt is Format.html:
        from .report_html import report as html_report
        _write(html_report(result), out, lang.value)
    elif out is not None:
        console = Console(record=True, width=FILE_WIDTH, file=io.StringIO())
        console.print(_findings_table(doc, lang.value))
        _write(console.export_text(), out, lang.value)
    else:
        Console().print(_findings_table(doc, lang.value))
    if paths:  # none: the bundled demo
        _exit_if_nothing_checked(len(result.loaded.records), len(result.loaded.rejected))
    raise typer.Exit(1 if doc["summary"]["violations"] else 0)


def _exit_if_nothing_checked(records: int, rejected: int) -> None:
    """Exit 2 when input was given and not one record of it could be used: automation reading the
    exit code must not take "every record rejected" (or "no record found") for "checked, nothing found"."""
    if records == 0:
        why = f"every input record ({rejected}) was rejected" if rejected else "no input record was found"
        err.print(f"[red]error:[/red] nothing could be checked: {why}", highlight=False)
        raise typer.Exit(2)


@app.command()
def load(
    paths: List[Path] = typer.Argument(..., help="Record files or folders to ingest."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="'Today' for running deadlines (YYYY-MM-DD)."),
) -> None:
    """Ingest records into the persistent store (PRTKG_STORE, default ./.prtkg/store)."""
    from .ingest import ingest

    day = _parse_date(as_of, "--as-of")
    try:
        # One line per committed batch, flushed: what a crashed load already stored, for whoever watches.
        summary = ingest(paths, as_of=day, console=err,
                         on_commit=lambda done, total: print(
                             f"committed {done}{'' if total is None else f'/{total}'} records",
                             file=sys.stderr, flush=True))
    except PrtkgError as e:
        _fail(str(e))
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    _exit_if_nothing_checked(summary["loaded"], len(summary["rejected"]))


@app.command()
def query(
    query: str = typer.Argument(..., help="A SPARQL query, a .rq file, or the name of a saved question (queries/)."),
    fmt: str = typer.Option("table", "--format", help="table, json, csv or tsv."),
    param: List[str] = typer.Option([], "--param", help="A saved question's parameter, NAME=VALUE (repeatable)."),
) -> None:
    """Run a read-only SPARQL query on the persistent store."""
    from prtkg import saved_queries
    from prtkg.querying import allow_deep_parsing, run_query

    allow_deep_parsing()  # this process only runs the one query
    text = query
    if query in saved_queries.library():
        try:
            text = saved_queries.get(query).bind(saved_queries.parse_assignments(param))
        except PrtkgError as e:
            _fail(str(e))
    elif param:
        _fail(f"--param: {query!r} is not a saved question (see `prtkg queries`)")
    elif query.endswith(".rq"):
        try:
            text = Path(query).read_text(encoding="utf-8")
        except OSError as e:
            _fail(f"{query}: cannot read: {e.strerror or e}")
    try:
        output = run_query(text, fmt)
    except PrtkgError as e:
        _fail(str(e))
    _write(output, None)


@app.command()
def queries() -> None:
    """List the saved questions (queries/*.rq) with their parameters."""
    from prtkg import saved_queries

    table = Table("name", "title", "parameters (default)")
    for q in saved_queries.library().values():
        params = ", ".join(f"{p.name}={p.default}" for p in q.params)
        table.add_row(q.name, f"{q.title['zh']}\n{q.title['en']}", params)
    Console().print(table)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    demo: bool = typer.Option(False, "--demo", help="Serve the bundled demo from a temporary store, with a generated staff token."),
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs) on the store at PRTKG_STORE, or on the demo."""
    from .serve import serve as run_server

    try:
        run_server(host, port, demo, echo=lambda m: print(m, flush=True))
    except PrtkgError as e:
        _fail(str(e))


@app.command()
def credit(
    codes: List[str] = typer.Argument(..., help="Unified social credit codes (统一社会信用代码)."),
    trade_type: Optional[str] = typer.Option(None, "--trade-type", help="Only restrictions in this trade type (e.g. works)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="The day to report on (YYYY-MM-DD; default today)."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="Language of the table and of the notes."),
) -> None:
    """An entity's credit status from the store at PRTKG_STORE. Exit 2 for a malformed code or when
    nothing is loaded; a code the store does not know is an answer ("unknown", said in words), exit 0."""
    import os

    from prtkg import credit as C
    from prtkg.clock import today
    from .report_html import china_time
    from prtkg.store import DEFAULT_PATH, open_store

    day = _parse_date(as_of, "--as-of") or today()
    if fmt not in ("table", "json"):
        _fail(f"--format: {fmt!r} is not table or json")
    remote = os.environ.get("PRTKG_SPARQL_ENDPOINT")
    where = remote or str(Path(os.environ.get("PRTKG_STORE", str(DEFAULT_PATH))).resolve())
    # Opening an embedded store creates it: look first, or an empty store would answer "unknown".
    if not remote and not Path(where).exists():
        _fail(_ui(lang.value, "credit.nothingLoaded", where=where))
    try:
        store = open_store(read_only=not remote)
        held = C.store_summary(store)
        if not held["records"]:
            _fail(_ui(lang.value, "credit.emptyStore", where=where))
        statuses = C.statuses(store, codes, day, trade_type)
    except PrtkgError as e:
        _fail(str(e))
    for s in statuses:
        if s["status"] == "unknown":
            s["note"] = _ui(lang.value, "credit.unknown", code=s["uscc"], records=held["records"],
                            loaded=china_time(held["loadedAt"]) or "?")
    if fmt == "json":
        print(json.dumps(statuses, ensure_ascii=False, indent=2))
    else:
        Console().print(C.status_table(statuses, lang.value))


@app.command()
def findings(
    status: Optional[str] = typer.Option(None, "--status", help="Case status: open, assigned, acknowledged, verified, disposed, closed or resolved."),
    region: Optional[str] = typer.Option(None, "--region", help="GB/T 2260 division: its findings and those below it."),
    rule: Optional[str] = typer.Option(None, "--rule", help="Rule id, e.g. BID-PERIOD-20D."),
    overdue: bool = typer.Option(False, "--overdue", help="Only findings past their handling time."),
    fmt: str = typer.Option("table", "--format", help="table, json, or html (the report, with case status and overdue marks)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this file."),
    limit: int = typer.Option(1000, "--limit", min=1, help="At most this many findings."),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="Message language of the table."),
) -> None:
    """The stored findings (PRTKG_STORE) with their id, case status and handling time."""
    from prtkg import casework
    from prtkg.jurisdiction import divisions_within
    from prtkg.store import open_store

    if status is not None and status not in casework.machine().states:
        _fail(f"--status: {status!r} is not one of {', '.join(casework.machine().states)}")
    if region is not None and not divisions_within(region):
        _fail(f"--region: {region!r} is not a GB/T 2260 division code of the region code list")
    if fmt not in ("table", "json", "html"):
        _fail(f"--format: {fmt!r} is not table, json or html")
    store = open_store()
    try:
        found = casework.find(store, rule=rule, status=status, region=region,
                              limit=limit if not overdue else 10_000_000)
    except PrtkgError as e:
        _fail(str(e))
    rows = [f for f in found["findings"] if f["overdue"]][:limit] if overdue else found["findings"]
    if fmt == "json":
        _write(json.dumps({"total": len(rows) if overdue else found["total"], "findings": rows},
                          ensure_ascii=False, indent=2), out)
        return
    if fmt == "html":
        from .report_html import stored_report
        _write(stored_report(store, rows), out)
        return
    table = Table("id", "status", "due", "severity", "rule", "record", "message",
                  title=f"{len(rows)} of {len(rows) if overdue else found['total']} findings")
    for f in rows:
        due = (f["dueDate"] or "?") + (" [red]overdue[/]" if f["overdue"] else "")
        table.add_row(f["id"], f["status"], due, f["severity"], f["rule"], f["record"], f["message"].get(lang.value, ""))
    if out is None:
        Console(width=max(Console().width, 160)).print(table)
    else:
        console = Console(record=True, width=200, file=io.StringIO())
        console.print(table)
        _write(console.export_text(), out)


@app.command()
def act(
    finding: str = typer.Argument(..., help="The finding's id (see `prtkg findings`)."),
    action: str = typer.Argument(..., help="assign, acknowledge, verify, dispose, close or reopen."),
    note: Optional[str] = typer.Option(None, "--note", help="What was found or done (needed to close as false-positive)."),
    outcome: Optional[str] = typer.Option(None, "--outcome", help="rectified, penalised, transferred or false-positive."),
    to: Optional[str] = typer.Option(None, "--to", help="The department's unified social credit code (assign)."),
) -> None:
    """Move a stored finding through its life cycle (rules/casework.yaml), recorded with who and when.
    Exit 2 when the action is unknown, lacks a field or is not allowed from the finding's status."""
    from prtkg import casework
    from prtkg.store import open_store
    from prtkg.store.common import _whoami

    store = open_store()
    try:
        result = casework.act(store, finding, action, _whoami(), note, outcome, to)
        store.flush()
    except PrtkgError as e:
        _fail(str(e))
    print(json.dumps(result, ensure_ascii=False, indent=2))


def main() -> None:  # pragma: no cover - console entry
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
