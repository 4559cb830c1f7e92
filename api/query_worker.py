"""Evaluation of one SPARQL query, and the worker processes that do it for an on-disk store.

Why worker processes at all: pyoxigraph offers no way to cancel a running query, so the only way to
stop a runaway one at the time limit is to kill the process evaluating it.

Why not a child forked from the server (as the in-memory store still does, see api/sparql.py): the
on-disk store is RocksDB, whose background threads (flush, compaction after writes) hold mutexes
that the server's own locks cannot see. A child forked at the wrong instant inherits such a mutex
held and hangs on its first read until the time limit. So the workers here are started by a
`forkserver` (a fresh interpreter exec'd once, which never opens a store; workers fork from it).

Why the workers read a checkpoint, not the live store: pyoxigraph calls reading a store while
another process writes it undefined behaviour, and so it was: a read-only instance opened beside
the server's writes now and then failed on a table file compaction had just deleted, or stalled in
its evaluation until the time limit. A RocksDB checkpoint (`Store.checkpoint`) is a folder of hard
links to the store's immutable table files plus its own manifest: nothing writes it, compaction of
the live store cannot take a file from under it, and taking one costs tens of milliseconds. The
server counts its committed writes (`Store.generation`; RocksDB's lock file makes it the only
writer); a query finding the count moved since the last checkpoint takes a new one first, so every
answer reflects every write acknowledged before the query arrived. Each job names its checkpoint;
a worker keeps its open instance while the name stays the same. A checkpoint no worker holds and
no longer the newest is deleted. The workers live as long as the server, one per query slot; one
killed at the time limit is replaced at once.

Every process that evaluates queries (these workers, and the per-query children of api/sparql.py)
starts with `sandbox`: it checks each query itself (prtkg.querying.standard_query, under the time
limit, so a pathological text costs the worker, not the server), leaves the network (a SERVICE the
check missed finds none), and caps its memory (a worker over the cap dies and is replaced, 503).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing as mp
import os
import resource
import shutil
import signal
import tempfile
import threading
import time
import weakref
from pathlib import Path

import pyoxigraph as ox

from prtkg.querying import (PARSE_STACK_BYTES, QueryRefused, allow_deep_parsing, query_dataset, solutions_csv,
                            standard_query)
from prtkg.store.remote import is_remote

_CLONE_NEWNET = 0x40000000

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


def drop_network() -> str | None:
    """Leave the host's network for an empty namespace of our own (Linux, as root or with
    CAP_SYS_ADMIN), so that no query evaluated in this process can open a connection, whatever a
    parser missed. None when done, else why not."""
    if not hasattr(os, "unshare") and ctypes.util.find_library("c") is None:
        return "no unshare() on this system"
    try:
        if hasattr(os, "unshare"):  # Python 3.12+
            os.unshare(_CLONE_NEWNET)
            return None
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        if libc.unshare(_CLONE_NEWNET) != 0:
            return os.strerror(ctypes.get_errno())
        return None
    except (OSError, AttributeError) as e:
        return str(e)


def cap_memory(megabytes: int | None) -> None:
    """Let this process allocate at most `megabytes` more than it holds now (RLIMIT_DATA: heap and
    private mappings, which is where a query's intermediate results live), plus the stack of the
    thread that parses the query (a private mapping too)."""
    if not megabytes:
        return
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            held = next((int(line.split()[1]) * 1024 for line in f if line.startswith("VmData:")), 0)
        limit = held + megabytes * 1024 * 1024 + PARSE_STACK_BYTES
        hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
        resource.setrlimit(resource.RLIMIT_DATA, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    except (OSError, ValueError):
        pass  # no /proc or no such limit here: the time limit still bounds the query


def sandbox(memory_mb: int | None, network: bool) -> None:
    """What a process that evaluates queries does first: parse deep, cap memory, (usually) lose the network."""
    allow_deep_parsing()
    if not network:
        drop_network()
    cap_memory(memory_mb)


def probe_network_isolation() -> str | None:
    """Whether a query process will lose the network: tried once in a throwaway child."""
    if not hasattr(os, "fork"):
        return "no fork() on this system"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            os.write(write, (drop_network() or "").encode()[:500])
        finally:
            os._exit(0)
    os.close(write)
    try:
        reason = os.read(read, 512).decode(errors="replace")
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    return reason or None


def memory_message(memory_mb: int | None, exitcode: int | None) -> str:
    how = f"signal {signal.Signals(-exitcode).name}" if exitcode and exitcode < 0 else f"exit code {exitcode}"
    return (f"the query was stopped: its worker ended abnormally ({how}), which is what passing the memory "
            f"limit of {memory_mb} MB per query looks like (PRTKG_QUERY_MEMORY_MB); narrow the query "
            "(LIMIT, more specific patterns)")


def _run(store, text: str, accept: str | None, request: dict) -> tuple:
    """Check, run and serialise one query; errors of the store's files propagate (a worker retries them)."""
    query = getattr(store, "raw_query", None) or store.query
    try:
        checked = standard_query(text)
        dataset = query_dataset(checked, request.get("default_graph_uris", ()),
                                request.get("named_graph_uris", ()), request.get("allowed_graphs"),
                                remote=is_remote(store))
    except QueryRefused as e:
        return ("error", e.status, str(e))
    try:
        result = query(checked.text, **dataset)
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
    except MemoryError:
        return ("error", 503, "the query was stopped: it needed more memory than the limit per query "
                              "(PRTKG_QUERY_MEMORY_MB); narrow it (LIMIT, more specific patterns)")
    except (RuntimeError, ValueError) as e:
        if _store_failure(e):
            raise
        return ("error", 400, f"the query failed: {e}")


def evaluate(store, text: str, accept: str | None, request: dict) -> tuple:
    """("ok", media type, bytes) or ("error", status, message). `request`: the Protocol's
    default_graph_uris and named_graph_uris, and allowed_graphs (see prtkg.querying.query_dataset)."""
    try:
        return _run(store, text, accept, request)
    except (OSError, RuntimeError) as e:
        return ("error", 400, f"the query failed: {e}")


# -- worker processes for the on-disk store -----------------------------------------------------

def serve(conn, memory_mb: int | None = None) -> None:
    """A worker's life: answer (checkpoint, text, accept, request) jobs until the server closes the pipe."""
    sandbox(memory_mb, network=False)
    try:
        conn.send(("ready",))  # a query's time limit starts now, not while the interpreter starts
    except (EOFError, OSError):
        return
    store: ox.Store | None = None
    seen = None
    while True:
        try:
            snapshot, *job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if snapshot != seen:
                store = None  # release the old checkpoint's files before opening the new one
                store, seen = ox.Store.read_only(snapshot), snapshot
            outcome = _run(store, *job)
        except (OSError, RuntimeError) as e:
            store = seen = None
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


# Starting a worker (a fork of the fork server, then the sandbox) is not the query's time; under load,
# and the first time (the fork server itself starts), it can take seconds.
WORKER_START_TIMEOUT = 60.0


class _Worker:
    def __init__(self, ctx, memory_mb: int | None):
        self.conn, child_end = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=serve, args=(child_end, memory_mb), daemon=True, name="prtkg-query")
        self.process.start()
        child_end.close()
        self.snapshot: str | None = None  # the checkpoint it was last sent (and so holds open)
        self.ready = False

    def wait_ready(self, timeout: float) -> bool:
        """Whether the worker has started (sandboxed, imports done) within `timeout` seconds."""
        if not self.ready:
            try:
                self.ready = self.conn.poll(timeout) and self.conn.recv() == ("ready",)
            except (EOFError, OSError):
                return False
        return self.ready

    def stop(self) -> None:
        try:
            self.conn.close()
        finally:
            if self.process.is_alive():
                self.process.kill()
            self.process.join(5)


