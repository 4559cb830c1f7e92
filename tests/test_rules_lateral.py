"""The rule families' fact queries in both dialects (prtkg/rdf.py in_dialect): every query the
families send with `LATERAL { OPTIONAL ... }` reads the same rows as its SPARQL 1.1 text, the one a
server without LATERAL (Virtuoso) runs."""
from __future__ import annotations

import datetime as dt

from prtkg import loaders, rules
from prtkg.app.checking import Context, bundled, run_checks
from prtkg.rules import common
from prtkg.store import Store
from prtkg.store.remote import RemoteStore


def test_lateral_optionals_wraps_each_optional_and_plain_undoes_it():
    text = "SELECT * WHERE { ?a ?b ?c OPTIONAL { ?x ?y ?z OPTIONAL{ ?q ?r ?s } } FILTER(?a) OPTIONAL { ?m ?n ?o } }"
    lateral = common.lateral_optionals(text)
    assert lateral == ("SELECT * WHERE { ?a ?b ?c LATERAL { OPTIONAL { ?x ?y ?z LATERAL { OPTIONAL { ?q ?r ?s } } } } "
                       "FILTER(?a) LATERAL { OPTIONAL { ?m ?n ?o } } }")
    assert common.lateral_optionals("SELECT * WHERE { ?s prtkg:optionalThing ?o }") == \
        "SELECT * WHERE { ?s prtkg:optionalThing ?o }"


def test_each_backend_says_whether_it_parses_lateral(any_backend, request):
    store = any_backend()
    assert store.lateral is (request.node.callspec.params["any_backend"] != "virtuoso")


def test_the_dialect_follows_the_store():
    q = "SELECT * WHERE { %s ?s ?p ?o OPTIONAL { ?o ?q ?r } }"
    assert Store.lateral and "LATERAL" in common.in_dialect(Store(None), q)
    remote = RemoteStore("http://127.0.0.1:9/sparql", timeout=5)   # nothing listens: no answer, plain text
    assert common.in_dialect(remote, q) == q


def test_every_lateral_fact_query_reads_the_rows_of_its_sparql_11_text(monkeypatch):
    # Every page row by row (LATERAL_SHARE 0) and several pages: the demo's checks send every family's
    # fact queries; each LATERAL one is run again as SPARQL 1.1 and must answer alike.
    monkeypatch.setattr(common, "LATERAL_SHARE", 0)
    monkeypatch.setattr(common, "PAGE", 97)
    # Every record is under check, which a check asks whole (fact_rows, no page to read row by row):
    # here the pages are the point.
    monkeypatch.setattr(Context, "covers_store", lambda self: False)
    records = [r for p in (bundled("reference"), bundled("demo")) for r in loaders.load_paths([p]).records]
    store = Store(None)
    store.load_ontology()
    store.replace_records(records)
    made: dict[str, str] = {}   # row-by-row text -> the SPARQL 1.1 text it was made from
    in_dialect = common.in_dialect

    def spy(store, query):
        text = in_dialect(store, query)
        made[text] = query
        return text

    monkeypatch.setattr(common, "in_dialect", spy)
    real = Store.select
    compared: dict[str, int] = {}

    def plain(text: str) -> str:
        """The SPARQL 1.1 text of a row-by-row one: its template's, with the same page filled in."""
        for lateral, query in made.items():
            head, _, tail = lateral.partition("%s")
            if lateral != query and text.startswith(head) and text.endswith(tail):
                return query % text[len(head):len(text) - len(tail)]
        raise AssertionError("a LATERAL query not made by in_dialect: " + text[:300])

    def select(self, query, **bindings):
        rows = real(self, query, **bindings)
        if "LATERAL { OPTIONAL {" in query:
            other = real(self, plain(query), **bindings)
            assert sorted(map(repr, rows)) == sorted(map(repr, other)), query[:400]
            key = query.split("WHERE", 1)[0]
            compared[key] = compared.get(key, 0) + len(rows)
        return rows

    monkeypatch.setattr(Store, "select", select)
    run_checks(Context(store, records, dt.date(2026, 11, 25)), rules.checks())
    # several families' queries, and rows to compare in most of them
    assert len(compared) >= 6, sorted(compared)
    assert sum(1 for n in compared.values() if n) >= len(compared) // 2, compared


def test_the_gate_decides_alike_row_by_row_and_in_sparql_11(monkeypatch):
    """prtkg/applicability.py pages a partial check's records; a page small beside the store is asked
    row by row (LATERAL): the same decisions, assumptions and DATA-INSUFFICIENT entries as the plain
    text, on several pages of a third of the demo's records (of every kind)."""
    from prtkg import applicability
    from prtkg.findings import Insufficiency
    monkeypatch.setattr(applicability, "PAGE", 41)
    records = [r for p in (bundled("reference"), bundled("demo")) for r in loaders.load_paths([p]).records]
    store = Store(None)
    store.load_ontology()
    store.replace_records(records)
    graphs = [r.graph.graph.value for r in records[::3]]
    texts = []
    real = Store.select

    def select(self, query, **bindings):
        texts.append(query)
        return real(self, query, **bindings)
    monkeypatch.setattr(Store, "select", select)

    def decided(lateral: bool):
        monkeypatch.setattr(Store, "lateral", lateral)
        entries = Insufficiency()
        gate = applicability.Applicability(store, graphs, entries, whole=False)
        return gate._applicable, gate._assumed, [f.as_dict() for f in entries.findings()]
    plain = decided(False)
    assert not any("LATERAL" in t for t in texts)
    row_by_row = decided(True)
    assert any("LATERAL { OPTIONAL" in t for t in texts)
    assert row_by_row == plain and plain[0] and plain[2]
