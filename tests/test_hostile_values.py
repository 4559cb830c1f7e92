"""Hostile characters in record values never lose findings (issue 15 item 3).

Every string field of every record kind (OCDS releases, each event recordType, the CSV powers and
credit lists, RDF literals) is set, one field per record, to a generated string full of quotes,
backslashes, braces, `{{x}}`, `$1`, newlines, RTL marks, 10 kB. The same records are built a second
time with a plain string of the same length in that field. Both sets are checked the same way and
must give the same findings and rejections, once the hostile string is mapped back to the plain one:
the bulk path, the per-record (pySHACL) path, /validate, POST /records and `prtkg check`.
"""
from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import re
import unicodedata
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, example, given, settings, strategies as st
from rdflib import Graph, Literal
from typer.testing import CliRunner

from prtkg import loaders
from prtkg.api.app import create_app
from prtkg.api.settings import Settings
from prtkg.app.checking import Context, run_checks
from prtkg.app.cli import app as cli_app
from prtkg.errors import InputError
from prtkg.records import LoadResult
from prtkg.rules import credit_codes
from prtkg.shapes import bulk, validate
from prtkg.store import Store

FIX = Path(__file__).parent / "fixtures"
AS_OF = dt.date(2026, 6, 1)

# Pieces that broke or could break a value pasted into text: JSON, regex replacement templates,
# str.format, SHACL {?var} fields, SPARQL/Turtle string escapes, CSV quoting, bidi controls.
PIECES = ['"', "\\", "{", "}", "{{x}}", "{?code}", "{0}", "$1", "\\1", "\\g<0>", "'", "'''", '"""', "\n",
          "\r\n", "\t", "\x00", "\x1f", "\u200f", "\u202e", "%s", "<", ">", "&", "#", "?x", ";", ",", "\\u0041", "\\n", "云南"]
# First and last characters: visible, so no loader's trimming can change the value, and outside
# every code alphabet, so the value is as invalid as its plain twin wherever a format is checked.
EDGES = ['"', "\\", "{", "}", "$", "'"]
KITCHEN_SINK = '"' + "".join(PIECES) + "\\"
LONG = "\\" + ('a"b\\c{d}' * 1300)[:10_238] + '"'        # 10 kB

hostile = st.builds(lambda a, mid, b: a + "".join(mid) + b, st.sampled_from(EDGES),
                    st.lists(st.sampled_from(PIECES) | st.text(st.characters(blacklist_categories=("Cs", "Cc")),
                                                               max_size=4), max_size=12),
                    st.sampled_from(EDGES))


LIST_SEPARATORS = ";；、"           # loaders/csvlists.py splits list cells on these


def plain(s: str) -> str:
    """The twin of a hostile string: as long, every character a format or a text template could
    treat specially made an underscore (caseless: codes are upper-cased); control characters and
    the separators of list cells (a CSV list's measures, trade types) kept: they split a value by
    design, and have rules of their own."""
    return "".join(c if unicodedata.category(c) == "Cc" or c in LIST_SEPARATORS else "_" for c in s)


def printable(s: str) -> str:
    """The value as an id may hold it: record ids refuse control characters (by name: see
    test_ids_with_control_characters_are_rejected_by_name)."""
    return "".join(c for c in s if unicodedata.category(c) != "Cc")


# -- records with one field set to a value ---------------------------------------------------

def _string_paths(node, path=()):
    if isinstance(node, str):
        yield path
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _string_paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _string_paths(v, path + (i,))


def _set(node, path, value):
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _json_variants(bases: list[dict], id_key: str, value: str) -> list[dict]:
    """One copy of each base per string field, that field set to `value`, each under its own id
    (the id field ends in the value's printable part: the variant's number before it keeps ids in
    the same order for every value, since some rules pick a record by id order)."""
    out = []
    for b, base in enumerate(bases):
        for i, path in enumerate(_string_paths(base)):
            rec = copy.deepcopy(base)
            _set(rec, path, value)
            rec[id_key] = f"{base[id_key]}-v{b}-{i}" + (f"-{printable(value)}" if path == (id_key,) else "")
            out.append(rec)
    return out


def ocds_bases() -> list[dict]:
    return [json.loads((FIX / "shapes" / f"{n}-base.json").read_text(encoding="utf-8")) for n in ("works", "gp")]


