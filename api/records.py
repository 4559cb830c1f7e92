"""POST /validate (check, store nothing) and POST /records (check and store): any record format by Content-Type."""
from __future__ import annotations

import datetime as dt
import threading

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from prtkg import findings as F
from prtkg.checking import Context, bundled, run_checks, today
from prtkg.errors import InputError
from prtkg.ingest import store_findings
from prtkg.records import LoadResult
from prtkg.store import Store

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


def _regions(store: Store, record) -> set[str]:
    """The division codes a record names, in the version given and in the version stored."""
    from prtkg import rdf

    region = rdf.p("region")
    given = {q.object.value for q in record.graph.quads() if q.predicate == region}
    g = record.graph.graph
    stored = {r["r"] for r in store.select(f"SELECT DISTINCT ?r WHERE {{ GRAPH {g} {{ ?x prtkg:region ?r }} }}")}
    return {iri.rsplit("/", 1)[-1] for iri in given | stored}


def within_division(store: Store, loaded: LoadResult, division: str | None) -> LoadResult:
    """A division token may store (and replace) only records of its division and those below it:
    a record naming another region, in the version sent or the one stored, is rejected."""
    if division is None:
        return loaded
    from prtkg.jurisdiction import divisions_within
    from prtkg.records import FieldError, Rejection

    keep = divisions_within(division)
    out = LoadResult(rejected=list(loaded.rejected))
    for record in loaded.records:
        outside = sorted(_regions(store, record) - keep)
        if outside:
            out.rejected.append(Rejection(record.id, [FieldError(
                "region", f"names division {', '.join(outside)}, outside the token's division {division}")]))
        else:
            out.records.append(record)
    return out


def store_records(store: Store, lock: threading.Lock, loaded: LoadResult, as_of: dt.date, agent: str,
                  division: str | None = None) -> dict:
    # One writer at a time: a record's graph, the checks on it and its findings change together.
    with lock:
        loaded = within_division(store, loaded, division)
        store.replace_records(loaded.records, agent=agent)
        found = _check(store, loaded, as_of)
        if loaded.records:
            store_findings(store, loaded.records, found, as_of)
        store.flush()
    return F.report(len(loaded.records), found, loaded.rejected)


_NAME = Query(None, max_length=200, description="Source name (file name) for the body, e.g. powers-yunnan.csv: "
                                                 "it names a CSV list's graph and the records in findings")
_AS_OF = Query(None, alias="asOf", description="'Today' for deadlines still running (default: today in China)")


@router.post("/validate", responses=_RESPONSES, openapi_extra=_BODY_DOC)
async def validate(request: Request, name: str | None = _NAME, as_of: dt.date | None = _AS_OF) -> dict:
    """Check records against the bundled reference data; nothing is stored."""
    loaded = await _load(request, name)
    reference = await run_in_threadpool(request.app.state.reference.get)
    return await run_in_threadpool(validate_records, loaded, reference, as_of or today())


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
