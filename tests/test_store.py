"""The store: one named graph per record, atomic replacement, provenance, persistence on disk."""
import datetime as dt

from prtkg import rdf
from prtkg.records import Record
from prtkg.store import Store


def _record(rid: str, title: str, extra: int = 0) -> Record:
    g = rdf.RecordGraph(rdf.graph_iri("ocds", rid))
    node = rdf.iri("project", rid)
    g.type(node, "Project")
    g.add(node, "ocid", rid)
    g.add(node, "title", title)
    for i in range(extra):
        g.add(node, "hasParty", rdf.entity(f"E{i}"))
    return Record(rid, "ocds", g, f"test.json#{rid}", "sha256:" + title, node)


def _titles(store, rid):
    rows = store.select(f"SELECT ?t WHERE {{ GRAPH <{rdf.graph_iri('ocds', rid).value}> {{ ?p prtkg:title ?t }} }}")
    return [r["t"] for r in rows]


def test_resubmitting_a_record_replaces_its_graph(tmp_path):
    store = Store(tmp_path / "store")
    store.replace_records([_record("ocds-a-1", "old", extra=3), _record("ocds-a-2", "other")])
    store.replace_records([_record("ocds-a-1", "new")])
    assert _titles(store, "ocds-a-1") == ["new"]
    assert _titles(store, "ocds-a-2") == ["other"]
    # the parties of the old version are gone with it
    assert not store.ask(f"ASK {{ GRAPH <{rdf.graph_iri('ocds', 'ocds-a-1').value}> {{ ?p prtkg:hasParty ?e }} }}")


def test_provenance_travels_with_the_graph(tmp_path):
    store = Store(tmp_path / "store")
    at = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.timezone.utc)
    store.replace_records([_record("ocds-a-1", "t")], agent="user:alice", at=at)
    g = rdf.graph_iri("ocds", "ocds-a-1").value
    row = store.select(f"""SELECT * WHERE {{ GRAPH <{g}> {{ <{g}> a prov:Entity ; prtkg:recordId ?id ;
        prtkg:contentDigest ?d ; prov:generatedAtTime ?at ; prov:wasAttributedTo ?who ; prtkg:source ?src }} }}""")
    assert row == [{"id": "ocds-a-1", "d": "sha256:t", "at": at, "who": "user:alice", "src": "test.json#ocds-a-1"}]


def test_store_persists_on_disk(tmp_path):
    path = tmp_path / "store"
    store = Store(path)
    store.replace_records([_record("ocds-a-1", "kept")])
    store.flush()
    del store
    reopened = Store(path)
    assert _titles(reopened, "ocds-a-1") == ["kept"]
