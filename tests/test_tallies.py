"""The win tallies (prtkg/tallies.py): a write's refresh leaves what a whole count does, and
top-winners-per-buyer answers from them, or, for a caller who cannot see them, counts itself alike."""
import copy
import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from prtkg import loaders, saved_queries, tallies
from prtkg.store import Store

CASE = Path(__file__).parent / "fixtures" / "rules" / "RISK-WINNER-CONCENTRATION" / "fires" / "ocds.json"
ROWS = """SELECT ?buyer ?supplier ?wins ?rank WHERE { GRAPH <urn:prtkg:tally:wins> {
  ?node prtkg:tallyBuyer ?buyer . ?entry prtkg:tallyOf ?node ; prtkg:tallySupplier ?supplier ;
  prtkg:winCount ?wins ; prtkg:winRank ?rank } }"""


def _rows(store) -> list[tuple]:
    return sorted((r["buyer"], r["supplier"], r["wins"], r["rank"]) for r in store.select(ROWS))


def _records(tmp_path: Path, name: str, edit=None) -> list:
    doc = json.loads(CASE.read_text(encoding="utf-8"))
    if edit is not None:
        doc = copy.deepcopy(doc)
        edit(doc)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    loaded = loaders.load_paths([path])
    assert not loaded.rejected
    return loaded.records


@pytest.fixture()
def store(tmp_path):
    s = Store(None)
    s.load_ontology()
    s.replace_records(_records(tmp_path, "case"))   # into an empty store: counted whole
    return s


def test_tallies_count_and_rank_a_buyers_awards(store):
    rows = _rows(store)
    assert sorted((w, r) for _b, _s, w, r in rows) == [(2, 2), (3, 1)]
    graphs = [g for g in store.named_graphs() if g.startswith("urn:prtkg:graph:")]
    tallies.refresh(store, tallies.buyers(store, graphs))     # every buyer recounted by a refresh
    assert _rows(store) == rows


def _cancel_one_win(doc):
    # the leading supplier loses an award: 2 wins each, both ranked 1
    release = next(r for r in doc["releases"] if r["awards"][0]["suppliers"][0]["id"] == "S3")
    release["awards"][0]["status"] = "cancelled"


def test_a_replaced_record_refreshes_its_buyers_tallies(store, tmp_path):
    before = _rows(store)
    changed = _records(tmp_path, "changed", _cancel_one_win)
    store.replace_records(changed)
    refreshed = _rows(store)
    assert refreshed != before and sorted((w, r) for _b, _s, w, r in refreshed) == [(2, 1), (2, 1)]
    tallies.materialise(store)
    assert _rows(store) == refreshed


def _answer(store, **dataset) -> list[tuple]:
    text = saved_queries.library()["top-winners-per-buyer"].bind({"top": "1"})
    result = store.raw_query(text, **dataset)
    return sorted(tuple(str(s[v]) for v in ("buyer", "supplier", "wins", "rank")) for s in result)


def test_the_question_reads_the_tallies_or_counts_where_it_cannot_see_them(store):
    staff = _answer(store, use_default_graph_as_union=True)
    assert [row[2:] for row in staff] == [('"3"^^<http://www.w3.org/2001/XMLSchema#integer>',
                                           '"1"^^<http://www.w3.org/2001/XMLSchema#integer>')]
    # A division's dataset: its graphs, not the tallies; the question counts them itself, alike.
    graphs = [ox.NamedNode(g) for g in store.named_graphs() if g != tallies.TALLY_GRAPH]
    assert _answer(store, default_graph=graphs, named_graphs=graphs) == staff
    # Where the tallies are visible the answer is theirs (and not counted again beside them).
    store.update('DELETE { GRAPH <urn:prtkg:tally:wins> { ?e prtkg:winCount ?w } } '
                 'INSERT { GRAPH <urn:prtkg:tally:wins> { ?e prtkg:winCount 99 } } '
                 'WHERE { GRAPH <urn:prtkg:tally:wins> { ?e prtkg:winRank 1 ; prtkg:winCount ?w } }')
    assert [row[2] for row in _answer(store, use_default_graph_as_union=True)] == \
        ['"99"^^<http://www.w3.org/2001/XMLSchema#integer>']
