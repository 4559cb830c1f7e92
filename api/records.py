"""POST /validate (check, store nothing) and POST /records (check and store): any record format by Content-Type."""
from __future__ import annotations

import asyncio
import datetime as dt
import gc
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from prtkg import findings as F
from prtkg.app.checking import Context, bundled, run_checks
from prtkg.clock import today
from prtkg.errors import CheckFailed, PrtkgError
from prtkg.derived import kept_up_to_date
from prtkg.app.ingest import findings_update
from prtkg.records import LoadResult
from prtkg.rules import cardinal
from prtkg.store import Store
from prtkg.store.common import _record_update
from prtkg.store.remote import is_remote

from .auth import Principal, require

router = APIRouter(tags=["records"])

MEDIA_TYPES = ("application/json", "application/x-ndjson", "text/csv", "text/turtle", "application/ld+json",
               "application/n-triples")
_BODY_DOC = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {}}, "application/x-ndjson": {"schema": {"type": "string"}},
    "text/csv": {"schema": {"type": "string"}}, "text/turtle": {"schema": {"type": "string"}},
    "application/ld+json": {"schema": {}}}}}
_RESPONSES = {200: {"description": "The findings document (summary, findings, rejected)"},
              400: {"description": "A body that cannot be used as a whole"},
              413: {"description": "Body over the limit"}, 415: {"description": "Unsupported Content-Type"}}


async def read_body(request: Request) -> bytes:
    """The request body, refused with 413 as soon as it passes the configured limit."""
    limit = request.app.state.settings.body_limit
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body has {declared} bytes; the limit is {limit} bytes (PRTKG_BODY_LIMIT)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the body passes the limit of {limit} bytes (PRTKG_BODY_LIMIT)")
        chunks.append(chunk)
    return b"".join(chunks)


class Reference:
    """The bundled reference data, loaded once: /validate checks records against it."""

    def __init__(self) -> None:
        self._loaded: LoadResult | None = None
        self._lock = threading.Lock()

    def get(self) -> LoadResult:
        with self._lock:
            if self._loaded is None:
                from prtkg import loaders
                self._loaded = loaders.load_paths([bundled("reference")])
            return self._loaded


async def _body(request: Request, name: str | None) -> tuple[bytes, str, str]:
    """(body, source name, media type) of a records request, refused before parsing when unusable."""
    from prtkg import loaders

    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in loaders.MEDIA_TYPES:
        raise HTTPException(415, f"unsupported Content-Type {media or '(none)'!r}; "
                                 f"send one of {', '.join(MEDIA_TYPES)}")
    body = await read_body(request)
    if not body.strip():
        raise HTTPException(400, "the body is empty: send one or more records")
    return body, name or "body" + loaders.MEDIA_TYPES[media], media


def _parse(body: bytes, source: str, media: str) -> LoadResult:
    """The records of a body; InputError (400, from the app's error table) when it is unusable as a whole."""
    from prtkg import loaders
    return loaders.load_bytes(body, source, media)


async def _load(request: Request, name: str | None) -> LoadResult:
    return await run_in_threadpool(_parse, *await _body(request, name))


def _check(store: Store, loaded: LoadResult, as_of: dt.date) -> list[F.Finding]:
    return run_checks(Context(store, loaded.records, as_of))


def validate_records(loaded: LoadResult, reference: LoadResult, as_of: dt.date) -> dict:
    store = Store(None)
    store.load_ontology()
    store.replace_records(reference.records + loaded.records)
    return F.report(len(loaded.records), _check(store, loaded, as_of), loaded.rejected)


def _regions(store: Store, records) -> dict[str, set[str]]:
    """The division codes each record names (by graph IRI), in the version given and in the version
    stored: one query for the whole submission, not one per record."""
    from collections import defaultdict

    from prtkg import rdf

    region = rdf.p("region")
    found: dict[str, set[str]] = defaultdict(set)
    for record in records:
        found[record.graph.graph.value] |= {q.object.value for q in record.graph.quads() if q.predicate == region}
    graphs = " ".join(str(record.graph.graph) for record in records)
    for r in store.select(f"SELECT DISTINCT ?g ?r WHERE {{ VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?x prtkg:region ?r }} }}"):
        found[r["g"]].add(r["r"])
    return {g: {iri.rsplit("/", 1)[-1] for iri in iris} for g, iris in found.items()}


