"""`prtkg load`: ingest records into the persistent store, batch by batch, then check what came in.

Large OCDS JSON Lines files are streamed in bounded memory. Releases of one ocid may be far apart in
a file, and a process must be compiled from all of its releases at once, so a first pass reads each
line once and keeps only ocid -> byte offsets of its lines (tens of bytes per release, not the
release); the second pass seeks to the lines of BATCH ocids at a time, compiles and maps them, and
writes the batch. Memory is then the index plus one batch, whatever the file's order; an external
sort by ocid would bound the index too but costs a full rewrite of the file, which 10^5-10^6
releases do not need.

Writes: each batch replaces its records' graphs in one transaction (one update request on a remote
store), so a re-run replaces rather than duplicates, and an interrupted run leaves whole records.
A batch of records the store does not hold yet goes through Oxigraph's bulk loader, one bulk call per
batch: it builds the batch's table files and RocksDB ingests them in one atomic step, so a crash
leaves the batch whole or absent, like a transaction (prtkg.store.Store.replace_records; the crash
tests in tests/test_crash_safety.py kill loads at random points and check exactly that).
"""
from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterator, Sequence

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from prtkg import findings as F
from .checking import Context, run_checks
from prtkg import tallies
from prtkg.rules import cardinal
from prtkg.clock import today
from prtkg.errors import InputError
from prtkg.rdf import RecordGraph
from prtkg.records import FieldError, LoadResult, Record, Rejection
from prtkg.inference import materialise
from prtkg.store import Store, open_store
from prtkg.store.common import _whoami

BATCH = 500  # records per transaction: large enough to amortise the update, small enough to lose little on a crash
# Records per check of a load into a store holding others (_check_written).
CHECK_BATCH = 5000
STREAM_BYTES = 4 << 20  # JSON Lines files above this size are streamed


def findings_update(store: Store, records: Sequence[Record], found: Sequence[F.Finding], as_of: dt.date) -> str:
    """The SPARQL update storing a re-check of these records: new findings, resolved and reopened
    cases (prtkg.casework.findings_update; read against the store as it is, under the write lock)."""
    from prtkg.casework import findings_update as update

    return update(store, records, found, as_of)


def store_findings(store: Store, records: Sequence[Record], found: Sequence[F.Finding], as_of: dt.date) -> None:
    """Store a re-check of these records: new findings, resolved and reopened cases, in one transaction."""
    from prtkg.casework import record_check

    record_check(store, records, found, as_of)


def _progress(console: Console | None, total: int, what: str, disable: bool) -> Progress:
    return Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), _Rate(), TimeElapsedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=True, disable=disable)


class _Rate(TextColumn):
    """Records per second (rich's own speed column shows none before the first update)."""

    def __init__(self):
        super().__init__("")

    def render(self, task):
        from rich.text import Text
        return Text(f"{task.speed or 0:,.0f} rec/s")


# -- streaming JSON Lines --------------------------------------------------------------------------

def streamable(path: Path) -> bool:
    return path.suffix.lower() in (".jsonl", ".ndjson") and path.stat().st_size > STREAM_BYTES


def index_lines(path: Path, rejected: list[Rejection], name: str | None = None
                ) -> tuple[dict[str, list[tuple[int, int]]], list[tuple[int, int]]]:
    """ocid -> [(line number, byte offset)] of its releases; and the lines that are anything else.
    `name` is the file's source name (loaders.source_name), its own name by default."""
    name = name or path.name
    by_ocid: dict[str, list[tuple[int, int]]] = {}
    others: list[tuple[int, int]] = []
    offset = 0
    with open(path, "rb") as fh:
        for n, line in enumerate(fh, start=1):
            here, offset = offset, offset + len(line)
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                rejected.append(Rejection(f"{name}#{n}", [FieldError("(line)", f"not valid JSON: {e}")]))
                continue
            ocid = obj.get("ocid") if isinstance(obj, dict) and "recordType" not in obj else None
            if isinstance(ocid, str) and ocid.strip() and "releases" not in obj and "records" not in obj:
                by_ocid.setdefault(ocid.strip(), []).append((n, here))
            else:
                others.append((n, here))
    return by_ocid, others


