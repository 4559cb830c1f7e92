"""Evaluation of one SPARQL query, and the worker processes that do it for an on-disk store.

Why worker processes at all: pyoxigraph offers no way to cancel a running query, so the only way to
stop a runaway one at the time limit is to kill the process evaluating it.

Why not a child forked from the server (as the in-memory store still does, see api/sparql.py): the
on-disk store is RocksDB, whose background threads (flush, compaction after writes) hold mutexes
that the server's own locks cannot see. A child forked at the wrong instant inherits such a mutex
held and hangs on its first read until the time limit. So the workers here are started by a
`forkserver` (a fresh interpreter exec'd once, which never opens a store; workers fork from it)
and each opens the store itself, **read-only**: a read-only RocksDB instance takes no lock file,
writes nothing and runs no flush or compaction, so there is no lock to inherit or contend for.

pyoxigraph 0.5 offers `Store.read_only` (its "secondary" instance is gone). A read-only instance is
a snapshot of the committed state when it is opened (files plus the write-ahead log, so every
acknowledged write is in it). The server counts its committed writes (`Store.generation`; RocksDB's
lock file makes it the only writer) and hands each job out with that count; a worker whose snapshot
is older opens a new one (~20 ms idle, a few hundred under load), and keeps it otherwise. Opening
replays the unflushed write-ahead log (~30 ms a megabyte); the API's writers (POST /records, credit
checks) flush after each write, so it stays small. pyoxigraph calls reading while another
process writes "undefined behaviour"; the failure RocksDB actually shows is a file the writer's
compaction deleted between the snapshot's listing and its opening (an I/O error). Opening is
retried for that, and a query failing so is asked again once on a fresh snapshot. The workers live
as long as the server, one per query slot; one killed at the time limit is replaced at once.
A worker that has not opened its snapshot within OPEN_LIMIT is replaced and the job handed on.
Known left: rarely (about one cheap query in a few hundred under mixed load with writes) the
evaluation on an opened snapshot stalls until the time limit; see tests/test_load.py
(test_mixed_load_on_disk, xfail). A stalled worker is killed like a runaway query.
"""
from __future__ import annotations

import multiprocessing as mp
import threading
import time
import weakref

import pyoxigraph as ox

from prtkg.querying import solutions_csv

SOLUTION_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


def _accepted(accept: str | None) -> list[str]:
    """Media ranges of an Accept header, best first (q=0 dropped)."""
    ranked = []
    for i, part in enumerate((accept or "").split(",")):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for f in fields[1:]:
            if f.lower().startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, i, fields[0].lower()))
    return [m for _, _, m in sorted(ranked)]


def negotiate(kind: str, accept: str | None) -> str | None:
    """The media type to answer with, or None when the client accepts none we can give."""
    offered = GRAPH_TYPES if kind == "graph" else SOLUTION_TYPES
    default = next(iter(offered))
    ranges = _accepted(accept)
    if not ranges:
        return default
    for r in ranges:
        if r in offered:
            return r
        if r == "*/*" or (r.endswith("/*") and default.startswith(r[:-1])):
            return default
        if r.endswith("/*"):
            match = next((t for t in offered if t.startswith(r[:-1])), None)
            if match:
                return match
    return None


def _store_failure(e: Exception) -> bool:
    """An error of the store's files rather than of the query (RocksDB reports some as RuntimeError)."""
    return isinstance(e, OSError) or (isinstance(e, RuntimeError)
                                      and any(w in str(e) for w in ("IO error", "Corruption", "No such file")))


def _run(store, text: str, accept: str | None, dataset: dict) -> tuple:
    """Run and serialise one query; errors of the store's files propagate (a worker retries them)."""
    query = getattr(store, "raw_query", None) or store.query
    try:
        result = query(text, **dataset)
        kind = "graph" if isinstance(result, ox.QueryTriples) else "solutions"
        media = negotiate(kind, accept)
        if media is None:
            offered = ", ".join(GRAPH_TYPES if kind == "graph" else SOLUTION_TYPES)
            return ("error", 406, f"cannot answer this query in the accepted media types; offered: {offered}")
        fmt = (GRAPH_TYPES if kind == "graph" else SOLUTION_TYPES)[media]
        if fmt == ox.QueryResultsFormat.CSV and isinstance(result, ox.QuerySolutions):
            return ("ok", media, solutions_csv(result))  # formula-like cells defused
        return ("ok", media, result.serialize(format=fmt))
    except SyntaxError as e:
        return ("error", 400, f"not a SPARQL query: {e}")
    except (RuntimeError, ValueError) as e:
        if _store_failure(e):
            raise
        return ("error", 400, f"the query failed: {e}")