def event_bases() -> list[dict]:
    return json.loads((FIX / "events" / "good.json").read_text(encoding="utf-8"))


def _csv_variants(fixture: str, value: str, id_column: bool = False) -> bytes:
    """Every cell of the list's first data row set to `value`, one row each; the first column (the
    row's code, or its record id: then to the value's printable part) made unique."""
    rows = list(csv.reader(io.StringIO((FIX / "csv" / fixture).read_text(encoding="utf-8-sig"))))
    header, row = rows[0], rows[1]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for i in range(len(row)):
        r = list(row)
        r[i] = value
        if i > 0 or id_column:
            r[0] = f"{row[0]}-v{i}" + (f"-{printable(value)}" if i == 0 else "")
        w.writerow(r)
    return out.getvalue().encode()


def _rdf_variants(value: str) -> list[tuple[str, str, bytes]]:
    """The departments file once per string literal, that literal set to `value`."""
    g = Graph().parse(FIX / "rdf" / "departments.ttl")
    literals = sorted({(s, p, o) for s, p, o in g if isinstance(o, Literal)})
    out = []
    for i, (s, p, o) in enumerate(literals):
        v = Graph()
        for t in g:
            v.add(t)
        v.remove((s, p, o))
        v.add((s, p, Literal(value, lang=o.language, datatype=o.datatype)))
        out.append((f"departments-v{i}", ".nt", v.serialize(format="nt", encoding="utf-8")))
    return out


def inputs(value: str) -> list[tuple[str, str, bytes]]:
    """(name, suffix, bytes) of every record kind with each string field set to `value` in turn."""
    return [("ocds", ".json", json.dumps(_json_variants(ocds_bases(), "ocid", value), ensure_ascii=False).encode()),
            ("events", ".json", json.dumps(_json_variants(event_bases(), "id", value), ensure_ascii=False).encode()),
            ("powers", ".csv", _csv_variants("powers_en.csv", value)),
            ("credit", ".csv", _csv_variants("credit_ids.csv", value, id_column=True)),
            *_rdf_variants(value)]


# -- comparing the outcome for the hostile value with its plain twin ---------------------------

def _pairs(hostile_value: str, plain_value: str) -> list[tuple[str, str]]:
    """(form of the hostile value, the same form of its twin), longest first: the value as written,
    upper-cased, as an id holds it, quoted by repr() in a problem text, and each piece of it a list
    cell is split into."""
    sep = "[" + LIST_SEPARATORS + "]"
    whole = [(hostile_value, plain_value), (hostile_value.upper(), plain_value.upper()),
             (printable(hostile_value), printable(plain_value))]
    pieces = list(zip(re.split(sep, hostile_value), re.split(sep, plain_value)))
    out = whole + pieces + [(repr(h)[1:-1], repr(p)[1:-1]) for h, p in whole + pieces]
    return sorted({(h, p) for h, p in out if h and h != p}, key=lambda hp: -len(hp[0]))


def _map(x, hostile_value: str, plain_value: str):
    """`x` with the hostile value (as written, upper-cased as codes are, as an id holds it, or
    quoted by repr()) put back to its twin; lists as multisets, since the twin sorts elsewhere among other values."""
    if isinstance(x, str):
        for h, p in _pairs(hostile_value, plain_value):
            x = x.replace(h, p)
        return x
    if isinstance(x, dict):
        return {k: _map(v, hostile_value, plain_value) for k, v in x.items()}
    if isinstance(x, list):
        return sorted((_map(v, hostile_value, plain_value) for v in x), key=json.dumps)
    return x


def outcome(findings: list[dict], rejected: list[dict], hostile_value: str, plain_value: str,
            refused: tuple = ()) -> tuple:
    """What must not depend on the characters: each finding's rule, severity, record and evidence,
    each rejection's record and fields, the inputs refused whole (the focus is an IRI, a message
    may quote a value escaped)."""
    fs = sorted(json.dumps([f["rule"], f["severity"], _map(f["record"], hostile_value, plain_value),
                            _map(f["evidence"], hostile_value, plain_value)], sort_keys=True, ensure_ascii=False)
                for f in findings)
    rs = sorted(json.dumps([_map(r["record"], hostile_value, plain_value), sorted(e["field"] for e in r["errors"])],
                           ensure_ascii=False) for r in rejected)
    return fs, rs, sorted(refused)