def _read_lines(fh, name: str, where: Sequence[tuple[int, int]]) -> list[tuple[str, object]]:
    from prtkg.loaders import jsonin
    items = []
    for n, offset in where:
        fh.seek(offset)
        items.append((f"{name}#{n}", jsonin._parse(fh.readline().decode("utf-8"))))
    return items


def stream_jsonl(path: Path, rejected: list[Rejection], batch: int = BATCH,
                 name: str | None = None) -> Iterator[LoadResult]:
    """LoadResults of at most `batch` processes each, whatever the order of the file's lines."""
    from prtkg.loaders import events, ocds
    name = name or path.name
    by_ocid, others = index_lines(path, rejected, name)
    ocids = sorted(by_ocid)
    with open(path, "rb") as fh:
        for i in range(0, len(ocids), batch):
            where = sorted(w for o in ocids[i:i + batch] for w in by_ocid[o])
            yield ocds.load(_read_lines(fh, name, where))
        for i in range(0, len(others), batch):
            items = _read_lines(fh, name, others[i:i + batch])
            result = LoadResult()
            evs = [it for it in items if isinstance(it[1], dict) and "recordType" in it[1]]
            rest = [it for it in items if not (isinstance(it[1], dict) and "recordType" in it[1])]
            if evs:
                result.extend(events.load(evs))
            if rest:
                result.extend(ocds.load(rest))
            yield result


def count_processes(path: Path) -> int:
    return sum(1 for _ in index_lines(path, [])[0])


# -- loading ---------------------------------------------------------------------------------------

class Writer:
    """Writes batches of records, each batch one transaction replacing its records' graphs; keeps
    what the checks need of each record written (not its triples), so a streamed load checks what
    it wrote and not the whole store."""

    def __init__(self, store: Store):
        self.store = store
        self.agent = _whoami()
        self.at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        self.written: list[Record] = []

    def write(self, records: Sequence[Record]) -> None:
        if records:
            self.store.replace_records(records, agent=self.agent, at=self.at, infer=False)
            cardinal.remember_records(self.store, records)
            self.written += [Record(r.id, r.kind, RecordGraph(r.graph.graph), r.source, r.digest, r.focus)
                             for r in records]


def load_into(store: Store, paths: Sequence[Path], console: Console | None = None,
              on_commit: Callable[[int, int | None], None] | None = None,
              writer: Writer | None = None) -> tuple[int, list[Rejection]]:
    """Load every path into the store; (records written, rejections). Streams big JSON Lines files."""
    from prtkg import loaders

    files = loaders.expand_named(paths)
    big = [(p, n) for p, n in files if streamable(p)]
    small = [(p, n) for p, n in files if not streamable(p)]
    writer = writer if writer is not None else Writer(store)
    rejected: list[Rejection] = []
    written = 0
    keep_going = len(files) > 1  # one unusable file among several is a rejection, not the end of the load
    if small:
        loaded = loaders.load_named(small, keep_going=keep_going)
        rejected += loaded.rejected
        with _progress(console, len(loaded.records), "loading", len(loaded.records) < BATCH) as bar:
            task = bar.add_task("load", total=len(loaded.records))
            for i in range(0, len(loaded.records), BATCH):
                writer.write(loaded.records[i:i + BATCH])
                bar.advance(task, len(loaded.records[i:i + BATCH]))
                if on_commit is not None:
                    on_commit(written + min(i + BATCH, len(loaded.records)), None)
        written += len(loaded.records)
    for path, name in big:
        try:
            total = count_processes(path)
        except OSError as e:
            if not keep_going:
                raise InputError(str(path), f"cannot read: {e.strerror or e}") from e
            rejected.append(Rejection(name, [FieldError("(file)", f"cannot read: {e.strerror or e}")]))
            continue
        with _progress(console, total, f"loading {path.name}", False) as bar:
            task = bar.add_task("load", total=total)
            for result in stream_jsonl(path, rejected, name=name):
                rejected += result.rejected
                writer.write(result.records)
                written += len(result.records)
                if on_commit is not None:
                    on_commit(written, None)
                bar.advance(task, len(result.records) + len({r.record for r in result.rejected}))
    store.flush()
    return written, rejected