def evaluate(store, text: str, accept: str | None, dataset: dict) -> tuple:
    """("ok", media type, bytes) or ("error", status, message)."""
    try:
        return _run(store, text, accept, dataset)
    except (OSError, RuntimeError) as e:
        return ("error", 400, f"the query failed: {e}")


# -- worker processes for the on-disk store -----------------------------------------------------

_OPEN_ATTEMPTS = 40
READY = ("ready",)
# Opening a snapshot takes ~20 ms, a few hundred under load. One that has not opened after this long
# is given up and the job handed to a fresh worker (twice at most, within the query's time limit):
# under a busy writer a read-only open can stall, and that is no fault of the query.
OPEN_LIMIT = 1.5


def _open(path: str) -> ox.Store:
    for attempt in range(_OPEN_ATTEMPTS):
        try:
            return ox.Store.read_only(path)
        except (OSError, RuntimeError) as e:
            # A file the writer's compaction deleted between the listing and the opening of the
            # snapshot: a later listing is consistent again (compactions follow one another under
            # writes, so a few tries may be needed; at most about a second in all).
            if attempt == _OPEN_ATTEMPTS - 1 or not _store_failure(e):
                raise OSError(f"cannot open the store at {path} for reading: {e}") from None
            time.sleep(0.005 * min(attempt + 1, 8))
    raise AssertionError("unreachable")


def serve(conn, path: str) -> None:
    """A worker's life: answer (generation, text, accept, dataset) jobs until the server closes the pipe."""
    store: ox.Store | None = None
    seen = None
    while True:
        try:
            generation, *job = conn.recv()
        except (EOFError, OSError):
            return
        outcome = None
        for attempt in range(2):
            try:
                if store is None or generation != seen or attempt:
                    store = None  # release the old snapshot before opening the new one
                    store, seen = _open(path), generation
                if not attempt:
                    conn.send(READY)
                outcome = _run(store, *job)
                break
            except (OSError, RuntimeError) as e:
                store = None
                outcome = ("error", 503, f"the store could not be read, try again: {e}")
        try:
            conn.send(outcome)
        except (EOFError, OSError):
            return


def _context():
    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        # Imported once in the fork server, so a new worker costs a fork, not an interpreter start.
        ctx.set_forkserver_preload([__name__])
        return ctx
    return mp.get_context("spawn")


class _Worker:
    def __init__(self, ctx, path: str):
        self.conn, child_end = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=serve, args=(child_end, path), daemon=True, name="prtkg-query")
        self.process.start()
        child_end.close()

    def stop(self) -> None:
        try:
            self.conn.close()
        finally:
            if self.process.is_alive():
                self.process.kill()
            self.process.join(5)


class WorkerPool:
    """Long-lived read-only query workers over one on-disk `prtkg.store.Store`; at most `size` busy
    at once (the caller bounds concurrency). Started on first use, stopped when the pool is collected."""

    def __init__(self, store, size: int):
        self.store = store
        self.path = str(store.path)
        self.size = size
        self._ctx = _context()
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _stop_all, self._idle)

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                w = self._idle.pop()
                if w.process.is_alive():
                    return w
                w.stop()
        return _Worker(self._ctx, self.path)

    def _give(self, w: _Worker) -> None:
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(w)
                return
        w.stop()

    def run(self, job: tuple, timeout: float) -> tuple | None:
        """The worker's outcome, or None when the time limit passed (that worker is killed)."""
        deadline = time.monotonic() + timeout
        job = (self.store.generation, *job)
        for tries in range(3):
            w = self._take()
            try:
                w.conn.send(job)
            except OSError:  # it died while idle: a fresh one
                w.stop()
                w = _Worker(self._ctx, self.path)
                w.conn.send(job)
            try:
                left = deadline - time.monotonic()
                if tries < 2 and left > OPEN_LIMIT and not w.conn.poll(OPEN_LIMIT):
                    w.stop()  # stalled opening its snapshot: another worker, another snapshot
                    continue
                if not w.conn.poll(max(0.0, deadline - time.monotonic())):
                    break
                first = w.conn.recv()
                if first == READY:
                    if not w.conn.poll(max(0.0, deadline - time.monotonic())):
                        break
                    first = w.conn.recv()
            except (EOFError, OSError):
                w.stop()
                return ("error", 500, "the query worker ended without an answer")
            self._give(w)
            return first
        w.stop()
        try:
            self._give(_Worker(self._ctx, self.path))  # the next query finds one ready
        except OSError:
            pass  # the next query starts one itself
        return None

    def close(self) -> None:
        self._finalizer()


def _stop_all(workers: list[_Worker]) -> None:
    while workers:
        workers.pop().stop()