def _strings(x):
    if isinstance(x, str):
        yield x
    elif isinstance(x, dict):
        for v in x.values():
            yield from _strings(v)
    elif isinstance(x, list):
        for v in x:
            yield from _strings(v)


def engine_outcomes(value: str) -> dict[str, tuple]:
    """The outcome of checking every variant, by path: bulk (all checks) and per record (the shapes)."""
    loaded, refused = LoadResult(), []
    for item in inputs(value):
        try:
            loaded.extend(loaders.load_inputs([item]))
        except InputError as e:     # e.g. a NUL makes a CSV file binary: refused whole, by name
            assert item[0] in str(e)
            refused.append(item[0])
    store = Store(None)
    store.load_ontology()
    store.replace_records(loaded.records)
    rejected = [r.as_dict() for r in loaded.rejected]
    every = [f.as_dict() for f in run_checks(Context(store, loaded.records, AS_OF))]
    shapes_bulk = [f.as_dict() for f in bulk.check(Context(store, loaded.records, AS_OF))]
    shapes_one = [f.as_dict() for f in validate.check_per_record(Context(store, loaded.records, AS_OF))]
    return {"all": (every, rejected), "bulk": (shapes_bulk, rejected), "per-record": (shapes_one, rejected),
            "refused": refused}


_PLAIN: dict[str, dict] = {}


def _plain_outcomes(twin: str) -> dict[str, tuple]:
    if twin not in _PLAIN:
        _PLAIN[twin] = engine_outcomes(twin)
    return _PLAIN[twin]


