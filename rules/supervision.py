"""Supervision structure: SUP-OVERLAP, SUP-GAP, SUP-SEPARATION, SUP-LIST-INCOMPLETE, SUP-PROJECT-UNSUPERVISED.

Facts: one per list row (separation, completeness), one per row and matter it holds (overlap: two
rows of different departments, same power kind, same matter and region, neither the lead), one per
matter of the coverage grid with the number of supervision departments covering it (gap), one per
project with the counts of its given and derivable supervisors that hold a power over it.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from .engine import c, m

from prtkg import codes, coverage, findings

from . import engine
from .common import code, day, fact_rows, param, records


_END_OF_TIME = dt.date.max.toordinal()   # the day number of a list in force until replaced


def _rules():
    return [
        engine.rule("SUP-SEPARATION", (m.t == "row")
                    & engine.any_of(m.department_type, param("SUP-SEPARATION", "non_supervisory_types"))
                    & engine.any_of(m.kind, param("SUP-SEPARATION", "enforcement_kinds"))),
        engine.rule("SUP-LIST-INCOMPLETE", (m.t == "row")
                    & ((m.has_basis == 0) | (m.has_duty == 0) | (m.has_accountability == 0))),
        # Two rows overlap only while both their lists are in force: a replaced list's row and its
        # successor's never do.
        engine.rule("SUP-OVERLAP",
                    c.a << ((m.t == "holds") & (m.lead == 0)),
                    c.b << ((m.t == "holds") & (m.lead == 0) & (m.key == c.a.key)
                            & (m.department != c.a.department) & (m.ref > c.a.ref)
                            & (m.start <= c.a.end) & (m.end >= c.a.start))),
        engine.rule("SUP-GAP", (m.t == "matter") & (m.supervisors == 0)),
        engine.rule("SUP-PROJECT-UNSUPERVISED", (m.t == "project")
                    & (((m.given > 0) & (m.given_holding == 0)) | ((m.given == 0) & (m.derivable == 0)))),
    ]


def _row_fact(row: coverage.PowerRow) -> dict:
    return {"t": "row", "id": row.ref, "ref": row.ref, "iri": row.iri, "row": row.row,
            "department": row.department, "department_name": row.department_name,
            "department_type": row.department_type or "", "kind": row.kind,
            "power_name": row.power_name or "", "power_code": row.power_code or "", "has_basis": int(row.has_basis),
            "has_duty": int(row.has_duty), "has_accountability": int(row.has_accountability)}


def list_facts(g: coverage.Grid):
    for row in g.rows:
        yield _row_fact(row)
    for row in g.rows:
        if row.in_force == coverage.NEVER:
            continue   # replaced before it took effect: it holds nothing at any time
        start, end = row.in_force
        for t, i, s in coverage.row_matters(row, g.industries):
            key = "|".join([row.kind, t, i or "", s, row.region])
            yield {"t": "holds", "id": f"{row.ref}|{key}", "key": key, "ref": row.ref, "iri": row.iri,
                   "start": day(start), "end": day(end) if end else _END_OF_TIME,
                   "department": row.department, "department_name": row.department_name,
                   "power_name": row.power_name or "", "power_code": row.power_code or "",
                   "lead": int(row.lead), "kind": row.kind, "tradeType": t, "industry": i, "stage": s,
                   "region": row.region}
    for matter, rows in g.cover.items():
        supervisors = {r.department for r in rows if r.department_type == "supervision"}
        yield {"t": "matter", "id": "|".join(["matter", matter.label()]),
               **matter.as_dict(), "supervisors": len(supervisors)}


def evaluate(g: coverage.Grid, project_facts=()) -> list[engine.Fired]:
    import itertools
    return engine.run("supervision", _rules, itertools.chain(list_facts(g), project_facts))


def overlap_pairs(fired: list[engine.Fired]) -> list[list[engine.Fired]]:
    """SUP-OVERLAP firings grouped by the pair of rows: one finding per pair, naming every shared matter."""
    pairs: dict[tuple[str, str], list[engine.Fired]] = defaultdict(list)
    for f in fired:
        if f.rule == "SUP-OVERLAP":
            pairs[(f.facts["a"]["ref"], f.facts["b"]["ref"])].append(f)
    return [v for _, v in sorted(pairs.items())]


def overlap_evidence(pair: list[engine.Fired]) -> dict:
    a, b = pair[0].facts["a"], pair[0].facts["b"]
    matters = sorted(({"tradeType": f.facts["a"]["tradeType"], "industry": f.facts["a"]["industry"],
                       "stage": f.facts["a"]["stage"]} for f in pair),
                     key=lambda x: (x["tradeType"], x["industry"] or "", x["stage"]))
    return {"departmentA": a["department"], "departmentAName": a["department_name"], "rowA": a["ref"],
            "powerCodeA": a["power_code"], "powerNameA": a["power_name"],
            "departmentB": b["department"], "departmentBName": b["department_name"], "rowB": b["ref"],
            "powerCodeB": b["power_code"], "powerNameB": b["power_name"],
            "powerKind": a["kind"], "region": a["region"], "matters": matters,
            "_focus": a["iri"]}


def _matter_text(ev: dict) -> findings.Text:
    from prtkg.ui_messages import ordered
    trades = sorted({(x["tradeType"], x["industry"] or "") for x in ev["matters"]})
    stages = ordered(sorted({x["stage"] for x in ev["matters"]}), "stage")
    region = coverage.region_names(ev["region"])
    text = findings.Text()
    for lang, sep, join in (("zh", "；", "、"), ("en", "; ", ", ")):
        names = [coverage.matter_names(t, i)[lang] for t, i in trades]
        stage_names = [codes.label("stage", s, lang) for s in stages]
        text[lang] = sep.join([join.join(names), join.join(stage_names), region[lang]])
    return text


def gap_groups(fired: list[engine.Fired]) -> list[dict]:
    """SUP-GAP firings as one gap per (trade type, industry, region), naming its uncovered stages."""
    groups: dict[tuple, list[str]] = defaultdict(list)
    for f in fired:
        if f.rule == "SUP-GAP":
            x = f.m
            # A span of time is named only where the lists in force change (coverage.Matter.period).
            span = tuple((k, x[k]) for k in ("inForceFrom", "inForceUntil") if k in x)
            groups[(x["tradeType"], x["industry"], x["region"], span)].append(x["stage"])
    from prtkg.ui_messages import ordered  # stages as the procedure runs (the message catalogue's order)
    return [{"tradeType": t, "industry": i, "region": r, "stages": ordered(stages, "stage"), **dict(span)}
            for (t, i, r, span), stages in sorted(groups.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1] or "",
                                                                                    str(kv[0][3])))]


# A project is judged by the lists in force on its date: the day its tender documents were first
# issued, or without one its earliest award or contract date (the procedure was under way then).
# The OPTIONALs stand outside the record's GRAPH block: inside, Oxigraph 0.5 evaluates them over every
# graph of the store (rules/risk.py _TENDERS).
_PROJECTS = """
SELECT ?record ?project ?tt ?ind ?region
       (COALESCE(MIN(?started), MIN(?awarded), MIN(?signed)) AS ?date)
       (GROUP_CONCAT(DISTINCT ?given; separator=" ") AS ?givens)
