"""Stored findings read as PROV entities of a check run and as SHACL validation results (issue 22, item 4)."""
from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

from prtkg import casework, findings
from prtkg.app.checking import Context, check, run_checks, stored_records

FIX = Path(__file__).parent / "fixtures"
AS_OF = dt.date(2026, 6, 1)

# Every finding with what SHACL and PROV readers need, joined to its run and to its record's graph.
EACH = """
PREFIX sh: <http://www.w3.org/ns/shacl#>
SELECT ?f ?id ?sev ?shsev ?focus ?run ?end ?asof ?agent ?g ?msgzh ?msgen WHERE {
  GRAPH <urn:prtkg:findings> {
    ?f a prtkg:Finding , sh:ValidationResult ; prtkg:findingId ?id ; prtkg:severity ?sev ;
       prtkg:record ?rid ; sh:resultSeverity ?shsev ; sh:focusNode ?focus ; prtkg:focus ?focus ;
       prov:wasGeneratedBy ?run ; prov:wasDerivedFrom ?g .
    ?f sh:resultMessage ?msgzh . FILTER(LANG(?msgzh) = "zh")
    ?f sh:resultMessage ?msgen . FILTER(LANG(?msgen) = "en")
    ?run a prov:Activity ; prov:endedAtTime ?end ; prtkg:asOf ?asof ; prov:wasAssociatedWith ?agent .
    ?agent a prov:SoftwareAgent .
  }
  GRAPH ?g { ?g a prov:Entity ; prtkg:recordId ?rid }
}"""

SEVERITY = {"violation": "Violation", "warning": "Warning", "info": "Info"}


def works(ocid: str, region: str, bid_days: int) -> dict:
    """The clean works record with a bid period of `bid_days` days (BID-PERIOD-20D fires below 20)."""
    r = copy.deepcopy(json.loads((FIX / "shapes" / "works-base.json").read_text(encoding="utf-8")))
    r["ocid"], r["id"] = ocid, ocid + "-1"
    r["tender"]["regionCode"] = region
    start = dt.datetime.fromisoformat(r["tender"]["tenderPeriod"]["startDate"])
    r["tender"]["tenderPeriod"]["endDate"] = (start + dt.timedelta(days=bid_days)).isoformat()
    return r


def assert_readable(store, found) -> list[dict]:
    rows = store.select(EACH)
    by_id = {r["id"]: r for r in rows}
    with_focus = [f for f in found if f.focus]
    assert with_focus and {f.id for f in with_focus} <= by_id.keys()
    for f in with_focus:
        row = by_id[f.id]
        assert row["sev"] == f.severity
        assert row["shsev"] == "http://www.w3.org/ns/shacl#" + SEVERITY[f.severity]
        assert row["focus"] == f.focus
        assert row["msgzh"] == f.message["zh"] and row["msgen"] == f.message["en"]
    return rows


def test_a_checked_store_holds_each_finding_as_a_shacl_result_of_its_run(tmp_path):
    path = tmp_path / "works.json"
    path.write_text(json.dumps(works("ocds-prov-a", "530102", 10), ensure_ascii=False), encoding="utf-8")
    result = check([path], reference=None, as_of=AS_OF)
    assert any(f.rule == "BID-PERIOD-20D" for f in result.findings)
    rows = assert_readable(result.store, result.findings)
    assert {r["asof"] for r in rows} == {AS_OF} and len({r["run"] for r in rows}) == 1
    # the run also says when it started, no later than it ended
    (run,) = {r["run"] for r in rows}
    (started,) = result.store.select(f"SELECT ?s WHERE {{ GRAPH ?x {{ <{run}> prov:startedAtTime ?s }} }}")
    assert started["s"] <= rows[0]["end"]
    # a finding a shape made names the shape; one the engine made (DATA-INSUFFICIENT here) names none
    shapes = {r["f"]: r["shape"] for r in result.store.select(
        "PREFIX sh: <http://www.w3.org/ns/shacl#> "
        "SELECT ?f ?shape WHERE { GRAPH <urn:prtkg:findings> { ?f sh:sourceShape ?shape } }")}
    expect = {casework.node(f.id).value: f.shape for f in result.findings if f.shape}
    assert shapes == expect and "https://w3id.org/prtkg/shapes#BidPeriod20D" in shapes.values()
    assert any(not f.shape for f in result.findings)


def test_ingested_findings_and_a_cross_record_one_name_their_record_graphs():
    from prtkg import loaders
    from prtkg.store import Store

    store = Store(None)
    store.load_ontology()
    for ocid, region in (("ocds-prov-km", "530102"), ("ocds-prov-qj", "530300")):
        data = json.dumps(works(ocid, region, 10), ensure_ascii=False).encode()
        store.replace_records(loaders.load_bytes(data, ocid + ".json", "application/json").records)
    records = {r.id: r for r in stored_records(store)}
    km = run_checks(Context(store, [records["ocds-prov-km"]], AS_OF))
    qj = run_checks(Context(store, [records["ocds-prov-qj"]], AS_OF))
    # a check of one record that (as a cross-record rule may) also finds about the other
    casework.record_check(store, [records["ocds-prov-km"]], km + qj, AS_OF)
    rows = assert_readable(store, km + qj)
    graphs = {r["id"]: r["g"] for r in rows}
    for f in km + qj:
        if f.focus:
            assert graphs[f.id] == records[f.record].graph.graph.value


def test_every_severity_has_a_shacl_severity():
    assert set(findings.SHACL_SEVERITY) == set(findings.SEVERITY_ORDER)


def test_a_recheck_leaves_no_run_that_generated_nothing():
    from prtkg import loaders
    from prtkg.store import Store

    store = Store(None)
    data = json.dumps(works("ocds-prov-re", "530102", 10), ensure_ascii=False).encode()
    store.replace_records(loaders.load_bytes(data, "re.json", "application/json").records)
    (record,) = stored_records(store)
    found = run_checks(Context(store, [record], AS_OF))
    runs = "SELECT ?run WHERE { GRAPH <urn:prtkg:findings> { ?run a prov:Activity } }"
    casework.record_check(store, [record], found, AS_OF, dt.datetime(2026, 6, 1, 9, tzinfo=dt.timezone.utc))
    (first,) = store.select(runs)
    casework.record_check(store, [record], found, AS_OF, dt.datetime(2026, 6, 2, 9, tzinfo=dt.timezone.utc))
    (second,) = store.select(runs)
    assert first != second
    gen = store.select("SELECT DISTINCT ?run WHERE { GRAPH <urn:prtkg:findings> { ?f prov:wasGeneratedBy ?run } }")
    assert gen == [second]
