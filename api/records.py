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
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from prtkg import findings as F
from prtkg.checking import Context, bundled, run_checks, today
from prtkg.errors import CheckFailed, InputError
from prtkg.ingest import findings_update
from prtkg.records import LoadResult
from prtkg.remote_store import is_remote
from prtkg.store import Store, _record_update

from .auth import bearer, caller, require

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


async def _load(request: Request, name: str | None) -> LoadResult:
    from prtkg import loaders

    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in loaders.MEDIA_TYPES:
        raise HTTPException(415, f"unsupported Content-Type {media or '(none)'!r}; "
                                 f"send one of {', '.join(MEDIA_TYPES)}")
    body = await read_body(request)
    if not body.strip():
        raise HTTPException(400, "the body is empty: send one or more records")
    source = name or "body" + loaders.MEDIA_TYPES[media]
    try:
        return await run_in_threadpool(loaders.load_bytes, body, source, media)
    except InputError as e:
        raise HTTPException(400, str(e)) from None


def _check(store: Store, loaded: LoadResult, as_of: dt.date) -> list[F.Finding]:
    return run_checks(Context(store, loaded.records, as_of))


def validate_records(loaded: LoadResult, reference: LoadResult, as_of: dt.date) -> dict:
    store = Store(None)
    store.load_ontology()
    store.replace_records(reference.records + loaded.records)
    return F.report(len(loaded.records), _check(store, loaded, as_of), loaded.rejected)


def _checked_in_trial(store: Store, loaded: LoadResult, as_of: dt.date, agent: str) -> list[F.Finding]:
    """Write and check the records in a private, writable copy of the on-disk store, thrown away
    afterwards: a RocksDB checkpoint beside the store (hard links; ~0.2 s on the demo's 137k quads)."""
    prefix = f".{store.path.name}.trial-"
    # Called under the write lock, so any copy left here is one a failed or killed call left behind.
    for stale in store.path.parent.glob(prefix + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=store.path.parent))
    try:
        store.checkpoint(folder / "store")
        trial = Store(folder / "store")
        trial.replace_records(loaded.records, agent=agent)
        found = _check(trial, loaded, as_of)
        del trial
        gc.collect()  # pyoxigraph closes a store when its last reference goes (the check's context holds one)
        return found
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _checked_in_place(store: Store, loaded: LoadResult, as_of: dt.date, agent: str) -> list[F.Finding]:
    """The records are written, checked, and on failure their previous graphs (or none) are put back
    in one update before the error goes on. For stores that cannot be copied cheaply: a remote one,
    and an in-memory one (copying the demo's takes 1.2 s, against 0.05 s for the whole post; and what
    is in memory dies with the process, so no crash can leave it half-written)."""
    graphs = [r.graph.graph for r in loaded.records]
    before = store.graphs_quads(graphs)
    store.replace_records(loaded.records, agent=agent)
    try:
        return _check(store, loaded, as_of)
    except BaseException:
        restore = [f"DROP SILENT GRAPH {g}" for g in graphs]
        if before:
            restore.append("INSERT DATA { " + " ".join(
                f"GRAPH {q.graph_name} {{ {q.subject} {q.predicate} {q.object} }}" for q in before) + " }")
        store.update(" ;\n".join(restore))
        raise


def store_records(store: Store, lock: threading.Lock, loaded: LoadResult, as_of: dt.date, agent: str) -> dict:
    """Check the records and store them with their findings; if checking fails, nothing is stored
    (CheckFailed: a 500 whose error id is in the server log).

    On disk the check runs in a private copy of the store and the records and their findings are then
    written in one transaction: a reader, or a crash, sees both or neither."""
    if not loaded.records:
        return F.report(0, [], loaded.rejected)
    # One writer at a time: the store the check saw is the store the write changes.
    with lock:
        in_trial = not is_remote(store) and store.path is not None
        try:
            found = (_checked_in_trial if in_trial else _checked_in_place)(store, loaded, as_of, agent)
        except Exception as e:
            raise CheckFailed(f"checking the {len(loaded.records)} record(s) failed, so none of them "
                              "was stored") from e
        findings = findings_update(loaded.records, found, as_of)
        if in_trial:
            at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
            store.update(_record_update(loaded.records, agent, at) + " ;\n" + findings)
        else:
            store.update(findings)
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
    loaded = await _load(request, name)
    reference = request.app.state.reference
    return await _limited(request, lambda: validate_records(loaded, reference.get(), as_of or today()))


@router.post("/records", responses={**_RESPONSES, 401: {}, 403: {}}, openapi_extra=_BODY_DOC,
             dependencies=[Depends(require("ingest"))])
async def submit(request: Request, name: str | None = _NAME, as_of: dt.date | None = _AS_OF,
                 cred: HTTPAuthorizationCredentials | None = Depends(bearer)) -> dict:
    """Check records and store them; a re-submitted record replaces its earlier graph. Bad records
    are listed under `rejected`, the others are stored."""
    loaded = await _load(request, name)
    state = request.app.state
    return await run_in_threadpool(store_records, state.store, state.write_lock, loaded, as_of or today(),
                                   caller(request, cred))