WHERE {
  %s
  GRAPH ?g { ?g prtkg:recordKind "ocds" ; prtkg:recordId ?record ; prtkg:mainNode ?project .
             ?project prtkg:tradeType ?tt ; prtkg:region ?region }
  OPTIONAL { GRAPH ?g { ?project prtkg:industry ?ind } }
  OPTIONAL { GRAPH ?g { ?project prtkg:hasTender/prtkg:tenderPeriodStart ?started } }
  OPTIONAL { GRAPH ?g { ?project prtkg:hasAward/prtkg:awardDate ?awarded } }
  OPTIONAL { GRAPH ?g { ?project prtkg:hasContract/prtkg:dateSigned ?signed } }
  OPTIONAL { GRAPH ?g { ?project prtkg:hasSupervisorAssignment/prtkg:supervisor ?sup . ?sup prtkg:uscc ?given } }
} GROUP BY ?record ?project ?tt ?ind ?region
"""


def _holders(rows: dict[tuple[str, str], list[coverage.PowerRow]], region: str, trade_type: str,
             industry: str | None, on: dt.date | None) -> list[coverage.PowerRow]:
    """The rows in force on a project's date that hold a power over its trade type and industry in its
    division (a row of a division above covers those below; a row naming no industry, every industry).
    `rows` by (region, trade type)."""
    return [row for r in coverage.region_chain(region) for row in rows.get((r, trade_type), ())
            if row.on(on) and (not row.industries or industry is None or industry in row.industries)]


def _project_facts(ctx, projects: list | None, rows: list[coverage.PowerRow]):
    # The query asks for trade type and region, the rule's `needs`: a record under check without them
    # is DATA-INSUFFICIENT by the applicability gate; a stored one is left out here the same way.
    by_matter: dict[tuple[str, str], list[coverage.PowerRow]] = defaultdict(list)
    for row in rows:
        for t in row.trade_types:
            by_matter[(row.region, t)].append(row)
    # A check of the whole store streams the rows (the engine takes each project's fact as it comes;
    # at 10^5 projects the answer as a list was 10^5 dicts held at once); a changed list in a check
    # of some records still judges every stored project.
    if projects is None and not ctx.covers_store():
        found = ctx.store.select(_PROJECTS % "")
    else:
        found = fact_rows(ctx, _PROJECTS, projects or [])
    for r in found:
        tt, ind, region = code(r["tt"]), code(r["ind"]), code(r["region"])
        on = coverage.as_date(r["date"])
        given = set((r["givens"] or "").split())
        holders = _holders(by_matter, region, tt, ind, on)
        yield {"t": "project", "id": f"project|{r['record']}|{r['tt']}", "record": r["record"],
               "project": r["project"], "trade_type": tt, "industry": ind, "region": region,
               "date": on.isoformat() if on else None, "given": len(given),
               "given_holding": len(given & {row.department for row in holders}),
               "derivable": len({row.department for row in holders if row.department_type == "supervision"})}


_HAS_LIST = 'ASK { GRAPH ?g { ?g prtkg:recordKind "powers-list" } }'


def check(ctx):
    lists_changed = bool(records(ctx, "powers-list"))
    projects = records(ctx, "ocds")
    if not lists_changed and not projects:
        return []
    have_lists = ctx.store.ask(_HAS_LIST)
    project_facts = ()
    if have_lists:
        # A changed list can change any project's supervision; a new project needs only itself.
        rows = coverage.power_rows(ctx.store)
        listed = coverage.listed_matters(rows)

        def judged(facts):     # streamed into the engine a page at a time
            for fact in facts:
                on = dt.date.fromisoformat(fact["date"]) if fact["date"] else None
                if coverage.has_list(fact["region"], fact["trade_type"], listed, on):
                    yield fact
                elif on is None and coverage.has_list(fact["region"], fact["trade_type"], listed, any_time=True):
                    # Only lists with a period speak to it: which was in force depends on a date it lacks.
                    ctx.insufficient.add(fact["record"], fact["project"], "SUP-PROJECT-UNSUPERVISED",
                                         ["tender.tenderPeriod.startDate"])
                else:
                    # No list in force on its date speaks to the project's matter where it is: nothing to judge it by.
                    when = f", {fact['date']}" if fact["date"] else ""
                    ctx.insufficient.add(fact["record"], fact["project"], "SUP-PROJECT-UNSUPERVISED",
                                         [f"powers-and-duties list ({fact['region']}, {fact['trade_type']}{when})"])
        project_facts = judged(_project_facts(ctx, None if lists_changed else projects, rows))
    else:
        for rec in projects:
            if rec.id in ctx.applicable("SUP-PROJECT-UNSUPERVISED"):
                ctx.insufficient.add(rec.id, rec.focus, "SUP-PROJECT-UNSUPERVISED", ["powers-and-duties list"])
    g = coverage.grid(ctx.store) if lists_changed else coverage.Grid([], [], [], [], [])
    fired = evaluate(g, project_facts)
    # A gap belongs to no one row: its record is the set of lists that leave it open.
    lists_record = "+".join(sorted({row.ref.rsplit("#", 1)[0] for row in g.rows}))
    return list(_findings(fired, lists_record))


def _power(name: str, code: str) -> str:
    """A list row's power as the list names it: its own name and 权力编码."""
    return f"{name}（{code}）" if name and code else name or code