def within_division(store: Store, loaded: LoadResult, division: str | None) -> LoadResult:
    """A division token may store (and replace) only records of its division and those below it:
    a record naming another region, in the version sent or the one stored, is rejected."""
    if division is None or not loaded.records:
        return loaded
    from prtkg.jurisdiction import divisions_within
    from prtkg.records import FieldError, Rejection

    keep = divisions_within(division)
    regions = _regions(store, loaded.records)
    out = LoadResult(rejected=list(loaded.rejected))
    for record in loaded.records:
        outside = sorted(regions[record.graph.graph.value] - keep)
        if outside:
            out.rejected.append(Rejection(record.id, [FieldError(
                "region", f"names division {', '.join(outside)}, outside the token's division {division}")]))
        else:
            out.records.append(record)
    return out


def _checked(check: Callable[[], list[F.Finding]], count: int) -> list[F.Finding]:
    """A failure inside checking is a defect: CheckFailed. A store failing meanwhile keeps its kind."""
    try:
        return check()
    except PrtkgError:
        raise
    except Exception as e:
        raise CheckFailed(f"checking the {count} record(s) failed, so none of them was stored") from e


def _store_via_trial(store: Store, loaded: LoadResult, as_of: dt.date, agent: str) -> list[F.Finding]:
    """Write and check the records in a private, writable copy of the on-disk store (a RocksDB
    checkpoint beside it: hard links, ~0.2 s on the demo's 137k quads), thrown away afterwards; then
    the records and their findings go into the real store in one update."""
    prefix = f".{store.path.name}.trial-"
    # Called under the write lock, so any copy left here is one a failed or killed call left behind.
    for stale in store.path.parent.glob(prefix + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=store.path.parent))
    try:
        store.checkpoint(folder / "store")
        trial = Store(folder / "store")
        trial.replace_records(loaded.records, agent=agent)
        found = _checked(lambda: _check(trial, loaded, as_of), len(loaded.records))
        del trial
        gc.collect()  # pyoxigraph closes a store when its last reference goes, and the check leaves it in a cycle
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    with kept_up_to_date(store, [r.graph.graph.value for r in loaded.records]):
        store.update(_record_update(loaded.records, agent, at) + " ;\n" + findings_update(store, loaded.records, found, as_of))
    return found


def _store_in_place(store: Store, loaded: LoadResult, as_of: dt.date, agent: str) -> list[F.Finding]:
    """The records are written, checked and their findings written; on any failure their previous
    graphs (or none) are put back in one update before the error goes on. For stores that cannot be
    copied cheaply: a remote one, and an in-memory one (copying the demo's takes 1.2 s, against
    0.05 s for the whole post; and what is in memory dies with the process, so no crash can leave it
    half-written)."""
    graphs = [r.graph.graph for r in loaded.records]
    before = store.graphs_quads(graphs)
    store.replace_records(loaded.records, agent=agent)
    try:
        found = _checked(lambda: _check(store, loaded, as_of), len(loaded.records))
        store.update(findings_update(store, loaded.records, found, as_of))
        return found
    except BaseException:
        restore = [f"DROP SILENT GRAPH {g}" for g in graphs]
        if before:
            restore.append("INSERT DATA { " + " ".join(
                f"GRAPH {q.graph_name} {{ {q.subject} {q.predicate} {q.object} }}" for q in before) + " }")
        with kept_up_to_date(store, [g.value for g in graphs]):
            store.update(" ;\n".join(restore))
        raise