# Each example checks ~150 records twice (~3 s): a few examples, no shrinking (the failing value
# is in the assertion message).
@settings(max_examples=2, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(value=hostile)
@example(value=KITCHEN_SINK)
@example(value=LONG)
def test_hostile_values_keep_their_findings_on_both_paths(value):
    got = engine_outcomes(value)
    want = _plain_outcomes(plain(value))
    twin = plain(value)
    for path in ("all", "bulk", "per-record"):
        assert (outcome(*got[path], value, twin, got["refused"])
                == outcome(*want[path], twin, twin, want["refused"])), (path, value)
    # The shapes' findings themselves, not only their shape: both paths carry the hostile value intact.
    assert sorted(map(json.dumps, got["bulk"][0])) == sorted(map(json.dumps, got["per-record"][0]))
    carried = [x for f in got["all"][0] for x in _strings(f["evidence"]) if value in x or value.upper() in x]
    assert carried, "no finding carries the value as evidence: the test would prove nothing"


def test_evidence_keeps_every_character_of_a_code():
    """CRD-CODE-INVALID, whose KeyError lost a record's findings: its evidence is the code as written."""
    code = '9153010021658403"\\'
    rec = event_bases()[0]
    rec["handler"] = code
    loaded = loaders.load_inputs([("e", ".json", json.dumps([rec]).encode())])
    store = Store(None)
    store.load_ontology()
    store.replace_records(loaded.records)
    # rules/credit_codes.py is its one implementation, run whichever way the shapes run.
    found = [f for f in credit_codes.check(Context(store, loaded.records, AS_OF)) if f.rule == "CRD-CODE-INVALID"]
    assert [f.evidence for f in found] == [{"code": code, "problem": "charset"}]


# -- through the API and the command line -----------------------------------------------------

MEDIA = {".json": "application/json", ".csv": "text/csv", ".nt": "application/n-triples"}
TOKENS = {"hv-ingest": "ingest", "hv-staff": "staff"}


def _api_outcomes(client, value: str, route: str, headers: dict) -> list[tuple]:
    out = []
    for name, suffix, data in inputs(value)[:5]:
        r = client.post(f"{route}?name={name}{suffix}&asOf={AS_OF}", content=data,
                        headers={"Content-Type": MEDIA[suffix], **headers})
        assert r.status_code in (200, 400), (name, r.text[:500])
        doc = r.json()
        if r.status_code == 400:        # refused whole (a NUL makes a CSV binary): by the input's name
            assert name in doc["detail"]
            out.append(("refused", name))
        else:
            out.append(outcome(doc["findings"], doc["rejected"], value, plain(value)))
    return out


@pytest.mark.parametrize("value", [KITCHEN_SINK])
def test_hostile_values_through_validate_and_records(value):
    twin = plain(value)
    got = {}
    for v in (value, twin):         # each in its own store: rules across records see only its own
        store = Store(None)
        with TestClient(create_app(store, Settings(tokens=dict(TOKENS))), raise_server_exceptions=False) as c:
            got[v] = (_api_outcomes(c, v, "/validate", {}),
                      _api_outcomes(c, v, "/records", {"Authorization": "Bearer hv-ingest"}))
        stored = store.select("SELECT ?e WHERE { GRAPH ?g { ?f prtkg:evidence ?e } }")
        # Stored with their findings: the values are in the findings graph as written.
        assert any(v in x for r in stored for x in _strings(json.loads(str(r["e"])))), v[:40]
    assert got[value] == got[twin]


def _cli_check(folder: Path | str):
    r = CliRunner().invoke(cli_app, ["check", str(folder), "--reference", "none", "--format", "json",
                                     "--as-of", AS_OF.isoformat()])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r


def test_hostile_values_through_prtkg_check(tmp_path, monkeypatch):
    value = KITCHEN_SINK.replace("\x00", "")     # a NUL refuses a CSV file whole: see below
    twin = plain(value)
    docs = {}
    for v in (value, twin):
        folder = tmp_path / ("hostile" if v == value else "plain") / "in"
        folder.mkdir(parents=True)
        for name, suffix, data in inputs(v)[:5]:
            (folder / f"{name}{suffix}").write_bytes(data)
        monkeypatch.chdir(folder.parent)    # records are named by path: the same for both
        r = _cli_check("in")
        assert r.exit_code in (0, 1), r.output[-2000:]
        docs[v] = json.loads(r.stdout)
    assert (outcome(docs[value]["findings"], docs[value]["rejected"], value, twin)
            == outcome(docs[twin]["findings"], docs[twin]["rejected"], twin, twin))


def test_prtkg_check_refuses_a_csv_with_a_nul_by_name(tmp_path):
    (tmp_path / "credit.csv").write_bytes(_csv_variants("credit_ids.csv", "a\x00b"))
    r = _cli_check(tmp_path)
    assert r.exit_code == 2 and "credit.csv" in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("value", ["a\nb", "a\x00b", KITCHEN_SINK])
def test_ids_with_control_characters_are_rejected_by_name(value):
    """An id is the one place a control character is refused: the record, by its id field."""
    ocds, event = ocds_bases()[0], event_bases()[0]
    ocds["ocid"], event["id"] = value, value
    rows = list(csv.reader(io.StringIO((FIX / "csv" / "credit_ids.csv").read_text(encoding="utf-8-sig"))))[:2]
    rows[1][0] = value
    credit = io.StringIO()
    csv.writer(credit, lineterminator="\n").writerows(rows)
    loaded = loaders.load_inputs([("o", ".json", json.dumps([ocds]).encode()), ("e", ".json", json.dumps([event]).encode())])
    if "\x00" in value:            # a CSV file with a NUL is binary: refused whole, by name
        with pytest.raises(InputError, match="^c: binary data"):
            loaders.load_inputs([("c", ".csv", credit.getvalue().encode())])
    else:
        loaded.extend(loaders.load_inputs([("c", ".csv", credit.getvalue().encode())]))
        assert ("c#1", ["id"]) in [(r.record, [e.field for e in r.errors]) for r in loaded.rejected]
    assert not loaded.records
    assert sorted((r.record, [e.field for e in r.errors]) for r in loaded.rejected if r.record != "c#1") == [
        ("e#0", ["id"]), ("o#0", ["ocid"])]


def test_shacl_report_messages_quote_the_value_as_written(tmp_path):
    """`prtkg check --format shacl`: each SPARQL result's zh/en message, filled from its evidence."""
    # GP-OVER-BUDGET quotes the award id: a hostile one must reach both messages intact.
    rec = json.loads((FIX / "rules/GP-OVER-BUDGET/fires/ocds.json").read_text(encoding="utf-8"))
    code = rec["awards"][0]["id"] + '"\\{?code}$1'
    rec["awards"][0]["id"] = code
    (tmp_path / "o.json").write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    r = CliRunner().invoke(cli_app, ["check", str(tmp_path), "--reference", "none", "--format", "shacl",
                                     "--as-of", AS_OF.isoformat()])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    from rdflib.namespace import SH
    messages = {m.language: str(m) for m in Graph().parse(data=r.stdout, format="turtle").objects(None, SH.resultMessage)
                if code in str(m)}
    assert set(messages) == {"en", "zh"}, messages
