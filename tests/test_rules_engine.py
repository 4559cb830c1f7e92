"""The rules engine wrapper, on both matchers: durable-rules (where its C extension loads) and the
Python matcher used where it cannot (Python 3.13). Unmatched facts are ordinary, runs share no state,
errors surface; and the two matchers fire identically, on random facts and on every rule fixture and
the bundled demo (so a Python 3.11 run proves the 3.13 path gives the same findings)."""
from __future__ import annotations

import datetime as dt
import json
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from prtkg import loaders, rules
from prtkg.app.checking import Context, bundled, run_checks
from prtkg.errors import ConfigError
from prtkg.rules import engine
from prtkg.rules.engine import c, m
from prtkg.store import Store

ROOT = Path(__file__).resolve().parents[1]
ENGINES = [pytest.param("durable", marks=pytest.mark.skipif(bool(engine.DURABLE_MISSING), reason=str(engine.DURABLE_MISSING))),
           "python"]
needs_durable = pytest.mark.skipif(bool(engine.DURABLE_MISSING), reason=f"the differential needs durable-rules: {engine.DURABLE_MISSING}")


@pytest.fixture(params=ENGINES)
def use(request, monkeypatch):
    monkeypatch.setenv("PRTKG_RULES_ENGINE", request.param)
    return request.param


def _rules():
    return [engine.rule("ONE", (m.t == "x") & engine.any_of(m.k, ["a", "b"])),
            engine.rule("PAIR", c.a << (m.t == "x"), c.b << ((m.t == "y") & (m.g == c.a.g)))]


FACTS = [{"id": "1", "t": "x", "k": "a", "g": 1}, {"id": "2", "t": "y", "g": 1},
         {"id": "3", "t": "x", "k": "c", "g": 2}, {"id": "4", "t": "z"}]


def test_fires_and_ignores_unmatched_facts(use):
    fired = engine.run("test", _rules, FACTS)
    assert [(f.rule, sorted(x["id"] for x in f.facts.values())) for f in fired] == [
        ("ONE", ["1"]), ("PAIR", ["1", "2"])]
    assert fired[1].facts["a"]["id"] == "1" and fired[1].facts["b"]["id"] == "2"


def test_consecutive_runs_are_independent_and_identical(use):
    first = engine.run("test", _rules, FACTS)
    second = engine.run("test", _rules, FACTS)
    assert first == second
    # a run with fewer facts does not see the facts of the runs before it
    assert [f.rule for f in engine.run("test", _rules, FACTS[1:])] == []


def test_one_fact_never_fills_two_aliases_and_pairs_fire_both_ways(use):
    def rules_():
        return [engine.rule("J", c.a << (m.t == "x"), c.b << ((m.t == "x") & (m.v >= c.a.v)))]
    assert engine.run("test", rules_, [{"id": 1, "t": "x", "v": 1}]) == []
    pairs = [(f.facts["a"]["id"], f.facts["b"]["id"]) for f in engine.run("test", rules_, [
        {"id": 1, "t": "x", "v": 1}, {"id": 2, "t": "x", "v": 1}])]
    assert sorted(pairs) == [(1, 2), (2, 1)]


def test_a_repeated_fact_id_is_an_error(use):
    with pytest.raises(Exception):
        engine.run("test", _rules, [FACTS[0], dict(FACTS[0], k="b")])


@needs_durable
def test_action_errors_are_raised(monkeypatch):
    # durable-rules itself would swallow the error into its state and carry on
    def boom(fired, rule_id, c):
        raise RuntimeError("boom")

    monkeypatch.setenv("PRTKG_RULES_ENGINE", "durable")
    monkeypatch.setattr(engine, "_record", boom)
    with pytest.raises(RuntimeError, match="boom"):
        engine.run("test", _rules, FACTS)


def test_python_matcher_refuses_to_compare_text_with_a_number(monkeypatch):
    # durable-rules would coerce ("1" == 1 holds there); the families never post such facts, and the
    # fallback says so loudly rather than guess durable's coercions.
    monkeypatch.setenv("PRTKG_RULES_ENGINE", "python")
    with pytest.raises(TypeError, match="text with a number"):
        engine.run("test", lambda: [engine.rule("N", (m.t == "x") & (m.v > 0))], [{"id": 1, "t": "x", "v": "1"}])


def test_engine_choice(monkeypatch):
    monkeypatch.setenv("PRTKG_RULES_ENGINE", "prolog")
    with pytest.raises(ConfigError, match="PRTKG_RULES_ENGINE"):
        engine.engine_name()
    monkeypatch.delenv("PRTKG_RULES_ENGINE")
    assert engine.engine_name() == ("python" if engine.DURABLE_MISSING else "durable")
    monkeypatch.setattr(engine, "DURABLE_MISSING", "durable-rules cannot be imported here (test)")
    assert engine.engine_name() == "python"
    monkeypatch.setenv("PRTKG_RULES_ENGINE", "durable")
    with pytest.raises(ConfigError, match="cannot be imported"):
        engine.engine_name()


# -- differential: durable-rules and the Python matcher fire identically -----------------------------

def _both(monkeypatch, run):
    out = {}
    for name in ("durable", "python"):
        monkeypatch.setenv("PRTKG_RULES_ENGINE", name)
        out[name] = run()
    return out["durable"], out["python"]


