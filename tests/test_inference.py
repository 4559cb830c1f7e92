"""OWL RL materialised at load (prtkg/inference.py): the derived graph equals what owlrl, the
maintained OWL RL reasoner, entails from the same ontology and records, restricted to the same
vocabulary; and the derived graph follows records as they are replaced."""
from __future__ import annotations

from pathlib import Path

import owlrl
import pyoxigraph as ox
import pytest
import rdflib

from prtkg import derived, inference, loaders, rdf
from prtkg.errors import ConfigError
from prtkg.store import Store
from prtkg.store.common import ontology_closure_triples

ROOT = Path(__file__).resolve().parent.parent
FIX = Path(__file__).parent / "fixtures"
RDF_TYPE = rdflib.RDF.type
SHARED_KINDS = ("powers-list", "credit-record", "entity-relations")   # rules/casework.yaml jurisdiction.shared_kinds

# A body that both manages and supervises (two rows, two functions), a list row over every trade type
# and industry, and one over 全过程: what the derived graph must say of each.
POWERS_BOTH = """部门编码,部门名称,部门类型,权力编码,权力名称,权力类型,交易类型,行业,环节,区划,实施依据,责任事项,追责情形,牵头
11530100015234707A,昆明市住房和城乡建设局,management,KM-ZJ-001,房建市政工程行业管理,其他,works,housing-municipal,招标,530100,建筑法,,,
11530100015234707A,昆明市住房和城乡建设局,supervision,KM-ZJ-002,房建市政工程招标投标监督,行政检查,works,housing-municipal,全过程,530100,招标投标法 第七条,,,是
11530100015234708B,昆明市公共资源交易监督管理局,supervision,KM-JG-001,公共资源交易综合监管,行政检查,all,all,评标,530100,,,,
"""


def _ontology_files(keep_region: str = "53") -> tuple[bytes, ...]:
    """The ontology files with the divisions cut to one province (owlrl takes minutes on all of China)."""
    out = []
    for path in sorted((ROOT / "ontology").glob("*.ttl")):
        data = path.read_bytes()
        if path.name == "divisions.ttl":
            g = rdflib.Graph().parse(data=data, format="turtle")
            region = rdflib.Namespace(rdf.CODE + "region/")
            for s in set(g.subjects(RDF_TYPE, rdflib.URIRef(rdf.PRTKG + "AdministrativeDivision"))):
                if not str(s).startswith(str(region) + keep_region):
                    g.remove((s, None, None))
            data = g.serialize(format="turtle").encode()
        out.append(data)
    return tuple(out)


def _store(files: tuple[bytes, ...], records) -> Store:
    store = Store(None)
    g = ox.NamedNode(rdf.ONTOLOGY_GRAPH)
    store.add_quads(ox.Quad(q.subject, q.predicate, q.object, g)
                    for blob in files for q in ox.parse(blob, format=ox.RdfFormat.TURTLE))
    store.add_quads(ox.Quad(t.subject, t.predicate, t.object, g)
                    for t in inference.ontology_closure(files, Store(None)))
    store.replace_records(records)
    return store


def _records(tmp_path: Path):
    powers = tmp_path / "powers_both.csv"
    powers.write_text(POWERS_BOTH, encoding="utf-8")
    paths = [FIX / "csv" / "powers_yn.csv", FIX / "csv" / "credit_yn.csv", FIX / "ocds" / "release-package.json",
             FIX / "events" / "good.json", powers]
    loaded = loaders.load_paths(paths)
    assert loaded.records and not loaded.rejected
    return loaded.records


def _rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal):
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    dt = term.datatype.value if term.datatype else None
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(dt) if dt and not dt.endswith("#string") else None)


def _triples(quads) -> set[tuple]:
    return {(_rdflib(q.subject), _rdflib(q.predicate), _rdflib(q.object)) for q in quads}


def _in_vocabulary(t: tuple, tbox: inference.TBox) -> bool:
    s, p, o = t
    if isinstance(s, rdflib.Literal):
        return False
    if p == RDF_TYPE:
        return str(o) in tbox.classes
    return str(p) in tbox.derived


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    files = _ontology_files()
    records = _records(tmp_path_factory.mktemp("inference"))
    store = _store(files, records)
    inference.materialise(store)
    return files, records, store


def _owlrl(triples: set[tuple]) -> set[tuple]:
    g = rdflib.Graph()
    for t in triples:
        g.add(t)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
    return set(g)


