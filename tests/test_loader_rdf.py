"""RDF files: Turtle, N-Triples, JSON-LD; syntax errors by line; no writing outside the file's graph."""
from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode

from prtkg import rdf
from prtkg.errors import InputError
from prtkg.loaders import RDF_SUFFIXES, load_bytes, load_paths, rdffiles
from prtkg.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "rdf"


def load(name: str):
    path = FIXTURES / name
    return rdffiles.load(path.read_bytes(), name, RDF_SUFFIXES[path.suffix])


@pytest.mark.parametrize("name, triples", [("departments.ttl", 10), ("departments.nt", 2),
                                           ("departments.jsonld", 4)])
def test_each_format_is_one_record_in_its_own_graph(name, triples):
    result = load(name)
    assert result.rejected == []
    [record] = result.records
    assert (record.id, record.kind, record.source) == (name, "rdf", name)
    assert record.graph.graph == NamedNode(f"urn:prtkg:graph:rdf:{name}")
    assert len(record.graph) == triples


def test_jsonld_terms_are_expanded():
    [record] = load("departments.jsonld").records
    centre = rdf.entity("125300000152347234")
    assert (centre, rdf.RDF_TYPE, rdf.p("TradingCentre")) in record.graph.triples
    assert (centre, rdf.p("name"), Literal("云南省公共资源交易中心")) in record.graph.triples


def test_blank_nodes_are_renamed_per_load():
    # Two files using _:b0 must not merge their blank nodes in the store.
    a = load("departments.ttl").records[0]
    b = load("departments.ttl").records[0]
    blank_a = {o for _, _, o in a.graph.triples if isinstance(o, BlankNode)}
    blank_b = {o for _, _, o in b.graph.triples if isinstance(o, BlankNode)}
    assert len(blank_a) == 1 and blank_a != blank_b


def test_named_graphs_are_put_in_the_records_own_graph():
    [record] = load("graphs.jsonld").records
    store = Store(None)
    store.replace_records([record], agent="test")
    assert list(store.named_graphs()) == ["urn:prtkg:graph:rdf:graphs.jsonld"]
    rows = store.select("SELECT ?g WHERE { GRAPH ?g { ?s prtkg:name \"某公司\" } }")
    assert rows == [{"g": "urn:prtkg:graph:rdf:graphs.jsonld"}]


def test_findings_and_provenance_cannot_be_injected():
    result = load("finding.ttl")
    assert result.records == []
    [rejection] = result.rejected
    assert rejection.record == "finding.ttl"
    assert [(e.field, e.error) for e in rejection.errors] == [
        ("<https://w3id.org/prtkg/id/finding/abc>", "findings are made by prtkg's rules and cannot be loaded"),
        ("<urn:prtkg:graph:ocds:ocds-x-1>", "statements about prtkg's own graphs (urn:prtkg:...) cannot be loaded"),
    ]


@pytest.mark.parametrize("term", [t.value.rsplit("#", 1)[1] for t in rdf.CALENDAR_TERMS])
def test_a_record_cannot_forge_a_calendar_day(term):
    """A node with a date and a day number / working-day ordinal of its own would be taken for a day of
    the official calendar by the deadline shapes: refused, naming the term. A plain prtkg:date is data."""
    text = (f"@prefix prtkg: <{rdf.PRTKG}> .\n"
            f'<d1> prtkg:date "2026-10-01"^^<http://www.w3.org/2001/XMLSchema#date> ; prtkg:{term} 1 .\n')
    result = rdffiles.load(text.encode(), "forged-day.ttl", "text/turtle")
    assert result.records == []
    [rejection] = result.rejected
    assert [(e.field, e.error) for e in rejection.errors] == [
        (f"<{rdf.PRTKG}{term}>", "computed by prtkg's working-day calendar from the official holiday "
                                 "schedule; a record cannot state it")]
    plain = f'@prefix prtkg: <{rdf.PRTKG}> .\n<d1> prtkg:date "2026-10-01" .\n'
    assert rdffiles.load(plain.encode(), "dated.ttl", "text/turtle").records


def test_relative_iris_resolve_against_the_files_place():
    [record] = load("relative.ttl").records
    [(s, _, _)] = record.graph.triples
    assert s == NamedNode("https://w3id.org/prtkg/id/rdf/relative.ttl/dept-1")


@pytest.mark.parametrize("name, message", [
    ("broken.ttl", "broken.ttl: not valid Turtle at line 4 column 66: . is not a valid RDF object"),
    ("remote_context.jsonld", "remote_context.jsonld: not valid JSON-LD: it names a remote @context, which is "
                              "never fetched (no network at run time); put the context inline"),
])
def test_unusable_files(name, message):
    with pytest.raises(InputError) as e:
        load(name)
    assert str(e.value) == message


def test_jsonld_syntax_error_names_its_line():
    with pytest.raises(InputError) as e:
        rdffiles.load(b'{"@id": "http://a",\n "http://p": [1,\n}', "x.jsonld", "application/ld+json")
    assert str(e.value) == "x.jsonld: not valid JSON-LD at line 3 column 1: Unexpected closing curly bracket, no array to close"


def test_ntriples_with_a_relative_iri_is_a_syntax_error():
    with pytest.raises(InputError) as e:
        rdffiles.load(b"<a> <b> <c> .\n", "x.nt", "application/n-triples")
    assert str(e.value) == "x.nt: not valid N-Triples at line 1 between columns 1 and 4: No scheme found in an absolute IRI"


def test_gbk_turtle_is_refused_like_every_other_text():
    data = (FIXTURES / "departments.ttl").read_text(encoding="utf-8").encode("gbk")
    with pytest.raises(InputError) as e:
        rdffiles.load(data, "gbk.ttl", "text/turtle")
    assert "GBK" in str(e.value)


def test_through_the_dispatcher_by_suffix_and_by_media_type():
    result = load_paths([FIXTURES / "departments.ttl", FIXTURES / "departments.nt"])
    assert sorted(len(r.graph) for r in result.records) == [2, 10]
    body = (FIXTURES / "departments.jsonld").read_bytes()
    [record] = load_bytes(body, "body", "application/ld+json; charset=utf-8").records
    assert record.graph.graph == NamedNode("urn:prtkg:graph:rdf:body")
