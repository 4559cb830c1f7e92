"""Crash safety: `prtkg load` and the API's POST /records killed with SIGKILL at seeded random points.

After every kill the store must open, every acknowledged record must be present and whole (its
content exactly as the loader mapped it, its provenance present), and no record graph may be
partial. `prtkg load` acknowledges on stderr ("committed DONE/TOTAL records", flushed after each
batch's transaction); the API acknowledges a record by answering 2xx.

Default: 20 load trials + 4 API trials; --runslow adds 40 more load trials and 20 API trials.
"""
from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from prtkg import loaders, rdf
from prtkg.casework import CASES_GRAPH
from prtkg.derived import GRAPHS as DERIVED_GRAPHS
from prtkg.store import Store
from prtkg.shapes import calendar_graph

AS_OF = "2026-06-01"
N_RECORDS = 1000  # two batches of 500
PROV_KEYS = {rdf.PROV + "generatedAtTime", rdf.PROV + "wasAttributedTo"}
TOTALS = {"load_trials": 0, "api_trials": 0, "records_checked": 0, "acknowledged": 0, "mid_load_kills": 0}


def _event(i: int) -> dict:
    # Two record kinds, so graphs differ in shape; every id unique.
    if i % 3:
        return {"recordType": "complaint", "id": f"TS-2026-{i:05d}", "project": f"ocds-p7x2k1-2026-{i % 40:04d}",
                "complainant": {"name": f"投诉人{i}"}, "handler": "11530000015234694U",
                "receivedDate": "2026-03-02", "rejectedDate": "2026-03-03"}
    return {"recordType": "clue", "id": f"XS-2026-{i:05d}", "subject": "91530100216584041K", "source": "举报",
            "receivedDate": "2026-01-10", "transfers": [{"to": "11530000015234694U", "date": "2026-01-12"}],
            "closedDate": "2026-02-28", "project": f"ocds-p7x2k1-2026-{i % 40:04d}"}


def _nt(q) -> str:
    return f"{q.subject} {q.predicate} {q.object}"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The input file, and what each record's graph must hold: {graph: (record, content triples)}."""
    path = tmp_path_factory.mktemp("crash") / "events.jsonl"
    path.write_text("".join(json.dumps(_event(i), ensure_ascii=False) + "\n" for i in range(N_RECORDS)),
                    encoding="utf-8")
    loaded = loaders.load_paths([path])
    assert len(loaded.records) == N_RECORDS and not loaded.rejected
    expected = {r.graph.graph.value: (r, {_nt(q) for q in r.graph.quads()}) for r in loaded.records}
    return path, loaded.records, expected


def verify(store_path: Path, expected: dict, acknowledged: set[str]) -> int:
    """Open the store after a crash and check it; the number of record graphs found (all whole)."""
    store = Store(store_path)  # must open (recovery is Oxigraph's job; a failure here fails the trial)
    found: dict[str, set[str]] = {}
    prov: dict[str, dict[str, str]] = {}
    agents: dict[str, set[str]] = {}
    # Shared graphs, not records: the calendar is derived (rewritten whole when its digest is absent or
    # stale), so a kill may leave it absent but never half-written under a current digest.
    # The derived graphs (prtkg/derived.py) are rewritten whole at the end of every load, and derived
    # again by the next load or server start where a kill left none.
    skip = {rdf.ONTOLOGY_GRAPH, rdf.FINDINGS_GRAPH, CASES_GRAPH, calendar_graph.CALENDAR_GRAPH, *DERIVED_GRAPHS}
    for q in store._ox.quads_for_pattern(None, None, None, None):
        g = getattr(q.graph_name, "value", None)
        if g is None or g in skip:
            continue
        if q.subject.value == g:  # the graph's provenance
            prov.setdefault(g, {})[q.predicate.value] = getattr(q.object, "value", str(q.object))
        elif q.subject.value.startswith(rdf.ID + "agent/"):  # the agent it is attributed to (store.provenance)
            agents.setdefault(g, set()).add(q.subject.value)
        else:
            found.setdefault(g, set()).add(_nt(q))
    for g in set(found) | set(prov):
        assert g in expected, f"a graph no record maps to: {g}"
        record, content = expected[g]
        assert found.get(g, set()) == content, f"partial or altered graph {record.id}: " \
            f"{len(found.get(g, set()))} of {len(content)} triples"
        p = prov.get(g, {})
        assert p.get(rdf.p("recordId").value) == record.id, f"{record.id}: provenance missing"
        assert p.get(rdf.p("contentDigest").value) == record.digest, f"{record.id}: digest missing"
        assert PROV_KEYS <= set(p), f"{record.id}: provenance incomplete: {sorted(p)}"
        assert p[rdf.PROV + "wasAttributedTo"] in agents.get(g, set()), f"{record.id}: its agent is not described"
    _calendar_whole_or_absent(store)
    missing = sorted(expected[g][0].id for g in acknowledged if g not in found)
    assert not missing, f"{len(missing)} acknowledged records lost, e.g. {missing[:5]}"
    del store
    return len(found)


def _calendar_whole_or_absent(store: Store) -> None:
    """The derived calendar graph after a kill: empty, or every day under the current digest."""
    import pyoxigraph as ox
    g = ox.NamedNode(calendar_graph.CALENDAR_GRAPH)
    held = sum(1 for _ in store._ox.quads_for_pattern(None, None, None, g))
    if held:
        days, _ = calendar_graph._calendar(calendar_graph.default_calendar())
        assert held == len(calendar_graph.quads(days, g)) + 1, f"calendar graph half-written: {held} quads"