def test_derived_graph_equals_owlrl_closure(case):
    files, records, store = case
    tbox = inference.compile_tbox(store)
    ontology = rdflib.Graph()
    for blob in files:
        ontology.parse(data=blob, format="turtle")
    asserted = set(ontology) | _triples(q for g in store.named_graphs() if g.startswith("urn:prtkg:graph:")
                                        for q in store.graph_quads(g))
    # What a code reaches (prtkg:scopeRegion ...: TBox.reach) is derived from the ontology and the
    # shared lists alone (power rows'; a project's is read nowhere): owlrl's closure of those.
    shared = set(ontology) | _triples(q for r in records if r.kind in SHARED_KINDS for q in store.graph_quads(r.graph.graph.value))
    reach = {t for t in _owlrl(shared) if str(t[1]) in tbox.reach}
    assert reach and {str(t[1]) for t in reach} == tbox.reach
    closure = _owlrl(asserted)
    expected = {t for t in closure - asserted if _in_vocabulary(t, tbox) and (str(t[1]) not in tbox.reach or t in reach)}
    assert {t for t in closure if str(t[1]) in tbox.reach} - reach, "the records reach codes too: left out"
    # The shared graph may restate what a record asserts (it reads only what every division sees);
    # the records' graph never does.
    records = _triples(store.graph_quads(inference.RECORDS_INFERRED_GRAPH))
    assert not records & asserted
    ours = (_triples(store.graph_quads(inference.INFERRED_GRAPH)) - asserted) | records | \
        (_triples(store.graph_quads(rdf.ONTOLOGY_GRAPH)) - set(ontology))
    ours = {t for t in ours if _in_vocabulary(t, tbox)}
    assert not any(isinstance(x, rdflib.BNode) for t in expected for x in t)
    assert expected, "owlrl entails something of the vocabulary"
    assert sorted(ours - expected) == [] and sorted(expected - ours) == []


def _ask(store, pattern: str) -> bool:
    return store.ask(f"ASK {{ GRAPH <{inference.INFERRED_GRAPH}> {{ {pattern} }} }}")


def test_what_the_derived_graph_says(case):
    _files, _records_, store = case
    dept = "<https://w3id.org/prtkg/id/entity/11530100015234707A>"
    # superclasses: a department is an org:Organization, a finding-free record graph a prov:Entity ...
    assert _ask(store, f"{dept} a org:Organization")
    # functions from the powers held, one body with two
    assert _ask(store, f"{dept} a prtkg:SupervisoryBody") and _ask(store, f"{dept} a prtkg:ManagementBody")
    assert not _ask(store, "<https://w3id.org/prtkg/id/entity/11530100015234708B> a prtkg:ManagementBody")
    # "all" the same way in every dimension; the region hierarchy down to the counties
    rows = store.select(f"""SELECT ?row (COUNT(DISTINCT ?st) AS ?stages) (COUNT(DISTINCT ?tt) AS ?tts)
        (COUNT(DISTINCT ?ind) AS ?inds) WHERE {{ GRAPH ?g {{ ?row prtkg:powerCode "KM-JG-001" }}
        GRAPH <{inference.INFERRED_GRAPH}> {{ ?row prtkg:scopeStage ?st ; prtkg:scopeTradeType ?tt ;
        prtkg:scopeIndustry ?ind ; prtkg:scopeRegion code:region\\/530102 }} }} GROUP BY ?row""")
    assert [(r["stages"], r["tts"], r["inds"]) for r in rows] == [(1, 8, 6)]
    assert store.ask("ASK { GRAPH <urn:prtkg:ontology> { code:region\\/530102 skos:broaderTransitive code:region\\/530000 } }")


def test_refresh_follows_a_replaced_record(case, tmp_path):
    files, records, _ = case
    store = _store(files, records)
    inference.materialise(store)
    powers = tmp_path / "powers_both.csv"
    # The list again without the management row: the body no longer manages, by a refresh or a whole run.
    powers.write_text("\n".join(l for l in POWERS_BOTH.splitlines() if "KM-ZJ-001" not in l) + "\n", encoding="utf-8")
    (new,) = loaders.load_paths([powers]).records
    old = next(r for r in records if r.graph.graph == new.graph.graph)
    touched = inference.nodes(store, [old.graph.graph.value])
    store.replace_records([new])
    inference.refresh(store, touched | inference.nodes(store, [new.graph.graph.value]))
    refreshed = [_triples(store.graph_quads(g)) for g in inference.DERIVED_GRAPHS]
    inference.materialise(store)
    assert refreshed == [_triples(store.graph_quads(g)) for g in inference.DERIVED_GRAPHS]
    assert not _ask(store, "<https://w3id.org/prtkg/id/entity/11530100015234707A> a prtkg:ManagementBody")


def test_the_checked_in_closure_is_fresh_and_a_stale_one_is_refused():
    # ontology/closure.nt spares every process the derivation: it must be what the files entail now,
    # and a store must not load one made from other files.
    import sys
    sys.path.insert(0, str(ROOT / "scripts"))
    import ontology_closure
    text = (ROOT / "ontology" / "closure.nt").read_text(encoding="utf-8")
    assert text == ontology_closure.render(), "ontology/closure.nt is stale: run python scripts/ontology_closure.py"
    with pytest.raises(ConfigError, match="run python scripts/ontology_closure.py"):
        ontology_closure_triples("sha256:" + "0" * 64)
    store = Store(None)
    store.load_ontology()
    assert store.ask(f"ASK {{ GRAPH <{rdf.ONTOLOGY_GRAPH}> {{ <https://w3id.org/prtkg/code/region/530000> "
                     "skos:narrowerTransitive <https://w3id.org/prtkg/code/region/530102> } }")