def _findings(fired: list[engine.Fired], lists_record: str = ""):
    for f in fired:
        x = f.facts.get("m")
        if f.rule == "SUP-SEPARATION":
            yield findings.make(f.rule, x["ref"], x["iri"],
                                {"row": x["ref"], "department": x["department"], "departmentType": x["department_type"],
                                 "powerKind": x["kind"], "powerName": x["power_name"], "powerCode": x["power_code"]},
                                department=x["department_name"], department_type=x["department_type"],
                                power_name=_power(x["power_name"], x["power_code"]), power_kind=x["kind"])
        elif f.rule == "SUP-LIST-INCOMPLETE":
            missing = [name for name, key in (("实施依据/legal basis", "has_basis"), ("责任事项/duties", "has_duty"),
                                              ("追责情形/accountability", "has_accountability")) if not x[key]]
            yield findings.make(f.rule, x["ref"], x["iri"],
                                {"row": x["ref"], "department": x["department"], "missing": missing,
                                 "powerName": x["power_name"], "powerCode": x["power_code"]},
                                row=x["ref"], power_name=_power(x["power_name"], x["power_code"]))
        elif f.rule == "SUP-PROJECT-UNSUPERVISED":
            yield findings.make(f.rule, x["record"], x["project"],
                                {k: x[k] for k in ("trade_type", "industry", "region", "given", "given_holding")},
                                region=findings.Text(coverage.region_names(x["region"])))
    for gap in gap_groups(fired):
        yield findings.make("SUP-GAP", lists_record, None, gap,
                            region=findings.Text(coverage.region_names(gap["region"])),
                            matter=findings.Text(coverage.matter_names(gap["tradeType"], gap["industry"])))
    for pair in overlap_pairs(fired):
        ev = overlap_evidence(pair)
        focus = ev.pop("_focus")
        yield findings.make("SUP-OVERLAP", ev["rowA"], focus, ev,
                            department_a=f"{ev['departmentAName']}（{ev['rowA']}，{_power(ev['powerNameA'], ev['powerCodeA'])}）",
                            department_b=f"{ev['departmentBName']}（{ev['rowB']}，{_power(ev['powerNameB'], ev['powerCodeB'])}）",
                            matter=_matter_text(ev))
