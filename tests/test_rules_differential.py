"""The rule families' findings on the bundled demo and on a larger generated demo, compared with what
the engine found before the families asked the store for aggregated facts in pages (issue #18):
tests/fixtures/rules-differential/*.json were written by the families as they stood on main at
c300863, when every family read its facts whole into Python.

A change that is meant to change findings rewrites the files, and the diff shows what it changed:
    python tests/test_rules_differential.py --write
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest

from prtkg import applicability, loaders, rules
from prtkg.app.checking import Context, bundled, run_checks
from prtkg.store import Store

# The generator is a development tool of the repository (tools/demo/), not part of the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import tools.demo as demo  # noqa: E402

AS_OF = dt.date(2026, 11, 25)
FIXTURES = Path(__file__).parent / "fixtures" / "rules-differential"
# The bundled demo (320 projects) and a generated one large enough to hold several pages of every
# paged query (rules/common.py PAGE is lowered to make them many).
DATASETS = {"bundled": None, "generated-600": 600}


def _paths(name: str, tmp: Path) -> list[Path]:
    size = DATASETS[name]
    if size is None:
        return [bundled("reference"), bundled("demo")]
    demo.generate(tmp / name, projects=size)
    return [bundled("reference"), tmp / name]


def findings_of(paths: list[Path]) -> list[dict]:
    records = [r for p in paths for r in loaders.load_paths([p]).records]
    store = Store(None)
    store.load_ontology()
    store.replace_records(records)
    found = run_checks(Context(store, records, AS_OF), rules.checks())
    rows = [f.as_dict() for f in found]
    return sorted((json.loads(json.dumps(r, ensure_ascii=False, sort_keys=True, default=str)) for r in rows),
                  key=lambda r: (r["rule"], r["record"], r["focus"] or "", r["id"]))


# The generated demo is the scale case (minutes under load): behind the slow marker, run by CI's
# slow step. The bundled demo with PAGE lowered still turns over several pages of every paged query.
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if DATASETS[n] else n for n in sorted(DATASETS)])
def test_rule_findings_are_unchanged(name, tmp_path, monkeypatch):
    from prtkg.rules import common
    # Small pages: every paged query turns over several pages even on the bundled demo.
    monkeypatch.setattr(common, "PAGE", 97)
    monkeypatch.setattr(applicability, "PAGE", 97)
    expected = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    got = findings_of(_paths(name, tmp_path))
    assert len(got) == len(expected)
    by_id = {r["id"]: r for r in got}
    missing = [r for r in expected if r["id"] not in by_id]
    assert not missing, f"{len(missing)} findings no longer found, e.g. {missing[:2]}"
    assert got == expected


def test_a_worker_for_the_rules_finds_what_one_process_finds(monkeypatch):
    """The whole check (shapes and rules, DATA-INSUFFICIENT included) with the rule families in a
    forked worker (prtkg.app.parallel) and in this process: the same findings in the same order."""
    paths = [bundled("reference"), bundled("demo")]
    records = [r for p in paths for r in loaders.load_paths([p]).records]
    store = Store(None)
    store.load_ontology()
    store.replace_records(records)
    runs = {}
    for workers in ("0", "1"):
        monkeypatch.setenv("PRTKG_CHECK_WORKERS", workers)
        runs[workers] = [f.as_dict() for f in run_checks(Context(store, records, AS_OF))]
    assert any(f["rule"] == "DATA-INSUFFICIENT" for f in runs["1"])
    assert any(f["rule"].startswith("RISK-") for f in runs["1"])
    assert runs["1"] == runs["0"]


def _demo_store():
    records = [r for p in (bundled("reference"), bundled("demo")) for r in loaders.load_paths([p]).records]
    store = Store(None)
    store.load_ontology()
    store.replace_records(records)
    return store, records


def test_the_gate_is_made_once_in_the_rules_worker_while_the_shapes_run_here(monkeypatch, tmp_path):
    """With a rules worker, this process never makes the gate's decisions: it receives the worker's
    (the findings equal a run in one process: test above)."""
    import os
    from prtkg.context import Context as Ctx
    store, records = _demo_store()
    made = tmp_path / "made"
    real = Ctx.make_gate

    def make_gate(self):
        with open(made, "a") as fh:     # by whichever process makes them (the fork sees this patch)
            fh.write(f"{os.getpid()}\n")
        return real(self)
    monkeypatch.setattr(Ctx, "make_gate", make_gate)
    monkeypatch.setenv("PRTKG_CHECK_WORKERS", "1")
    ctx = Context(store, records, AS_OF)
    found = run_checks(ctx)
    makers = made.read_text().split()
    assert len(makers) == 1 and makers != [str(os.getpid())]
    assert ctx.gate_from is not None and any(f.rule == "DATA-INSUFFICIENT" for f in found)


def test_a_worker_failing_on_the_gate_raises_here(monkeypatch):
    from prtkg.context import Context as Ctx
    store, records = _demo_store()

    def make_gate(self):
        raise ValueError("the gate failed")
    monkeypatch.setattr(Ctx, "make_gate", make_gate)
    monkeypatch.setenv("PRTKG_CHECK_WORKERS", "1")
    with pytest.raises(ValueError, match="the gate failed"):
        run_checks(Context(store, records, AS_OF))


def test_the_gate_free_families_never_read_the_gate():
    """rules.gate_free: started before the gate's decisions exist, so they must not need them."""
    from prtkg.context import Context as Ctx
    store, records = _demo_store()

    class NoGate(Ctx):
        def applicability(self):
            raise AssertionError("a gate-free family read the gate")
    for check in rules.gate_free():
        list(check(NoGate(store, records, AS_OF)))
    assert set(rules.gate_free()) < set(rules.checks())