def _load_trial(seed: int, corpus, tmp_path: Path) -> None:
    path, records, expected = corpus
    rng = random.Random(seed)
    store_path = tmp_path / f"store-{seed}"
    exe = Path(sys.executable).with_name("prtkg")
    env = {**os.environ, "PRTKG_STORE": str(store_path)}
    proc = subprocess.Popen([str(exe), "load", str(path), "--as-of", AS_OF], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    acks: list[int] = []
    seen = threading.Condition()

    def watch():
        for line in proc.stderr:
            m = re.match(r"committed (\d+)(?:/\d+)? records", line)
            if m:
                with seen:
                    acks.append(int(m.group(1)))
                    seen.notify_all()

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    # Kill after k acknowledged batches plus a random delay: k = 0 lands in start-up and parsing or
    # the first transaction, k = 1 in the second batch, k = 2 in the checks and the findings update.
    k = rng.randrange(0, 3)
    with seen:
        seen.wait_for(lambda: len(acks) >= k or proc.poll() is not None, timeout=60)
    time.sleep(rng.uniform(0, 2.5) if k == 0 else rng.uniform(0, 0.6))
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    reader.join(10)
    done = max(acks, default=0)
    if not finished and done < N_RECORDS:
        TOTALS["mid_load_kills"] += 1
    acknowledged = {r.graph.graph.value for r in records[:done]}
    if not store_path.exists():  # killed before the store was created: nothing acknowledged either
        assert done == 0
        TOTALS["load_trials"] += 1
        return
    TOTALS["records_checked"] += verify(store_path, expected, acknowledged)
    TOTALS["acknowledged"] += done
    TOTALS["load_trials"] += 1


@pytest.mark.parametrize("seed", range(20))
def test_load_killed_at_random_points(seed, corpus, tmp_path):
    _load_trial(1000 + seed, corpus, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(40))
def test_load_killed_soak(seed, corpus, tmp_path):
    _load_trial(2000 + seed, corpus, tmp_path)


# -- the API ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_api(store_path: Path, tokens: str, extra_env: dict | None = None,
              log: Path | None = None, memory: bool = False) -> tuple[subprocess.Popen, str]:
    """uvicorn on a free local port, its log (stderr) in `log` (default: next to the store)."""
    port = free_port()
    log = log or store_path.with_name(store_path.name + ".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PRTKG_STORE": str(store_path), "PRTKG_TOKENS": tokens, **(extra_env or {})}
    env.pop("PRTKG_TOKENS_FILE", None)
    if memory:  # the API over an in-memory store (as `prtkg serve --demo` runs it)
        cmd = [sys.executable, "-c", "import sys, uvicorn; from prtkg.api.app import create_app; "
               "from prtkg.store import Store; uvicorn.run(create_app(Store(None)), host='127.0.0.1', "
               "port=int(sys.argv[1]), log_level='info')", str(port)]
    else:
        cmd = [sys.executable, "-m", "uvicorn", "prtkg.api.app:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "info"]
    out = open(log, "wb")  # uvicorn's access log goes to stdout, everything else to stderr
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=out)
    out.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the API did not start: " + log.read_text(errors="replace")[-2000:])
        time.sleep(0.1)


def _api_trial(seed: int, corpus, tmp_path: Path) -> None:
    path, records, expected = corpus
    rng = random.Random(seed)
    store_path = tmp_path / f"api-store-{seed}"
    proc, url = start_api(store_path, "crash-tok:ingest")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    by_id = {r.id: r.graph.graph.value for r in records}
    acknowledged: set[str] = set()
    stop = threading.Event()

    def post_batches():
        # Batches of 5 records per request, from a random start: 2xx means all five are stored.
        start = rng.randrange(0, len(lines) - 400)
        with httpx.Client(base_url=url, timeout=30) as c:
            for i in range(start, len(lines), 5):
                if stop.is_set():
                    return
                body = "".join(lines[i:i + 5]).encode()
                try:
                    r = c.post(f"/records?asOf={AS_OF}", content=body, headers={
                        "Content-Type": "application/x-ndjson", "Authorization": "Bearer crash-tok"})
                except httpx.HTTPError:
                    return
                if r.status_code // 100 == 2:
                    acknowledged.update(by_id[json.loads(x)["id"]] for x in lines[i:i + 5])
                else:
                    raise AssertionError(f"POST /records: {r.status_code} {r.text[:300]} "
                                         f"{store_path.with_name(store_path.name + '.log').read_text()[-3000:]}")

    failures: list[BaseException] = []

    def run():
        try:
            post_batches()
        except BaseException as e:  # noqa: BLE001 - reported by the test thread
            failures.append(e)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    time.sleep(rng.uniform(0.3, 2.5))
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    stop.set()
    worker.join(40)
    assert not failures, failures[0]
    TOTALS["records_checked"] += verify(store_path, expected, acknowledged)
    TOTALS["acknowledged"] += len(acknowledged)
    TOTALS["api_trials"] += 1


@pytest.mark.parametrize("seed", range(4))
def test_api_killed_while_posting(seed, corpus, tmp_path):
    _api_trial(3000 + seed, corpus, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_api_killed_soak(seed, corpus, tmp_path):
    _api_trial(4000 + seed, corpus, tmp_path)


def test_zz_report_counts():
    """Last in the file: the figures for the note (visible with -s); fails if no trial checked anything."""
    print(f"\ncrash safety: {TOTALS}")
    if TOTALS["load_trials"]:
        assert TOTALS["records_checked"] > 0
