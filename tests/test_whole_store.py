"""A check of the whole store asks the store whole (rules/common.py fact_rows): one streamed query with
no list of record graphs, where a check of some records pages their graphs. Both must find the same."""
from __future__ import annotations

import pytest

from prtkg.app.checking import Context, run_checks, stored_records
from prtkg.app.serve import DEMO_AS_OF
from prtkg.context import record_count
from prtkg.rules import cardinal_tallies, common

ROWS = "SELECT ?g ?kind WHERE { %s GRAPH ?g { ?g prtkg:recordKind ?kind } } ORDER BY ?g"


def test_stream_reads_the_rows_select_reads(backend):
    store = backend()
    store.update("INSERT DATA { GRAPH <urn:t:a> { <urn:t:a> prtkg:recordKind \"ocds\" } "
                 "GRAPH <urn:t:b> { <urn:t:b> prtkg:recordKind \"csv\" } }")
    streamed = store.stream(ROWS % "")
    assert next(streamed) == {"g": "urn:t:a", "kind": "ocds"}       # a row before the answer is read whole
    assert [{"g": "urn:t:a", "kind": "ocds"}, *streamed] == store.select(ROWS % "")
    assert record_count(store) == 2


def test_only_a_check_of_every_stored_record_covers_the_store(demo_store):
    records = stored_records(demo_store)
    assert Context(demo_store, records, DEMO_AS_OF).covers_store()
    assert not Context(demo_store, records[:-1], DEMO_AS_OF).covers_store()
    assert not Context(demo_store, [], DEMO_AS_OF).covers_store()


def test_a_whole_store_check_finds_what_a_paged_one_finds(demo_store, monkeypatch):
    records = stored_records(demo_store)
    asked_whole: list[str] = []
    stream = type(demo_store).stream

    def spy(store, query):
        asked_whole.append(query)
        return stream(store, query)

    monkeypatch.setattr(type(demo_store), "stream", spy)
    whole = run_checks(Context(demo_store, records, DEMO_AS_OF))
    assert asked_whole, "a check of the whole store asked no fact query whole"
    # The same records in several pages, each asked with its VALUES ?g.
    monkeypatch.setattr(Context, "covers_store", lambda self: False)
    monkeypatch.setattr(common, "PAGE", 97)
    asked_whole.clear()
    paged = run_checks(Context(demo_store, records, DEMO_AS_OF))
    # The whole reads of a paged check: the outlier flags' population counts stored per record and
    # the records' digests they are checked against (rules/cardinal_tallies.py), which stand in for
    # the records not under check.
    assert [q for q in asked_whole if cardinal_tallies.GRAPH not in q and q != cardinal_tallies._CURRENT] == []
    assert sorted(f.as_dict()["id"] for f in whole) == sorted(f.as_dict()["id"] for f in paged)
    assert sorted(f.key for f in whole) == sorted(f.key for f in paged)
    assert len(whole) > 20


def test_a_rotation_reads_each_tender_with_all_its_bidders(tmp_path, monkeypatch):
    """RISK-BID-ROTATION in a whole-store check reads only the tenders that can make a group, in a
    check of some records the tenders of their bidders; a tender of the group's bidders with one
    bidder more is not of the group, whole, paged or checked alone."""
    import copy
    import datetime as dt
    import json
    from pathlib import Path

    from prtkg.app import checking
    from prtkg.rules import risk

    fixture = json.loads((Path(__file__).parent / "fixtures" / "rules" / "ocds.json").read_text(encoding="utf-8"))
    rotation = [r for r in fixture["releases"] if r["ocid"].startswith("ocds-risk-rotation-")]
    assert len(rotation) == 3
    more = copy.deepcopy(rotation[0])
    more["ocid"], more["id"] = "ocds-risk-rotation-more", "ocds-risk-rotation-more-1"
    stranger = next(p for r in fixture["releases"] for p in r["parties"]
                    if p["id"] == "S" and p.get("identifier"))
    more["parties"].append({**stranger, "roles": ["tenderer"]})
    more["bids"]["details"].append({"id": "b4", "status": "valid", "date": "2026-03-10",
                                    "value": {"amount": 400, "currency": "CNY"}, "tenderers": [{"id": "S"}]})
    path = tmp_path / "ocds.json"
    path.write_text(json.dumps({**fixture, "releases": [*rotation, more]}), encoding="utf-8")
    result = checking.check([path], reference=None, as_of=dt.date(2026, 11, 25))
    ctx = Context(result.store, stored_records(result.store), dt.date(2026, 11, 25))
    assert ctx.covers_store()
    whole = [f for f in risk.check(ctx) if f.rule == "RISK-BID-ROTATION"]
    first = [r for r in stored_records(result.store) if r.id == "ocds-risk-rotation-0"]
    alone = [f for f in risk.check(Context(result.store, first, dt.date(2026, 11, 25))) if f.rule == "RISK-BID-ROTATION"]
    monkeypatch.setattr(Context, "covers_store", lambda self: False)
    paged = [f for f in risk.check(Context(result.store, stored_records(result.store), dt.date(2026, 11, 25)))
             if f.rule == "RISK-BID-ROTATION"]
    assert [f.evidence["tenders"] for f in whole] == [f.evidence["tenders"] for f in paged] \
        == [f.evidence["tenders"] for f in alone] == [["ocds-risk-rotation-0", "ocds-risk-rotation-1", "ocds-risk-rotation-2"]]


def test_the_predicates_a_query_names_are_read_into_memory():
    """rules/common.named_predicates: what prtkg.packed.subset keeps of a page (cardinal's pages);
    a superset is harmless, a predicate missed would silently drop its triples."""
    from prtkg import rdf
    query = """SELECT ?s WHERE { GRAPH ?g { ?s a prtkg:Tender ; prtkg:status "x:y" ; <http://e.example/p> ?o .
      ?o rdfs:label ?data ; prtkg:hasItem/prtkg:classificationId ?c } }"""
    named = common.named_predicates(query)
    assert {rdf.RDF_TYPE.value, rdf.PRTKG + "status", "http://e.example/p", rdf.RDFS + "label",
            rdf.PRTKG + "hasItem", rdf.PRTKG + "classificationId"} <= named
    assert not any(iri.endswith(("y", "data")) for iri in named)   # a literal's text, a variable: no IRIs
    assert rdf.RDF_TYPE.value not in common.named_predicates("SELECT ?a WHERE { ?a prtkg:status ?data }")