def store_records(store: Store, lock: threading.Lock, loaded: LoadResult, as_of: dt.date, agent: str,
                  division: str | None = None) -> dict:
    """Check the records and store them with their findings; if checking fails, nothing is stored
    (CheckFailed: a 500 whose error id is in the server log). With a division, only records of it
    (and below it) are stored; the others are rejected.

    On disk the check runs in a private copy of the store and the records and their findings are then
    written in one transaction: a reader, or a crash, sees both or neither."""
    # One writer at a time: the store the check saw is the store the write changes.
    with lock:
        loaded = within_division(store, loaded, division)
        if not loaded.records:
            return F.report(0, [], loaded.rejected)
        in_trial = not is_remote(store) and store.path is not None
        found = (_store_via_trial if in_trial else _store_in_place)(store, loaded, as_of, agent)
        # The outlier flags' population counts of the records written (rules/cardinal_tallies.py), so
        # that the next post's check reads them rather than these records' triples.
        cardinal.remember_records(store, loaded.records)
        store.flush()
    return F.report(len(loaded.records), found, loaded.rejected)


_NAME = Query(None, max_length=200, description="Source name (file name) for the body, e.g. powers-yunnan.csv: "
                                                 "it names a CSV list's graph and the records in findings")
_AS_OF = Query(None, alias="asOf", description="'Today' for deadlines still running (default: today in China)")


async def _limited(request: Request, work: Callable[[], dict]) -> dict:
    """Run an open route's checking under PRTKG_MAX_VALIDATIONS and PRTKG_VALIDATE_TIMEOUT.

    A thread cannot be stopped, so a check past its time limit answers 504 at once but runs on to its
    end, holding its slot until then: the cap bounds the work really running, not just the waiting."""
    settings, gate = request.app.state.settings, request.app.state.validations
    if not gate.acquire(blocking=False):
        raise HTTPException(503, f"{settings.max_validations} checks are running, the most at once "
                                 "(PRTKG_MAX_VALIDATIONS); try again shortly", headers={"Retry-After": "5"})

    def run() -> dict:
        try:
            return work()
        finally:
            gate.release()
    try:
        future = asyncio.get_running_loop().run_in_executor(None, run)
    except BaseException:
        gate.release()
        raise
    try:
        return await asyncio.wait_for(asyncio.shield(future), settings.validate_timeout)
    except asyncio.TimeoutError:
        raise HTTPException(504, f"checking took longer than the time limit of {settings.validate_timeout:g} s "
                                 "(PRTKG_VALIDATE_TIMEOUT); send fewer records at a time") from None


@router.post("/validate", responses={**_RESPONSES, 503: {"description": "Too many checks running (PRTKG_MAX_VALIDATIONS)"},
                                     504: {"description": "Over the time limit (PRTKG_VALIDATE_TIMEOUT)"}},
             openapi_extra=_BODY_DOC)
async def validate(request: Request, name: str | None = _NAME, as_of: dt.date | None = _AS_OF) -> dict:
    """Check records against the bundled reference data; nothing is stored. At most
    PRTKG_MAX_VALIDATIONS run at once (more: 503), each within PRTKG_VALIDATE_TIMEOUT seconds (504)."""
    body = await _body(request, name)
    reference = request.app.state.reference
    # Parsing counts too: a body at the size limit takes seconds to read.
    return await _limited(request, lambda: validate_records(_parse(*body), reference.get(), as_of or today()))


@router.post("/records", responses={**_RESPONSES, 401: {}, 403: {}}, openapi_extra=_BODY_DOC)
async def submit(request: Request, name: str | None = _NAME, as_of: dt.date | None = _AS_OF,
                 who: Principal = Depends(require("ingest"))) -> dict:
    """Check records and store them; a re-submitted record replaces its earlier graph. Bad records
    are listed under `rejected`, the others are stored. A token with a division stores records of
    its division (and those below it) only; others are rejected."""
    loaded = await _load(request, name)
    state = request.app.state
    return await run_in_threadpool(store_records, state.store, state.write_lock, loaded, as_of or today(),
                                   who.agent, who.division)