def ingest(paths: Sequence[Path], as_of: dt.date | None = None, console: Console | None = None,
           store: Store | None = None, check: bool = True,
           on_commit: Callable[[int, int | None], None] | None = None) -> dict:
    """`on_commit(done, total)` is called after each batch is written: the first `done` records (in
    loader order) are then stored, whatever happens to the process next (total None when streaming)."""
    from prtkg import loaders

    as_of = as_of or today()
    store = store if store is not None else open_store()  # an empty Store is falsy (__len__)
    files = loaders.expand(paths)
    if not any(streamable(p) for p in files):
        return _ingest_in_memory(paths, as_of, console, store, check, on_commit)
    store.load_ontology()
    writer = Writer(store)
    written, rejected = load_into(store, paths, console, on_commit, writer)
    materialise(store)
    tallies.materialise(store)
    cardinal.remember_missing(store)   # what a killed load or an earlier version left uncounted
    # The records just written (graph names, not triples): each check reads them from the store and
    # bounds its cross-record queries by them, so a load does not re-check the whole store.
    found = _check_written(store, writer.written, as_of, console) if check else []
    store.flush()
    doc = F.report(written, found, rejected)
    return {"store": str(store.path), "loaded": written, "rejected": doc["rejected"], "summary": doc["summary"]}


def _check_written(store: Store, records: list[Record], as_of: dt.date, console: Console | None) -> list[F.Finding]:
    """Check the records a load wrote and store their findings. Every record of the store (a load
    into an empty store) in one check, which asks the store as a whole; else CHECK_BATCH at a time,
    each check bounded by its records. A check of some records still reads what the cross-record
    rules need of the others (the outlier flags' stored counts, rules/cardinal_tallies.py), so a
    check of BATCH records at a time read it 20 times for 10^4 records: that load spent 586 s of
    its 685 s checking."""
    step = len(records) if Context(store, records, as_of).covers_store() else CHECK_BATCH
    found: list[F.Finding] = []
    with _progress(console, len(records), "checking", len(records) < BATCH) as bar:
        task = bar.add_task("check", total=len(records))
        for i in range(0, len(records), step):
            part = records[i:i + step]
            part_found = run_checks(Context(store, part, as_of))
            _store_findings_in_batches(store, part, part_found, as_of)
            found += part_found
            bar.advance(task, len(part))
    return found


def _store_findings_in_batches(store: Store, records: Sequence[Record], found: Sequence[F.Finding],
                               as_of: dt.date) -> None:
    """The findings of a check of these records, BATCH records per transaction: each finding with
    its record, one about anything else (an organisation, a group of bidders, a record not among
    these) with the last batch."""
    batch_of = {r.id: i // BATCH for i, r in enumerate(records)}
    last = (len(records) - 1) // BATCH
    by_batch: dict[int, list[F.Finding]] = defaultdict(list)
    for f in found:
        by_batch[batch_of.get(f.record, last)].append(f)
    for b in range(last + 1):
        store_findings(store, records[b * BATCH:(b + 1) * BATCH], by_batch[b], as_of)


def _ingest_in_memory(paths, as_of, console, store, check, on_commit=None) -> dict:
    from prtkg import loaders

    loaded = loaders.load_paths(paths)
    store.load_ontology()
    records = loaded.records
    with _progress(console, len(records), "loading", len(records) < BATCH) as bar:
        task = bar.add_task("load", total=len(records))
        for i in range(0, len(records), BATCH):
            batch = records[i:i + BATCH]
            store.replace_records(batch, infer=False)
            cardinal.remember_records(store, batch)
            bar.advance(task, len(batch))
            if on_commit is not None:
                on_commit(i + len(batch), len(records))
    materialise(store)
    tallies.materialise(store)
    cardinal.remember_missing(store)   # what a killed load or an earlier version left uncounted
    found: list[F.Finding] = []
    if check:
        ctx = Context(store, records, as_of)
        found = run_checks(ctx)
        if records:
            store_findings(store, records, found, as_of)
    store.flush()
    doc = F.report(len(records), found, loaded.rejected)
    return {"store": str(store.path), "loaded": len(records), "rejected": doc["rejected"],
            "summary": doc["summary"]}