def test_a_failing_worker_raises_here(monkeypatch):
    from prtkg.app import parallel
    from prtkg.errors import ConfigError
    monkeypatch.setenv("PRTKG_CHECK_WORKERS", "2")
    with pytest.raises(ConfigError, match="PRTKG_CHECK_WORKERS"):
        parallel._wanted(Context(Store(None), [], AS_OF))
    records = loaders.load_paths([bundled("demo")]).records[:40]
    store = Store(None)
    store.replace_records(records)
    monkeypatch.setenv("PRTKG_CHECK_WORKERS", "1")

    def broken(ctx):
        raise ValueError("a rule family failed")
    monkeypatch.setattr(rules, "checks", lambda: [broken])
    with pytest.raises(ValueError, match="a rule family failed"):
        run_checks(Context(store, records, AS_OF), [lambda ctx: [], broken])


def _family(n: int, size: int):
    def check(ctx):
        return [(n, i, "x" * 100) for i in range(size)]   # 5,000 rows: far more than a pipe holds
    return check


def test_rule_families_run_at_once_and_merge_in_their_order():
    from prtkg.app import parallel
    ctx = Context(Store(None), [], AS_OF)
    sizes = [5000, 10, 5000, 0, 5000]
    got = parallel._apart(ctx, [_family(n, size) for n, size in enumerate(sizes)])
    assert got == [(n, i, "x" * 100) for n, size in enumerate(sizes) for i in range(size)]


def test_the_costliest_families_start_first_and_still_merge_in_order(monkeypatch):
    from prtkg import rules
    from prtkg.app import parallel
    from prtkg.context import check_name
    families = rules.checks()
    order = [check_name(c) for _, c in parallel._start_order(families)]
    assert order[:len(parallel.START_FIRST)] == list(parallel.START_FIRST)
    assert sorted(order) == sorted(check_name(c) for c in families)     # each once
    # Started out of order (the last family first), merged in the checks' order.
    checks = [_family(n, size) for n, size in enumerate([5000, 10, 5000])]
    monkeypatch.setattr(parallel, "_start_order", lambda cs: list(enumerate(cs))[::-1])
    assert parallel._apart(Context(Store(None), [], AS_OF), checks) == \
        [(n, i, "x" * 100) for n, size in enumerate([5000, 10, 5000]) for i in range(size)]


def test_a_failing_family_among_running_ones_raises_here():
    from prtkg.app import parallel

    def broken(ctx):
        raise ValueError("a rule family failed")
    ctx = Context(Store(None), [], AS_OF)
    with pytest.raises(ValueError, match="a rule family failed"):
        parallel._apart(ctx, [_family(0, 5000), broken, _family(2, 5000)])


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    import tempfile
    FIXTURES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in DATASETS:
            out = findings_of(_paths(name, Path(tmp)))
            (FIXTURES / f"{name}.json").write_text(json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                                   encoding="utf-8")
            print(name, len(out))


def test_a_worker_ends_with_the_process_that_forked_it(tmp_path):
    """A check killed midway (a crash) leaves no worker behind: killed with its parent."""
    import subprocess
    import sys
    import time
    code = ("import os, sys, time\n"
            "from prtkg.app import parallel\n"
            "parent = os.getpid()\n"
            "child = os.fork()\n"
            "if child == 0:\n"
            "    parallel._end_with(parent)\n"
            "    time.sleep(120)\n"
            "    os._exit(0)\n"
            "print(child, flush=True)\n"
            "time.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child = int(proc.stdout.readline())
    assert _alive(child)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting for init to reap it)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