def test_the_shared_derived_graph_reads_only_what_every_division_shares(case):
    # urn:prtkg:inferred is in every division's SPARQL dataset (rules/casework.yaml): each of its
    # triples is about a node the ontology or a shared list names; the rest (a project's types, a
    # bidder's ...) goes to urn:prtkg:inferred:records.
    _files, records, store = case
    shared = {r.graph.graph.value for r in records if r.kind in SHARED_KINDS}
    assert shared and len(shared) < len(records)
    seen = {q.subject for g in shared | {rdf.ONTOLOGY_GRAPH} for q in store.graph_quads(g)} | \
        {q.object for g in shared | {rdf.ONTOLOGY_GRAPH} for q in store.graph_quads(g)}
    about = {q.subject for q in store.graph_quads(inference.INFERRED_GRAPH)}
    assert about and not {str(s) for s in about - seen} - {f"<{inference.INFERRED_GRAPH}>"}   # its version stamp
    private = {q.subject for q in store.graph_quads(inference.RECORDS_INFERRED_GRAPH)}
    bidder = rdf.iri("entity", "915301027708123477")     # a bidder of the OCDS release, in no shared list
    assert bidder in private - about, "a bidder's derived types (org:Organization ...) are not shared"


def test_a_remote_store_derives_the_same_graphs(case, oxigraph_server):
    # On a server the rules run as SPARQL updates, which do not say how many triples they added
    # (RemoteStore.insert_where counts the graph around them): the same graphs all the same.
    _files, records, store = case
    oxigraph_server.clear()
    remote = oxigraph_server.store()
    remote.add_quads(store.graph_quads(rdf.ONTOLOGY_GRAPH))
    remote.replace_records(records, infer=False)
    inference.materialise(remote)
    for g in inference.DERIVED_GRAPHS:
        assert _triples(remote.graph_quads(g)) == _triples(store.graph_quads(g)), g


def test_a_store_written_before_derivation_is_derived_when_served(case, tmp_path):
    """A store with records and no derived graph (written by an earlier version, or a load killed before
    its end): the server derives it at start, so coverage and who-supervises do not go blank."""
    from fastapi.testclient import TestClient

    from prtkg.api.app import create_app
    from prtkg.api.settings import Settings
    _, records, _ = case
    store = Store(tmp_path / "old")
    store.load_ontology()
    store.replace_records(records, infer=False)
    assert not any(list(store.graph_quads(g)) for g in inference.DERIVED_GRAPHS)
    create_app(store, Settings(tokens={"t": "staff"}))
    served = [_triples(store.graph_quads(g)) for g in inference.DERIVED_GRAPHS]
    assert all(served)
    inference.materialise(store)
    assert served == [_triples(store.graph_quads(g)) for g in inference.DERIVED_GRAPHS]
    assert derived.ensure(store) is False          # derived already: nothing to do
    assert derived.ensure(Store(None)) is False     # no records: nothing to derive


def test_a_store_derived_by_an_earlier_version_is_derived_again(case, tmp_path):
    """Derived graphs written by a version that derived less (no stamp, or another one) are derived
    again at start: what this version derives (e.g. isReplacedBy links) is never silently missing."""
    _, records, _ = case
    store = Store(tmp_path / "earlier")
    store.load_ontology()
    store.replace_records(records, infer=False)
    inference.materialise(store)
    whole = [_triples(store.graph_quads(g)) for g in inference.DERIVED_GRAPHS]
    assert inference.DERIVATION in {q[2].value for q in store.graph_quads(inference.INFERRED_GRAPH)}
    for stamp in (None, "prtkg-derivation 1"):
        store.update(f"DELETE WHERE {{ GRAPH <{inference.INFERRED_GRAPH}> {{ ?s {OWL_VERSION} ?v }} }}")
        if stamp:
            store.update(f'INSERT DATA {{ GRAPH <{inference.INFERRED_GRAPH}> {{ <urn:x> {OWL_VERSION} "{stamp}" }} }}')
        store.update(f"DELETE WHERE {{ GRAPH <{inference.RECORDS_INFERRED_GRAPH}> {{ ?s ?p ?o }} }}")
        assert derived.ensure(store) is True
        assert [_triples(store.graph_quads(g)) for g in inference.DERIVED_GRAPHS] == whole


OWL_VERSION = "<http://www.w3.org/2002/07/owl#versionInfo>"
