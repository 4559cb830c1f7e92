"""Cardinal's population counted per record and kept in the store (rules/cardinal_tallies.py): a check of
a few records reads the other records' stored contributions instead of their triples, and finds what
counting every record finds; an entry of another version of its record, or counted under other
parameters, is never used."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from prtkg import loaders, packed
from prtkg.app.checking import Context, stored_records
from prtkg.app.ingest import ingest
from prtkg.app.serve import DEMO_AS_OF
from prtkg.rules import cardinal, cardinal_tallies
from prtkg.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "cardinal"
# Flags of an organisation: reported for the organisations the records under check involve.
PER_ORGANISATION = {"RISK-LOW-WIN-RATE", "RISK-DISQUALIFICATION-RATE", "RISK-HETEROGENEOUS-SUPPLIER"}


def _found(fs) -> list:
    return sorted((f.rule, f.record, json.dumps(f.evidence, sort_keys=True, ensure_ascii=False, default=str)) for f in fs)


def _read(store, under: str) -> dict:
    return dict(cardinal_tallies.entries(store, under))


def _counting_every_record(store, part):
    """The check of `part` with no stored entry: every record counted from its triples."""
    saved = store.graphs_quads([cardinal_tallies._G])
    store.remove_graph(cardinal_tallies.GRAPH)
    try:
        return cardinal.check(Context(store, part, DEMO_AS_OF))
    finally:
        store.add_quads(saved)


@pytest.fixture(scope="module")
def demo(demo_store_copy):
    return demo_store_copy()


def test_a_load_counts_every_ocds_record(demo):
    ocds = [r for r in stored_records(demo) if r.kind == "ocds"]
    stored = _read(demo, cardinal.counting())
    assert set(stored) == {r.graph.graph.value for r in ocds}
    assert any("m" in c for c in stored.values()) and any("v" in c for c in stored.values())
    assert cardinal.remember(demo) == 0          # nothing left to count


def test_a_load_end_counts_only_when_a_record_lacks_its_entry(demo_store_copy, monkeypatch):
    """remember_missing: two counts when nothing is missing (no entry read), `remember` otherwise."""
    store = demo_store_copy()
    read = []
    entries = cardinal_tallies.entries
    monkeypatch.setattr(cardinal_tallies, "entries", lambda *a: read.append(1) or entries(*a))
    assert cardinal.remember_missing(store) == 0 and read == []
    target = [r for r in stored_records(store) if r.kind == "ocds"][4].graph.graph.value
    store.update(f"DELETE WHERE {{ GRAPH <{cardinal_tallies.GRAPH}> {{ <{target}> ?p ?o }} }}")
    assert cardinal.remember_missing(store) == 1 and read
    assert target in _read(store, cardinal.counting())


@pytest.mark.parametrize("pick", [lambda o: o[:1], lambda o: o[5:40], lambda o: o[::3]],
                         ids=["one record", "a run of 35", "every third"])
def test_a_partial_check_reads_the_stored_counts_and_finds_what_counting_finds(demo, monkeypatch, pick):
    records = stored_records(demo)
    ocds = [r for r in records if r.kind == "ocds"]
    part = pick(ocds)
    whole = cardinal.check(Context(demo, records, DEMO_AS_OF))
    read: list = []
    subset = packed.subset
    monkeypatch.setattr(packed, "subset", lambda store, graphs, *a: read.extend(graphs) or subset(store, graphs, *a))
    got = cardinal.check(Context(demo, part, DEMO_AS_OF))
    assert read == []       # every record counted when it was written: no record's triples are read
    assert _found(got) == _found(_counting_every_record(demo, part))
    # What the whole check says of these records, and of the organisations they involve, it says here.
    ids = {r.id for r in part}
    own = [f for f in got if f.rule not in PER_ORGANISATION | {"RISK-OUTLIER-NOT-RUN"}]
    assert _found(own) == _found(f for f in whole if f.record in ids and f.rule not in PER_ORGANISATION | {"RISK-OUTLIER-NOT-RUN"})
    # the same fences over the same population: an organisation's finding here is the whole check's
    assert set(_found(f for f in got if f.rule in PER_ORGANISATION)) <= set(_found(whole))
    assert any(f.rule in PER_ORGANISATION for f in got)


def test_a_record_without_its_entry_is_counted_from_its_triples_alone(demo_store_copy, monkeypatch):
    """As a posted record is checked before its counts are written: its own triples are read, and
    no other record's; the findings are those of counting every record."""
    store = demo_store_copy()
    records = stored_records(store)
    target = [r for r in records if r.kind == "ocds"][7]
    expected = cardinal.check(Context(store, [target], DEMO_AS_OF))
    store.update(f"DELETE WHERE {{ GRAPH <{cardinal_tallies.GRAPH}> {{ <{target.graph.graph.value}> ?p ?o }} }}")
    read: list = []
    subset = packed.subset
    monkeypatch.setattr(packed, "subset", lambda store, graphs, *a: read.extend(graphs) or subset(store, graphs, *a))
    got = cardinal.check(Context(store, [target], DEMO_AS_OF))
    assert [g.value for g in read] == [target.graph.graph.value]
    assert _found(got) == _found(expected) == _found(_counting_every_record(store, [target]))
    assert got


