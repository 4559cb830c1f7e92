"""The FastAPI service: `create_app(store, settings)`; routers per resource, OpenAPI at /docs."""
from __future__ import annotations

import threading

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from prtkg import rdf
from prtkg.errors import PrtkgError
from prtkg.store import Store

from . import coverage, credit, findings, queries, records, sparql
from .settings import Settings

DESCRIPTION = """公共资源交易监管知识图谱 / Knowledge graph for the supervision of public resource trading.

Open: credit status, reading a credit check, `/validate`, `/healthz`, these docs. A bearer token with
role `staff` (or `admin`): `/sparql`, `/queries`, `/findings`, `/supervision/coverage`; role `ingest`
(or `admin`): `POST /records`; role `ingest` or `staff` (or `admin`): `POST /credit/checks`. Tokens come from `PRTKG_TOKENS` or `PRTKG_TOKENS_FILE`.
"""


def create_app(store: Store | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    store = store if store is not None else Store.from_env()
    if not store.ask(f"ASK {{ GRAPH <{rdf.ONTOLOGY_GRAPH}> {{ ?s ?p ?o }} }}"):
        store.load_ontology()

    app = FastAPI(title="prtkg", version="0.1.0", description=DESCRIPTION)
    app.state.settings = settings
    app.state.store = store
    app.state.write_lock = threading.Lock()
    app.state.runner = sparql.QueryRunner(store, settings.query_timeout, settings.max_queries)
    app.state.reference = records.Reference()

    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type", "Accept"])

    @app.exception_handler(sparql.QueryError)
    async def query_error(request: Request, exc: sparql.QueryError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    @app.exception_handler(PrtkgError)
    async def user_error(request: Request, exc: PrtkgError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.get("/healthz", tags=["service"])
    def healthz(request: Request) -> dict:
        """Liveness: the store answers a query."""
        request.app.state.store.ask("ASK { ?s ?p ?o }")
        return {"status": "ok"}

    for module in (sparql, queries, credit, records, findings, coverage):
        app.include_router(module.router)
    from . import pages
    pages.mount(app)
    return app
