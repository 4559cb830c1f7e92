"""The packed copy of each record's own triples (prtkg/packed.py): written with the record on every
backend, replaced and dropped with it, hidden from the record page, made for a store from before it,
and, wherever it is missing or unreadable, the record read triple by triple with the same result."""
from __future__ import annotations

import pyoxigraph as ox
import pytest

from prtkg import derived, packed, rdf
from prtkg.records import Record
from prtkg.record_view import view
from prtkg.store.remote import CHUNK, _blocks


def _record(rid: str, title: str, parties: int = 0) -> Record:
    g = rdf.RecordGraph(rdf.graph_iri("ocds", rid))
    node = rdf.iri("project", rid)
    g.type(node, "Project")
    g.add(node, "ocid", rid)
    g.add(node, "title", title)
    for i in range(parties):
        g.add(node, "hasParty", rdf.entity(f"E{i}"))
    return Record(rid, "ocds", g, f"test.json#{rid}", "sha256:" + title, node)


def _lines(text: bytes) -> set[str]:
    return {line for line in text.decode("utf-8").splitlines() if line.strip()}


def _content(store, graph: ox.NamedNode) -> set[str]:
    """The graph's triples but its provenance, as N-Quads lines."""
    rows = store.raw_query(f"SELECT ?s ?p ?o WHERE {{ GRAPH {graph} {{ ?s ?p ?o FILTER(?s != {graph}) }} }}")
    return {f"{row['s']} {row['p']} {row['o']} {graph} ." for row in rows}


def test_a_record_is_written_with_its_packed_copy_and_replaced_with_it(any_backend):
    store = any_backend()
    a, b = _record("ocds-p-1", "旧 \"quoted\" title", parties=3), _record("ocds-p-2", "other")
    store.replace_records([a, b], agent="user:alice")
    ga, gb = a.graph.graph, b.graph.graph
    texts = packed.read(store, [ga, gb])
    assert _lines(texts[ga]) == _content(store, ga) and len(_lines(texts[ga])) > 5
    assert _lines(texts[gb]) == _content(store, gb)
    # provenance is not in it, the loading agent is (bulk validation reads it as a record's triple)
    assert not any(line.startswith(str(ga)) for line in _lines(texts[ga]))
    assert all(line.endswith(f"{ga} .") for line in _lines(texts[ga]))
    assert any("agent" in line for line in _lines(texts[ga]))

    store.replace_records([_record("ocds-p-1", "new")])
    text = packed.read(store, [ga])[ga].decode("utf-8")
    assert '"new"' in text and "旧" not in text and "hasParty" not in text
    assert store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {ga} {{ ?g prtkg:packedContent ?p }} }}")[0]["n"] == 1


def test_a_store_from_before_packed_copies_is_packed_once(backend):
    store = backend()
    store.load_ontology()
    records = [_record(f"ocds-q-{i}", f"t{i}", parties=i) for i in range(4)]
    store.replace_records(records)
    expected = packed.read(store, [r.graph.graph for r in records])
    store.update("DELETE WHERE { GRAPH ?g { ?g prtkg:packedContent ?p } }")
    assert packed.read(store, [r.graph.graph for r in records]) == {}
    assert derived.ensure(store) is True
    again = packed.read(store, [r.graph.graph for r in records])
    assert {g: _lines(t) for g, t in again.items()} == {g: _lines(t) for g, t in expected.items()}
    assert packed.ensure(store) == 0        # nothing left to pack
    assert derived.ensure(store) is False


def test_an_unreadable_packed_copy_is_left_out(backend):
    store = backend()
    good, bad = _record("ocds-r-1", "good"), _record("ocds-r-2", "bad")
    store.replace_records([good, bad])
    g = bad.graph.graph
    store.update(f'DELETE WHERE {{ GRAPH {g} {{ {g} prtkg:packedContent ?p }} }} ;\n'
                 f'INSERT DATA {{ GRAPH {g} {{ {g} prtkg:packedContent "not base64 at all" }} }}')
    assert set(packed.read(store, [good.graph.graph, g])) == {good.graph.graph}


def test_the_record_page_does_not_show_the_packed_copy(backend):
    store = backend()
    store.replace_records([_record("ocds-s-1", "shown")])
    page = view(store, "ocds-s-1")
    assert page is not None
    assert "packedContent" not in repr(page) and "shown" in repr(page)


def test_insert_data_blocks_keep_each_blank_node_in_one_block():
    # SPARQL scopes a blank node label to its INSERT DATA: the ontology's lists and restrictions,
    # split at a block's boundary, made Oxigraph refuse the whole update.
    g = ox.NamedNode("urn:test:g")
    p = ox.NamedNode("urn:test:p")
    plain = [ox.Quad(ox.NamedNode(f"urn:test:s{i}"), p, ox.Literal(str(i)), g) for i in range(CHUNK - 2)]
    chain = [ox.BlankNode(f"b{i}") for i in range(6)]
    linked = [ox.Quad(chain[i], p, chain[i + 1], g) for i in range(5)] + [ox.Quad(ox.NamedNode("urn:test:head"), p, chain[0], g)]
    big = [ox.Quad(ox.BlankNode("big"), p, ox.Literal(str(i)), g) for i in range(CHUNK + 10)]
    blocks = _blocks(plain + linked + big)
    assert sorted(map(str, (q for b in blocks for q in b))) == sorted(map(str, plain + linked + big))
    for node in chain + [ox.BlankNode("big")]:
        assert sum(any(node in (q.subject, q.object) for q in b) for b in blocks) == 1
    assert all(len(b) <= CHUNK for b in blocks if not any(q.subject == ox.BlankNode("big") for q in b))
