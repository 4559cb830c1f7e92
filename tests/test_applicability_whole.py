"""The applicability gate asks the store whole in a check of every stored record (one streamed query
in record order, no VALUES) and a page of graphs at a time otherwise (GROUP BY per page). Both must
decide the same for every record and rule: what applies, what was assumed, what is insufficient."""
from __future__ import annotations

from prtkg import applicability
from prtkg.app.checking import stored_records
from prtkg.applicability import Applicability
from prtkg.findings import Insufficiency
from prtkg.store import Store


def _decisions(store, graphs, monkeypatch, whole: bool):
    asked = []
    stream = type(store).stream
    monkeypatch.setattr(type(store), "stream", lambda s, q: (asked.append(q), stream(s, q))[1])
    if not whole:
        monkeypatch.setattr(applicability, "record_count", lambda store: len(graphs) + 1)
        monkeypatch.setattr(applicability, "PAGE", 97)
    gaps = Insufficiency()
    gate = Applicability(store, graphs, gaps)
    monkeypatch.undo()
    assert bool(asked) == whole
    rules = sorted(applicability.gates())
    return ({r: sorted(gate.records(r)) for r in rules},
            {k: gate.assumed(*k) for k in sorted(gate._assumed)},
            {k: (f, {r: sorted(x) for r, x in rs.items()}) for k, (f, rs) in gaps._by_record.items()})


def test_the_whole_store_and_its_pages_are_gated_alike(demo_store, monkeypatch):
    graphs = [r.graph.graph.value for r in stored_records(demo_store)]
    whole = _decisions(demo_store, graphs, monkeypatch, whole=True)
    assert whole == _decisions(demo_store, None, monkeypatch, whole=True)
    assert whole == _decisions(demo_store, graphs, monkeypatch, whole=False)
    applies, assumed, gaps = whole
    assert sum(map(len, applies.values())) > 50 and gaps    # (the demo assumes nothing: see below)


OCDS = """INSERT DATA {{ GRAPH <urn:t:{n}> {{ <urn:t:{n}> prtkg:recordKind "ocds" ; prtkg:recordId "{n}" ;
  prtkg:mainNode <urn:t:{n}/p> ; prtkg:source "t" ; prtkg:contentDigest "{n}" . {body} }} }}"""


def test_values_of_several_rows_and_empty_values_are_read_alike(monkeypatch):
    """A record with two values of a field (two rows of the streamed query), an empty value (no value
    either way) and a code as an IRI (its last segment)."""
    store = Store(None)
    tender = "<urn:t:{n}/p> prtkg:hasTender <urn:t:{n}/t> . "
    store.update(OCDS.format(n="a", body=tender.format(n="a") + """
        <urn:t:a/p> prtkg:tradeType <http://example.org/code/works> ; prtkg:region "110000" .
        <urn:t:a/t> prtkg:procurementMethod "open", "selective" ; prtkg:amount "" ;
                    prtkg:mainProcurementCategory "works", "goods" ; prtkg:currency "CNY" ."""))
    store.update(OCDS.format(n="b", body=tender.format(n="b") + """
        <urn:t:b/p> prtkg:tradeType "" . <urn:t:b/t> prtkg:procurementMethod "limited" ."""))
    graphs = ["urn:t:a", "urn:t:b"]
    whole = _decisions(store, graphs, monkeypatch, whole=True)
    assert whole == _decisions(store, graphs, monkeypatch, whole=False)
    applies, assumed, gaps = whole
    assert "b" in gaps and any("a" in recs for recs in applies.values())
    assert any(k[1] == "a" and v["mustTenderUnknown"] == ["tender.value"] for k, v in assumed.items())
