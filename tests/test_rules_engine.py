"""The durable-rules wrapper: unmatched facts are ordinary, runs share no state, errors surface."""
from __future__ import annotations

import pytest
from durable.lang import c, m

from prtkg.rules import engine


def _rules():
    return [engine.rule("ONE", (m.t == "x") & engine.any_of(m.k, ["a", "b"])),
            engine.rule("PAIR", c.a << (m.t == "x"), c.b << ((m.t == "y") & (m.g == c.a.g)))]


FACTS = [{"id": "1", "t": "x", "k": "a", "g": 1}, {"id": "2", "t": "y", "g": 1},
         {"id": "3", "t": "x", "k": "c", "g": 2}, {"id": "4", "t": "z"}]


def test_fires_and_ignores_unmatched_facts():
    fired = engine.run("test", _rules, FACTS)
    assert [(f.rule, sorted(x["id"] for x in f.facts.values())) for f in fired] == [
        ("ONE", ["1"]), ("PAIR", ["1", "2"])]


def test_consecutive_runs_are_independent_and_identical():
    first = engine.run("test", _rules, FACTS)
    second = engine.run("test", _rules, FACTS)
    assert first == second
    # a run with fewer facts does not see the facts of the runs before it
    assert [f.rule for f in engine.run("test", _rules, FACTS[1:])] == []


def test_action_errors_are_raised(monkeypatch):
    # durable-rules itself would swallow the error into its state and carry on
    def boom(fired, rule_id, c):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "_record", boom)
    with pytest.raises(RuntimeError, match="boom"):
        engine.run("test", _rules, FACTS)