def _random_rules():
    return [engine.rule("GT", (m.t == "a") & (m.x > 2)),
            engine.rule("SAME", (m.t == "a") & ((m.x == m.y) | (m.z <= 1))),
            engine.rule("EQJOIN", c.p << (m.t == "a"), c.q << ((m.t == "b") & (m.x == c.p.x) & (m.y != c.p.y))),
            engine.rule("ORDER", c.p << ((m.t == "a") & ((m.z >= 1) | (m.y == 0))), c.q << ((m.t == "a") & (m.x == c.p.x) & (m.y > c.p.y))),
            engine.rule("RANGE", c.r << (m.t == "b"), c.s << ((m.t == "a") & (m.x >= c.r.x) & (m.x <= c.r.z)))]


def _random_facts(seed: int) -> list[dict]:
    rnd = random.Random(seed)
    return [{"id": f"f{i}", "t": rnd.choice("ab"), "x": rnd.randint(0, 4), "y": rnd.randint(0, 3),
             "z": rnd.choice([0, 1, 2, 2.5])} for i in range(30)]


def _key(f: engine.Fired) -> str:
    return json.dumps([f.rule, f.facts], sort_keys=True)


# durable-rules' extension now and then crashes the process (SIGSEGV) on join rules with many
# matches, more often the more runs a process has made (with durable.lang used directly too): each
# random run gets a process of its own, and a crash (not a mismatch) is retried.
_DURABLE_RUN = """
import importlib.util, json, os, sys
os.environ["PRTKG_RULES_ENGINE"] = "durable"
spec = importlib.util.spec_from_file_location("t", sys.argv[1])
t = importlib.util.module_from_spec(spec)
spec.loader.exec_module(t)
from prtkg.rules import engine
print(json.dumps(sorted(map(t._key, engine.run("rnd", t._random_rules, t._random_facts(int(sys.argv[2])))))))
"""


@needs_durable
@pytest.mark.parametrize("seed", range(4))
def test_random_facts_fire_the_same(monkeypatch, seed):
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", _DURABLE_RUN, __file__, str(seed)], capture_output=True,
                              text=True, timeout=300, cwd=ROOT)
        if done.returncode != -signal.SIGSEGV:
            break
    assert done.returncode == 0, f"durable-rules run failed ({done.returncode}): {done.stderr[-2000:]}"
    durable = json.loads(done.stdout)
    monkeypatch.setenv("PRTKG_RULES_ENGINE", "python")
    python = sorted(map(_key, engine.run("rnd", _random_rules, _random_facts(seed))))
    assert durable, "the random facts should fire something"
    # The same firings, each as often; their order among the matches of one fact is durable-rules'
    # internal order, which no family relies on (findings are deduplicated and sorted).
    assert python == durable


def _fixture_sets():
    cases = sorted(p for p in (ROOT / "tests" / "fixtures" / "rules").glob("*/*") if p.is_dir())
    combined = [ROOT / "tests" / "fixtures" / n for n in ("cardinal", "collusion")]
    return [pytest.param([p], id=p.relative_to(ROOT / "tests" / "fixtures").as_posix()) for p in cases + combined] + [
        pytest.param([ROOT / "tests" / "fixtures" / "rules" / n for n in ("powers-small.csv", "credit.csv", "ocds.json", "events.json")],
                     id="rules-combined"),
        # the demo is the scale case (both matchers over 481 records): CI's slow step runs it
        pytest.param([bundled("reference"), bundled("demo")], id="demo", marks=pytest.mark.slow)]


def _findings(paths, as_of=dt.date(2026, 11, 25)):
    records = loaders.load_paths(paths).records
    store = Store(None)
    store.load_ontology()
    store.replace_records(records)
    return lambda: sorted(json.dumps(f.as_dict(), sort_keys=True, ensure_ascii=False)
                          for f in run_checks(Context(store, records, as_of), rules.checks()))


@needs_durable
@pytest.mark.parametrize("paths", _fixture_sets())
def test_rule_fixtures_give_identical_findings(monkeypatch, paths):
    durable, python = _both(monkeypatch, _findings(paths))
    assert python == durable


# Python 3.13 as the rules see it: durable-rules does not import. `prtkg check` (the console script's
# app) runs in a process where importing it fails, and reports what durable-rules reports here.
_WITHOUT_DURABLE = """
import sys
sys.modules["durable"] = None               # what an ImportError at `import durable` looks like
sys.modules["durable_rules_engine"] = None
from prtkg.app.cli import app
app(sys.argv[1:])
"""


@needs_durable
def test_prtkg_check_without_durable_rules_reports_the_same(tmp_path, monkeypatch):
    fixtures = ROOT / "tests" / "fixtures"
    args = ["check", str(fixtures / "rules" / "powers-small.csv"), str(fixtures / "rules" / "credit.csv"),
            str(fixtures / "rules" / "ocds.json"), str(fixtures / "rules" / "events.json"), str(fixtures / "cardinal"),
            "--reference", "none", "--as-of", "2026-11-25", "--format", "json", "--out"]
    monkeypatch.delenv("PRTKG_RULES_ENGINE", raising=False)
    runs = {}
    for name, code in (("without", _WITHOUT_DURABLE), ("with", "import sys\nfrom prtkg.app.cli import app\napp(sys.argv[1:])\n")):
        out = tmp_path / f"{name}.json"
        done = subprocess.run([sys.executable, "-c", code, *args, str(out)], capture_output=True, text=True,
                              timeout=600, cwd=ROOT)
        assert done.returncode in (0, 1), done.stderr[-2000:]    # 1: violations found
        runs[name] = json.loads(out.read_text(encoding="utf-8"))
    assert runs["with"]["findings"] and runs["without"]["findings"] == runs["with"]["findings"]
    assert runs["without"]["summary"] == runs["with"]["summary"]
