"""The FastAPI service: `create_app(store, settings)`; routers per resource, OpenAPI at /docs."""
from __future__ import annotations

import logging
import threading
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from prtkg import derived, rdf
from prtkg.rules import cardinal
from prtkg.errors import CheckFailed, ConfigError, PrtkgError, StoreError, StoreUnavailable
from prtkg.store import Store, open_store

from . import coverage, credit, findings, hygiene, queries, records, sparql
from .settings import Settings

log = logging.getLogger("prtkg.api")

# Each kind of error, once: its status and, for a server-side fault, what the caller is told (the
# details, which may name hosts, paths or settings, go to the server log under the error id).
# The first matching class wins, so subclasses come first.
ERROR_STATUS: list[tuple[type[BaseException], int, str | None]] = [
    (StoreUnavailable, 503, "the store did not answer; try again later"),
    (StoreError, 502, "the store failed or answered something that is not a SPARQL answer"),
    (ConfigError, 500, "the server is misconfigured"),
    (CheckFailed, 500, None),  # its own message says what was (not) stored, and names nothing internal
    (PrtkgError, 400, None),
    (Exception, 500, "internal error"),
]

DESCRIPTION = """公共资源交易监管知识图谱 / Knowledge graph for the supervision of public resource trading.

Open: credit status, reading a credit check, `/validate`, `/healthz`, these docs. A bearer token with
role `staff` (or `admin`): `/sparql`, `/queries`, `/findings`, `/supervision/coverage`; role `ingest`
(or `admin`): `POST /records`; role `ingest` or `staff` (or `admin`): `POST /credit/checks`. Tokens come from `PRTKG_TOKENS` or `PRTKG_TOKENS_FILE`.
"""


def create_app(store: Store | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    store = store if store is not None else open_store()
    if not store.ask(f"ASK {{ GRAPH <{rdf.ONTOLOGY_GRAPH}> {{ ?s ?p ?o }} }}"):
        store.load_ontology()
    derived.ensure(store)   # a store from before derivation: coverage, who-supervises, top-winners read it
    cardinal.remember_missing(store)   # and the outlier flags' counts (rules/cardinal_tallies.py), as derived.ensure: what is missing

    app = FastAPI(title="prtkg", version="0.1.0", description=DESCRIPTION, docs_url=None, redoc_url=None,
                  swagger_ui_oauth2_redirect_url=None)
    app.state.settings = settings
    app.state.store = store
    app.state.write_lock = threading.Lock()
    app.state.runner = sparql.QueryRunner(store, settings.query_timeout, settings.max_queries,
                                            settings.query_memory_mb)
    app.state.reference = records.Reference()
    app.state.validations = threading.BoundedSemaphore(settings.max_validations)

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type", "Accept"])

    @app.exception_handler(sparql.QueryError)
    async def query_error(request: Request, exc: sparql.QueryError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    if settings.trusted_proxies:
        # Only a listed proxy's X-Forwarded-For names the caller; from anyone else it is ignored.
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.add_middleware(hygiene.SecurityHeaders)

    @app.exception_handler(PrtkgError)
    async def prtkg_error(request: Request, exc: PrtkgError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return error_response(request, exc)

    @app.get("/healthz", tags=["service"])
    def healthz(request: Request) -> dict:
        """Liveness: the store answers a query."""
        request.app.state.store.ask("ASK { ?s ?p ?o }")
        return {"status": "ok"}

    for module in (sparql, queries, credit, records, findings, coverage):
        app.include_router(module.router)
    from . import pages
    pages.mount(app)
    hygiene.mount_docs(app)
    return app


def error_response(request: Request, exc: BaseException) -> JSONResponse:
    """The answer for an error, by its kind (ERROR_STATUS). A 5xx carries an error id, logged with the
    full story, so an operator can find what a caller reports."""
    status, told = next((st, t) for cls, st, t in ERROR_STATUS if isinstance(exc, cls))
    if status < 500:
        return JSONResponse({"detail": str(exc)}, status_code=status)
    error_id = uuid.uuid4().hex[:16]
    log.error("error %s on %s %s: %s: %s", error_id, request.method, request.url.path, type(exc).__name__,
              exc, exc_info=exc)
    detail = f"{told or exc} (error id {error_id})"
    # An unforeseen exception is answered by Starlette's outermost middleware, outside SecurityHeaders.
    return JSONResponse({"detail": detail, "errorId": error_id}, status_code=status,
                        headers=hygiene.data_headers())
