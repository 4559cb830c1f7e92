"""Both cores for one check run: the rule families run in a forked worker process while this one
runs the shapes (issue #18).

The worker is a fork, so it sees the store and the records under check as they stand at the fork:
one consistent view, as nothing writes the store during a check run. It makes the applicability
gate's decisions (while the first families that do not read them run) and sends them here, where
the shapes' results need them only once the shapes are done: at 10^5 projects the ~35 s they take
no longer come before everything else. It sends back its findings and its DATA-INSUFFICIENT
entries, pickled over a pipe, and this process merges them after its own, in the order a run in
one process gives. The store's fork guard
(prtkg.store) keeps the fork from copying the store's internal locks while another thread is inside.

The worker runs each rule family in a fork of its own, FAMILIES_AT_ONCE at a time, and merges their
results in order: what a family allocates (its query results, its facts, the store's buffers for its
queries) goes back to the system when the family ends, so a process's peak is the largest family's,
not the sum of their high-water marks (at 10^5 projects the families measured alone, each in a fork
of a parent of 0.64 GiB, peaked at 0.63-1.2 GiB; the one worker running them all was killed at
22.8 GiB). Two at a time, because the shapes' page workers end first (each record's packed copy
makes their pages cheap, prtkg/packed.py) and one family after another would then leave a core idle
for the rest of the run.

A fork costs tens of milliseconds and copies page tables, so small runs (the API's posted records,
the tests) stay in one process: PRTKG_CHECK_WORKERS=0 keeps every run in one, =1 forks whenever
there are both shapes and rules to run.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import selectors
import signal
import tempfile
import time
import traceback
from typing import Sequence

from prtkg import findings as F
from prtkg.context import check_name
from prtkg.errors import ConfigError

# Records under check from which a run forks by default: below it the rule families take well under
# a second and the fork is not worth its cost.
MIN_RECORDS = 1000


def _wanted(ctx) -> bool:
    chosen = os.environ.get("PRTKG_CHECK_WORKERS", "").strip()
    if chosen not in ("", "0", "1"):
        raise ConfigError(f"PRTKG_CHECK_WORKERS={chosen!r}: expected 0 (one process) or 1 (a worker for the rules)")
    if chosen == "0" or not hasattr(os, "fork") or (os.cpu_count() or 1) < 2:
        return False
    return chosen == "1" or len(ctx.records) >= MIN_RECORDS


class _Done:
    """No worker: nothing to add."""

    def findings(self) -> list[F.Finding]:
        return []

    def cancel(self) -> None:
        pass


# Rule families forked at once by the rules worker: the machine's two cores.
FAMILIES_AT_ONCE = 2

# The families started first, the costliest first (the rest follow in their own order), so that the
# longest does not start last and end alone on one core. Measured at 10^5 projects (bench row of
# 84ae1e5, wall seconds with the shapes beside them): cardinal 164, supervision 59, credit_codes 56,
# risk 47, collusion 30, every other family under 6. Started in the checks' order, cardinal came
# ninth and ran alone for the last ~80 s of a 315 s check. Only the start order: findings are
# merged in the checks' order whatever it is.
START_FIRST = ("rules.cardinal.check", "rules.supervision.check", "rules.credit_codes.check",
               "rules.risk.check", "rules.collusion.check")


def _end_with(parent: int) -> None:
    """In a fork: be killed when the process that forked it ends (Linux's PR_SET_PDEATHSIG), and end
    now if it has already. A `prtkg load` killed in its check (a crash, the crash-safety tests)
    left its worker and the worker's families running on, or blocked, for good."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):   # not Linux: no such call, the worker ends on its own
        pass
    if os.getppid() != parent:
        os._exit(1)


_PR_SET_PDEATHSIG = 1   # linux/prctl.h


def _start_order(checks: Sequence) -> list[tuple[int, object]]:
    """(index, check) in the order to start them: START_FIRST's, then the others in theirs."""
    rank = {name: i for i, name in enumerate(START_FIRST)}
    return sorted(enumerate(checks), key=lambda pair: (rank.get(check_name(pair[1]), len(rank)), pair[0]))


class _Worker:
    def __init__(self, ctx, checks: Sequence, apart: bool = False) -> None:
        """`apart`: the rules worker, which runs each check in a fork of its own and, when the gate's
        decisions are not yet made, makes them and sends them here (gate)."""
        self.ctx = ctx
        read, write = os.pipe()
        # The gate's decisions go through an unnamed file, and a byte on their own pipe says they are
        # written: sent down a pipe, the worker would wait for this process to read them, which it
        # does only once the shapes are done.
        gate = _GateChannel() if apart and ctx.gate_pending() else None
        guard = getattr(ctx.store, "guard", None)
        parent = os.getpid()
        with guard.exclusive() if guard is not None else contextlib.nullcontext():
            self.pid = os.fork()
        if self.pid == 0:       # the worker: run, send, exit without running the parent's clean-up
            _end_with(parent)
            os.close(read)
            try:
                payload = ("ok", *_run(ctx, checks, apart, gate.send if gate else None))
            except BaseException as e:  # noqa: BLE001 - sent to the parent, which raises it
                payload = ("error", e, traceback.format_exc())
            try:
                data = pickle.dumps(payload)
            except Exception:   # an exception that does not pickle: its text
                data = pickle.dumps(("error", RuntimeError(payload[2]), payload[2]))
            with os.fdopen(write, "wb") as out:
                out.write(data)
            os._exit(0)
        os.close(write)
        self.read = read
        self.ended = False
        self._gate = gate
        if gate is not None:    # the worker makes the gate's decisions; they are read here when needed
            gate.sent_by(self)
            ctx.gate_from = gate.receive

    def cancel(self) -> None:
        """The run failed here: stop the worker (it may be waiting to send a result no one reads),
        unless it has ended and been waited for already (its error is what failed the run)."""
        if self._gate is not None:
            self._gate.close()
        if self.ended:
            return
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.read)

    def findings(self, data: bytes | None = None) -> list[F.Finding]:
        """The worker's findings (its DATA-INSUFFICIENT entries go to the run's); raises what it raised.
        `data`: what it sent, read already (_apart)."""
        if data is None:
            with os.fdopen(self.read, "rb") as fh:
                data = fh.read()
        _, status = os.waitpid(self.pid, 0)
        self.ended = True
        if not data:
            raise RuntimeError(f"the rules worker (pid {self.pid}) ended without a result (status {status})")
        payload = pickle.loads(data)
        if payload[0] == "error":
            raise payload[1]
        _, found, insufficient, timings = payload
        self.ctx.insufficient.merge(insufficient)
        self.ctx.timings.update(timings)
        return found


