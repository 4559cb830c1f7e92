"""Bulk validation (shapes compiled to SPARQL, run in the store) against pySHACL per record.

The differential tests put the boundary cases of tests/test_shapes.py side by side in one store
(each variant under its own ocid) and demand exactly the same findings -- rule, record, focus,
evidence, message -- and the same DATA-INSUFFICIENT entries from both paths.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from rdflib.namespace import RDF, RDFS

from prtkg import loaders, packed
from prtkg.catalogue import catalogue
from prtkg.app.checking import Context, bundled
from prtkg.store import Store
from prtkg import shapes
from prtkg.shapes import bulk, calendar_graph, validate

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"


def base(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}-base.json").read_text(encoding="utf-8"))


def t(day: str) -> str:
    return f"{day}T10:00:00+08:00"


def _variant(name: str, tag: str, change) -> dict:
    rec = base(name)
    rec["ocid"] = f"{rec['ocid']}-{tag}"
    change(rec)
    return rec


def _set(path: str, value):
    def change(rec):
        node = rec
        *head, last = path.split(".")
        for key in head:
            node = node[int(key)] if key.isdigit() else node[key]
        node[last] = value
    return change


def _drop(*paths: str):
    def change(rec):
        for path in paths:
            node = rec
            *head, last = path.split(".")
            for key in head:
                node = node[int(key)] if key.isdigit() else node[key]
            del node[int(last) if last.isdigit() else last]
    return change


def _complaint(i: int, **fields) -> dict:
    return {"recordType": "complaint", "id": f"cmp-{i}", "project": "ocds-p7x2k1-shp-works",
            "complainant": "91530100MA6K123497", "handler": "12530000MB12345624", **fields}


def _inspection(i: int, **fields) -> dict:
    return {"recordType": "inspection", "id": f"ins-{i}", "target": "91530100MA6K123497",
            "departments": ["12530000MB12345624"], **fields}


def fixture_items() -> list[dict]:
    """One record per boundary case of tests/test_shapes.py, plus the clean bases."""
    works = [
        ("period", _set("tender.tenderPeriod.endDate", t("2026-03-21"))),
        ("clarify", _set("tender.amendments", [{"id": "am1", "date": t("2026-03-08"), "description": "c"}])),
        ("bids", lambda r: r["bids"].__setitem__("details", r["bids"]["details"][:2])),
        ("withdrawn", _set("bids.details.2.status", "withdrawn")),
        ("publicity-late", lambda r: (r["tender"].__setitem__("candidatePublicity",
                                                              {"startDate": "2026-03-27", "endDate": "2026-03-30"}),
                                      _set("awards.0.date", t("2026-03-31"))(r))),
        ("publicity-short", _set("tender.candidatePublicity", {"startDate": "2026-03-24", "endDate": "2026-03-26"})),
        ("publicity-award", lambda r: (r["tender"].__setitem__("candidatePublicity",
                                                               {"startDate": "2026-03-24", "endDate": "2026-03-27"}),
                                       _set("awards.0.date", t("2026-03-27"))(r))),
        ("publicity-missing", _drop("tender.candidatePublicity", "awards", "contracts")),
        ("contract-late", _set("contracts.0.dateSigned", t("2026-04-30"))),
        ("contract-missing", _drop("contracts")),
        ("must-tender", lambda r: r["tender"].update(mainProcurementCategory="works", procurementMethod="limited",
                                                     value={"amount": 4000000.0, "currency": "CNY"})),
        ("must-goods", lambda r: r["tender"].update(mainProcurementCategory="goods", procurementMethod="direct",
                                                    value={"amount": 2000000, "currency": "CNY"})),
        ("remote", _set("tender.evaluation", {"mode": "remote", "reportDate": "2026-03-23",
                                              "primaryVenue": {"regionCode": "530300", "supervisor": "sup"},
                                              "secondaryVenues": [{"regionCode": "530300"}, {"supervisor": "sup"}]})),
        ("remote-none", _set("tender.evaluation", {"mode": "remote", "reportDate": "2026-03-23",
                                                   "secondaryVenues": []})),
        ("no-result-notice", _drop("awards.0.documents")),
        ("bad-uscc", _set("parties.0.identifier.id", "91530100MA6K123498")),
    ]
    gp = [
        ("period", _set("tender.tenderPeriod.endDate", t("2026-09-20"))),
        ("limited", lambda r: (_set("tender.procurementMethod", "limited")(r),
                               _set("tender.tenderPeriod.endDate", t("2026-09-05"))(r))),
        ("result-late", _set("awards.0.documents.0.datePublished", t("2026-10-09"))),
        ("result-missing", _drop("awards.0.documents", "contracts")),
        ("contract-30", lambda r: (_set("contracts.0.dateSigned", t("2026-10-30"))(r),
                                   _set("contracts.0.documents.0.datePublished", t("2026-10-30"))(r))),
        ("contract-pub", lambda r: (_set("contracts.0.dateSigned", t("2026-10-08"))(r),
                                    _set("contracts.0.documents.0.datePublished", t("2026-10-11"))(r))),
        ("over-budget", _set("awards.0.value.amount", 1000001)),
        ("clarify", _set("tender.amendments", [{"id": "am1", "date": t("2026-09-07"), "description": "c"}])),
        # award 2026-09-01: day 30 is 1 Oct, extended to 8 Oct (民法典 art. 203); signed on 9 Oct
        ("contract-extended", lambda r: (_set("awards.0.date", t("2026-09-01"))(r),
                                         _set("contracts.0.dateSigned", t("2026-10-09"))(r))),
        ("notice-late", _set("tender.documents.0.datePublished", t("2026-09-02"))),
        ("notice-missing", _drop("tender.documents", "awards", "contracts")),
        ("no-contract-doc", _drop("contracts.0.documents")),
        ("no-trade-type", _drop("tender.tradeType")),
    ]
    items = [base("works"), base("gp")]
    items += [_variant("works", tag, change) for tag, change in works]
    items += [_variant("gp", tag, change) for tag, change in gp]
    items += [
        _complaint(1, tradeType="works", receivedDate="2026-09-29", acceptedDate="2026-10-10",
                   decisionDate="2026-10-10"),
        _complaint(2, tradeType="government-procurement", receivedDate="2026-09-29", acceptedDate="2026-10-13",
                   decisionDate="2026-11-17"),
        _complaint(3, tradeType="works", receivedDate="2026-11-10"),
        _complaint(4, receivedDate="2026-09-29", acceptedDate="2026-10-10"),          # trade type of its project
        _complaint(5, project="ocds-nowhere", receivedDate="2026-09-29"),             # none: insufficient
        _complaint(6, tradeType="works", receivedDate="2026-01-05", rejectedDate="2026-01-06"),
        _inspection(1, date="2026-02-10", resultPublishedDate="2026-03-17"),
        _inspection(2, date="2031-02-10"),                                            # calendar unknown
        _inspection(3, date="2026-02-10", resultPublishedDate="2026-02-11", target="91530100MA6K1234I7"),
        _inspection(4, date="2026-02-10", resultPublishedDate="2026-02-11", target="91530100MA6K12349"),
    ]
    return items


def _store(records) -> Store:
    store = Store(None)
    store.load_ontology()
    store.replace_records(records)
    return store


def _both(store, records, as_of):
    """(per-record findings, bulk findings), each with its DATA-INSUFFICIENT entries, as comparable rows."""
    out = []
    for run in (validate.check_per_record, bulk.check):
        ctx = Context(store, records, as_of)
        ctx.applicable("BID-PERIOD-20D")       # applicability first, as in run_checks
        found = list(run(ctx)) + ctx.insufficient.findings()
        out.append(sorted(json.dumps([f.rule, f.record, f.focus, f.evidence, f.message], sort_keys=True,
                                     ensure_ascii=False) for f in found))
    return out


@pytest.fixture(scope="module")
def fixture_records(tmp_path_factory):
    path = tmp_path_factory.mktemp("bulk") / "items.json"
    path.write_text(json.dumps(fixture_items(), ensure_ascii=False), encoding="utf-8")
    loaded = loaders.load_paths([path, FIXTURES / "plain-ocds.json"])
    assert not loaded.rejected, loaded.rejected
    return loaded.records


@pytest.mark.parametrize("as_of", [dt.date(2026, 11, 25), dt.date(2026, 10, 9), dt.date(2026, 3, 27),
                                   dt.date(2031, 6, 1)])
def test_bulk_and_per_record_agree_on_the_shape_fixtures(fixture_records, as_of):
    store = _store(fixture_records)
    per_record, compiled = _both(store, fixture_records, as_of)
    assert compiled == per_record
    rules = {json.loads(row)[0] for row in compiled}
    if as_of == dt.date(2026, 11, 25):
        # The comparison is only worth something if the fixtures make the rules fire.
        assert {r.id for r in catalogue().values() if r.is_shape} | {"DATA-INSUFFICIENT"} <= rules


def test_a_subclass_in_a_record_makes_its_instances_focus_nodes_in_bulk_too(fixture_records):
    # Bulk queries drop rdfs:subClassOf* from rdf:type when the scratch store holds no subClassOf
    # triple; a record that brings one must still have its subclass's instances checked.
    import pyoxigraph as ox
    store = _store(fixture_records)
    graph = fixture_records[0].graph.graph
    ex, prtkg = "urn:example:", "https://w3id.org/prtkg/ontology#"
    store.add_quads([ox.Quad(ox.NamedNode(ex + "sub-project"), ox.NamedNode(str(RDF.type)), ox.NamedNode(ex + "Sub"), graph),
                     ox.Quad(ox.NamedNode(ex + "Sub"), ox.NamedNode(str(RDFS.subClassOf)), ox.NamedNode(prtkg + "Project"), graph),
                     ox.Quad(ox.NamedNode(ex + "sub-project"), ox.NamedNode(prtkg + "tradeType"), ox.NamedNode(ex + "no-trade"), graph)])
    # An edit in place drops the graph's packed copy, as prtkg/packed.py asks: the graph is then read
    # triple by triple; packed again, the same.
    store.update(f"DELETE WHERE {{ GRAPH {graph} {{ {graph} prtkg:packedContent ?p }} }}")
    per_record, compiled = _both(store, fixture_records, dt.date(2026, 11, 25))
    assert compiled == per_record
    assert any(json.loads(row)[2] == ex + "sub-project" for row in compiled)
    assert packed.ensure(store) == 1
    assert _both(store, fixture_records, dt.date(2026, 11, 25))[1] == compiled


def test_unknown_calendar_year_is_insufficient_in_bulk_too(fixture_records):
    store = _store(fixture_records)
    ctx = Context(store, fixture_records, dt.date(2031, 6, 1))
    ctx.applicable("BID-PERIOD-20D")
    bulk.check(ctx)
    ins = {f.record: f for f in ctx.insufficient.findings()}
    assert ins["ins-2"].evidence["byRule"] == {"INS-PUBLISH-20WD": ["working-day calendar 2031"]}


def test_scratch_graphs_are_removed_and_the_calendar_is_kept(fixture_records):
    store = _store(fixture_records)
    before = set(store.named_graphs())
    bulk.check(Context(store, fixture_records, dt.date(2026, 11, 25)))
    after = set(store.named_graphs())
    assert after - before == {calendar_graph.CALENDAR_GRAPH}
    # Its ordinals are the calendar's: 2026-10-08 is the first working day after National Day.
    rows = store.select(f"""SELECT ?d ?o ?n WHERE {{ GRAPH <{calendar_graph.CALENDAR_GRAPH}> {{
        ?day prtkg:date ?d ; prtkg:workdayOrdinal ?o ; prtkg:workdayOrdinalNext ?n
        FILTER(?d IN ("2026-09-30"^^xsd:date, "2026-10-01"^^xsd:date, "2026-10-08"^^xsd:date)) }} }}""")
    got = {r["d"].isoformat(): (r["o"], r["n"]) for r in rows}
    o = got["2026-09-30"][0]
    assert got == {"2026-09-30": (o, o), "2026-10-01": (o, o + 1), "2026-10-08": (o + 1, o + 1)}


def test_worker_processes_over_a_snapshot_give_the_same_findings(fixture_records, backend_name, backend, tmp_path, monkeypatch):
    # Both cores: pages of records validated in worker processes reading a checkpoint of the
    # on-disk store, or asking the same SPARQL server (remote mode computes there, on both cores too).
    # Small pages, so every worker gets several; nothing left behind in the folder.
    store = backend()
    store.load_ontology()
    store.replace_records(fixture_records)
    monkeypatch.setattr(bulk, "WORKERS", 2)
    monkeypatch.setattr(bulk, "PARALLEL_MIN", 1)
    monkeypatch.setattr(bulk, "CHUNK", 7)
    calls, timings = [], []
    real = bulk._validate_parallel

    def spy(ctx, workers):
        calls.append(workers)
        out = real(ctx, workers)
        timings.append(out[1])
        return out
    monkeypatch.setattr(bulk, "_validate_parallel", spy)
    per_record, compiled = _both(store, fixture_records, dt.date(2026, 11, 25))
    assert calls == [2]
    assert compiled == per_record
    assert timings[0][bulk.WORKER_CPU] > 0     # the workers' CPU, which the bench reads
    if backend_name == "embedded":
        assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


def test_the_check_picks_the_path_by_record_count(fixture_records, monkeypatch):
    used = []
    monkeypatch.setattr(bulk, "check", lambda ctx: used.append("bulk") or [])
    monkeypatch.setattr(validate, "check_per_record", lambda ctx: used.append("per-record") or [])
    store = _store(fixture_records)
    shapes.check(Context(store, fixture_records[:1], dt.date(2026, 11, 25)))
    shapes.check(Context(store, fixture_records[:shapes.BULK_MIN_RECORDS], dt.date(2026, 11, 25)))
    assert used == ["per-record", "bulk"]


def test_core_components_compile_to_their_sparql_definitions():
    queries = {q.label: q.text for q in bulk.compiled()}
    assert "HAVING (COUNT(DISTINCT ?__v) > 1)" in queries["TenderValue maxCount"]
    assert "HAVING (COUNT(DISTINCT ?__v) < 1)" in queries["ComplaintReceived minCount"]
    assert "COALESCE(?value >= " in queries["TenderValue minInclusive"]
    assert "(<https://w3id.org/prtkg/ontology#acceptedDate>|" in queries["ComplaintDates datatype"]
    assert "EXISTS { ?value <http://www.w3.org/2004/02/skos/core#inScheme>" in queries["ProjectTradeType node"]


def test_an_uncompiled_component_is_a_clear_error():
    from rdflib import Graph
    g = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:s> a sh:NodeShape ; sh:targetClass <urn:C> ; sh:property <urn:p> .
        <urn:p> sh:path <urn:q> ; sh:uniqueLang true .""", format="turtle")
    from rdflib import URIRef
    with pytest.raises(bulk.NotCompiled, match="uniqueLang"):
        bulk._property_queries(g, URIRef("urn:s"), URIRef("urn:p"), bulk._targets(g, URIRef("urn:s")))


def test_bulk_and_per_record_agree_on_the_demo():
    # The differential of issue #7 on the whole demo (~30 s): by default, so CI runs it.
    ref = loaders.load_paths([bundled("reference")])
    demo = loaders.load_paths([bundled("demo")])
    records = ref.records + demo.records
    store = _store(records)
    per_record, compiled = _both(store, records, dt.date(2026, 11, 25))
    assert compiled == per_record
    # The demo plants some 40 shape violations (fewer since tender rules skip direct awards); the two
    # paths must see them all.
    assert len(compiled) > 30