def test_a_counted_record_whose_own_part_is_missing_is_read_from_its_triples(demo_store_copy, monkeypatch):
    """Its contribution counts once (from the entry), its facts come from its triples."""
    store = demo_store_copy()
    records = stored_records(store)
    part = [r for r in records if r.kind == "ocds"][3:9]
    expected = cardinal.check(Context(store, part, DEMO_AS_OF))
    target = part[2].graph.graph.value
    store.update(f"DELETE WHERE {{ GRAPH <{cardinal_tallies.GRAPH}> {{ <{target}> prtkg:cardinalOwn ?o }} }}")
    read: list = []
    subset = packed.subset
    monkeypatch.setattr(packed, "subset", lambda store, graphs, *a: read.extend(graphs) or subset(store, graphs, *a))
    got = cardinal.check(Context(store, part, DEMO_AS_OF))
    assert [g.value for g in read] == [target]
    assert _found(got) == _found(expected)


def test_an_entry_of_another_version_is_not_used(tmp_path):
    """A writer that does not `remember` (the store's own replace_records) makes a check count the
    record again, never use the entry of its old version."""
    store = Store(None)
    ingest([FIXTURES / "margins.json"], as_of=DEMO_AS_OF, store=store, check=False, console=None)
    ocds = [r for r in stored_records(store) if r.kind == "ocds"]
    under = cardinal.counting()
    before = _read(store, under)
    assert set(before) == {r.graph.graph.value for r in ocds}
    # m0 again, its second bid 1050 -> 1500: a winning margin of 0.5 where it was 0.05.
    releases = json.loads((FIXTURES / "margins.json").read_text(encoding="utf-8"))
    m0 = copy.deepcopy(next(r for r in releases if r["ocid"] == "ocds-fxcar-m0"))
    m0["bids"]["details"][1]["value"]["amount"] = 1500
    path = tmp_path / "m0.json"
    path.write_text(json.dumps([m0], ensure_ascii=False), encoding="utf-8")
    new = loaders.load_paths([path]).records
    store.replace_records(new)
    graph = new[0].graph.graph.value
    assert graph not in _read(store, under)
    assert [g.value for g, *_ in cardinal_tallies.uncounted(store, _read(store, under))] == [graph]
    others = [r for r in stored_records(store) if r.kind == "ocds" and r.graph.graph.value != graph]
    got = cardinal.check(Context(store, others, DEMO_AS_OF))
    assert _found(got) == _found(_counting_every_record(store, others))
    # ... and the stale entry would have said otherwise: the old margin is not among those counted.
    stale = cardinal.Tallies()
    for c in before.values():
        stale.add_contribution(c)
    assert 0.05 in stale.margins
    assert cardinal.remember(store) == 1
    assert _read(store, under)[graph]["m"] == 0.5


def test_other_parameters_count_every_record_again(demo_store_copy, monkeypatch):
    store = demo_store_copy()
    ocds = [r for r in stored_records(store) if r.kind == "ocds"]
    monkeypatch.setattr(cardinal, "counting", lambda: "other parameters")
    assert _read(store, "other parameters") == {}
    # a write of one record under them drops every entry counted under the old ones ...
    new = loaders.load_paths([FIXTURES / "margins.json"]).records[:1]
    store.replace_records(new)
    cardinal.remember_records(store, new)
    assert len(_read(store, "other parameters")) == 1
    assert cardinal_tallies.counted_under(store, "other parameters")
    # ... and the others are counted again
    assert cardinal.remember(store) == len(ocds)
    assert len(_read(store, "other parameters")) == len(ocds) + 1


def test_the_counts_read_alike_on_every_backend(any_backend):
    """Written and read back through a server: JSON text (quotes, Chinese) in an update."""
    records = loaders.load_paths([FIXTURES / "margins.json", FIXTURES / "processes.json"]).records
    reference = Store(None)
    reference.replace_records(records)
    cardinal.remember(reference)
    expected = _read(reference, cardinal.counting())
    assert len(expected) == len(records) and {"m", "t", "b"} <= {k for c in expected.values() for k in c}
    store = any_backend()
    store.replace_records(records)
    assert cardinal.remember(store) == len(records)
    assert _read(store, cardinal.counting()) == expected
    owns = dict(cardinal_tallies.owns(reference, None))
    assert dict(cardinal_tallies.owns(store, None)) == owns and any(o["f"] for o in owns.values())
    some = sorted(owns)[::4]
    assert dict(cardinal_tallies.owns(store, some)) == {g: owns[g] for g in some}
    assert cardinal.remember(store) == 0
    # Counted as a load counts them, from the records' triples in memory: the same entries.
    again = Store(None)
    again.replace_records(records)
    cardinal.remember_records(again, records)
    assert _read(again, cardinal.counting()) == expected