class _GateChannel:
    """The rules worker's gate decisions, for the process that forked it: written to an unnamed
    temporary file (shared across the fork), announced by a byte on a pipe."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()
        self.read, self.write = os.pipe()
        self.worker: _Worker | None = None

    def sent_by(self, worker: "_Worker") -> None:
        """In the parent, after the fork."""
        os.close(self.write)
        self.worker = worker

    def send(self, gate, entries: F.Insufficiency) -> None:
        """In the worker."""
        os.close(self.read)
        pickle.dump((gate, entries), self.file)
        self.file.flush()
        os.write(self.write, b"\x01")
        os.close(self.write)

    def receive(self):
        """In the parent: waits for the decisions. Raises what the worker raised if it ended without
        sending them (the pipe then reads as closed)."""
        try:
            sent = os.read(self.read, 1)
            if not sent:
                self.worker.findings()      # raises the worker's error
                raise RuntimeError(f"the rules worker (pid {self.worker.pid}) ended without the gate's decisions")
            self.file.seek(0)
            return pickle.load(self.file)
        finally:
            self.close()

    def close(self) -> None:
        if not self.file.closed:
            os.close(self.read)
            self.file.close()


def _run(ctx, checks: Sequence, apart: bool = False, send_gate=None) -> tuple[list[F.Finding], F.Insufficiency, dict]:
    """The checks' findings, DATA-INSUFFICIENT entries and timings; `apart`: each check in a fork of
    its own (its results merged here in order, as if it had run here), the gate's decisions made
    here if they are not yet, and sent with `send_gate`."""
    ctx.insufficient = F.Insufficiency()    # only what these checks add goes back
    if apart:
        return _apart(ctx, checks, send_gate), ctx.insufficient, ctx.timings
    with F.naming(ctx.store):
        found = [f for check in checks for f in timed(ctx, check)]
    return found, ctx.insufficient, ctx.timings


def _apart(ctx, checks: Sequence, send_gate=None) -> list[F.Finding]:
    """Each check in a fork of its own, FAMILIES_AT_ONCE running, the next started as one ends; their
    findings merged in the checks' order. Every running fork's pipe is read as data comes, so none
    waits on a full pipe for its turn to be read.

    When the gate's decisions are not made yet, the first families that never read them
    (rules.gate_free) start at once, and this process makes the decisions meanwhile (at 10^5
    projects ~35 s, which the whole check used to wait for before anything else began), then sends
    them (`send_gate`: to the process running the shapes) or keeps their entries with its own."""
    pending = _start_order(checks)
    running: dict[int, tuple[int, _Worker, list[bytes]]] = {}     # pipe -> (index, worker, data so far)
    done: dict[int, tuple[_Worker, bytes]] = {}

    def start(sel, i: int, check) -> None:
        w = _Worker(ctx, [check])
        running[w.read] = (i, w, [])
        sel.register(w.read, selectors.EVENT_READ)
    try:
        with selectors.DefaultSelector() as sel:
            if ctx.gate_pending():
                from prtkg import rules
                free = set(rules.gate_free())
                first = [pair for pair in pending if pair[1] in free][:FAMILIES_AT_ONCE]
                pending = [pair for pair in pending if pair not in first]
                for i, check in first:
                    start(sel, i, check)
                entries = ctx.make_gate()
                if send_gate is not None:
                    send_gate(ctx.applicability(), entries)
                else:
                    ctx.insufficient.merge(entries)
            while pending or running:
                while pending and len(running) < FAMILIES_AT_ONCE:
                    start(sel, *pending.pop(0))
                for key, _ in sel.select():
                    i, w, parts = running[key.fd]
                    chunk = os.read(key.fd, 1 << 20)
                    if chunk:
                        parts.append(chunk)
                        continue
                    sel.unregister(key.fd)
                    os.close(key.fd)
                    del running[key.fd]
                    done[i] = (w, b"".join(parts))
    except BaseException:
        for _, w, _ in running.values():
            w.cancel()
        for w, _ in done.values():
            os.waitpid(w.pid, 0)
        raise
    return [f for i in range(len(checks)) for f in done[i][0].findings(done[i][1])]


def timed(ctx, check) -> list[F.Finding]:
    """The check's findings, its wall time added to ctx.timings."""
    t0 = time.perf_counter()
    found = list(check(ctx))
    ctx.timings[check_name(check)] = ctx.timings.get(check_name(check), 0.0) + time.perf_counter() - t0
    return found


def split(ctx, checks: Sequence) -> tuple[list, _Worker | _Done]:
    """(checks to run here, the worker running the rule families): the rule families go to a worker
    when there are other checks to run meanwhile and the run is large enough (or asked to)."""
    from prtkg import rules
    families = set(rules.checks())
    away = [c for c in checks if c in families]
    here = [c for c in checks if c not in families]
    if not away or not here or not _wanted(ctx):
        return list(checks), _Done()
    return here, _Worker(ctx, away, apart=True)