class WorkerPool:
    """Long-lived query workers over checkpoints of one on-disk `prtkg.store.Store`; at most `size`
    busy at once (the caller bounds concurrency). Started on first use, stopped when the pool is collected."""

    def __init__(self, store, size: int, memory_mb: int | None = None):
        self.store = store
        self.size = size
        self.memory_mb = memory_mb
        self._ctx = _context()
        self._idle: list[_Worker] = []
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._snap_lock = threading.Lock()
        # Beside the store, so that the checkpoint's hard links stay on its file system. The store's lock
        # makes this server its only writer, so checkpoints left by a server killed before are stale.
        prefix = f".{store.path.name}.snapshots-"
        for stale in store.path.parent.glob(prefix + "*"):
            shutil.rmtree(stale, ignore_errors=True)
        self._dir = Path(tempfile.mkdtemp(prefix=prefix, dir=store.path.parent))
        self._current: tuple[int, str] | None = None
        self._finalizer = weakref.finalize(self, _stop_all, self._idle, self._workers, self._dir)

    def _snapshot(self, w: _Worker) -> str:
        """The newest checkpoint, taken now if a write was committed since the last one, marked as held
        by `w` before any other query can prune it."""
        with self._snap_lock:
            generation = self.store.generation  # read first: the checkpoint holds at least these writes
            if self._current is None or self._current[0] != generation:
                path = self._dir / f"g{generation}-{os.urandom(4).hex()}"
                self.store.checkpoint(path)
                self._current = (generation, str(path))
                self._prune()
            w.snapshot = self._current[1]
            return w.snapshot

    def _prune(self) -> None:
        with self._lock:
            held = {w.snapshot for w in self._workers} | {self._current[1]}
        for old in self._dir.iterdir():
            if str(old) not in held:
                shutil.rmtree(old, ignore_errors=True)

    def _new(self) -> _Worker:
        w = _Worker(self._ctx, self.memory_mb)
        with self._lock:
            self._workers.add(w)
        return w

    def _stop(self, w: _Worker) -> None:
        with self._lock:
            self._workers.discard(w)
        w.stop()

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                w = self._idle.pop()
                if w.process.is_alive():
                    return w
                self._workers.discard(w)
                w.stop()
        return self._new()

    def _give(self, w: _Worker) -> None:
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(w)
                return
        self._stop(w)

    def run(self, job: tuple, timeout: float) -> tuple | None:
        """The worker's outcome, or None when the time limit passed (that worker is killed)."""
        w = self._take()
        if not w.wait_ready(WORKER_START_TIMEOUT):
            self._stop(w)
            return ("error", 503, "a query worker did not start; try again")
        deadline = time.monotonic() + timeout
        try:
            snapshot = self._snapshot(w)
        except (OSError, RuntimeError) as e:
            self._give(w)
            return ("error", 503, f"the store could not be read, try again: {e}")
        try:
            w.conn.send((snapshot, *job))
        except OSError:  # it died while idle: a fresh one
            self._stop(w)
            w = self._new()
            if not w.wait_ready(WORKER_START_TIMEOUT):
                self._stop(w)
                return ("error", 503, "a query worker did not start; try again")
            deadline = time.monotonic() + timeout
            w.conn.send((self._snapshot(w), *job))
        try:
            if not w.conn.poll(max(0.0, deadline - time.monotonic())):
                self._stop(w)
                try:
                    self._give(self._new())  # the next query finds one ready
                except OSError:
                    pass  # the next query starts one itself
                return None
            outcome = w.conn.recv()
        except (EOFError, OSError):
            self._stop(w)
            try:
                self._give(self._new())
            except OSError:
                pass
            if w.process.exitcode is not None and w.process.exitcode != 0:
                return ("error", 503, memory_message(self.memory_mb, w.process.exitcode))
            return ("error", 500, "the query worker ended without an answer")
        self._give(w)
        return outcome

    def close(self) -> None:
        self._finalizer()


def _stop_all(idle: list[_Worker], workers: set[_Worker], folder: Path) -> None:
    idle.clear()
    while workers:
        workers.pop().stop()
    shutil.rmtree(folder, ignore_errors=True)
