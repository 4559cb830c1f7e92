"""The staff workbench: static pages at `/` and `/pages/...`, and the page data the API has no route for.

The pages are plain HTML + JS over the JSON API; labels come from static/messages.json (zh and en).
The SPARQL editor is the vendored Yasqe build (static/vendor/yasqe, see README), so the pages work offline.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from prtkg import record_view, saved_queries
from prtkg.app import report_html

from .auth import Principal, require
from .findings import find

STATIC = Path(str(resources.files("prtkg.api").joinpath("static")))
PAGES = {"findings": "findings.html", "coverage": "coverage.html", "entity": "entity.html", "record": "record.html"}
# Labels for at most this many IRIs per request: a page of SPARQL results, not the store.
MAX_LABELS = 2000

router = APIRouter(include_in_schema=False)


@router.get("/")
def sparql_page() -> FileResponse:
    return FileResponse(STATIC / "sparql.html")


@router.get("/pages/{name}")
def page(name: str) -> FileResponse:
    if name not in PAGES:
        raise HTTPException(404, f"no page {name!r}")
    return FileResponse(STATIC / PAGES[name])


@router.get("/workbench/labels", dependencies=[Depends(require("staff"))])
def code_labels(request: Request) -> dict:
    """Code labels (trade types, stages, industries, rule families) and the regions the store's records
    name: the regions tell what the store holds, so this needs the staff token."""
    store = request.app.state.store
    found = store.select("SELECT DISTINCT ?r WHERE { GRAPH ?g { ?x prtkg:region ?r } }")
    regions = {r["r"].rsplit("/", 1)[-1] for r in found}
    return report_html.labels(regions)


@router.get("/workbench/code-labels")
def public_code_labels() -> dict:
    """The code labels alone (published code lists, nothing from the store), for the open credit page."""
    return report_html.labels(set())


def _findings(store, division: str | None = None) -> list[dict]:
    # The page filters on the client: one request, then region / trade type / family / date locally.
    out, offset = [], 0
    while True:
        page_ = find(store, limit=1000, offset=offset, within=division)
        out.extend(page_["findings"])
        offset += 1000
        if offset >= page_["total"]:
            break
    return report_html.enrich(out, report_html.record_context(store))


@router.get("/workbench/findings")
async def findings(request: Request, who: Principal = Depends(require("staff"))) -> list[dict]:
    """Stored findings (of the caller's division) with their rule family, region, trade type, date,
    status and handling time, for the findings page."""
    return await run_in_threadpool(_findings, request.app.state.store, who.division)


@router.get("/workbench/casework")
def casework_machine() -> dict:
    """The findings life cycle (rules/casework.yaml) as the findings page needs it: which action
    may start from which status, what it needs, and per outcome where that differs."""
    from prtkg.casework import machine

    m = machine()
    return {"states": list(m.states), "outcomes": list(m.outcomes),
            "actions": {a.name: {"from": sorted(a.sources), "to": a.target, "needs": list(a.needs),
                                 "outcomes": {o: {"from": sorted(src), "needs": list(needs)}
                                              for o, (src, needs) in a.by_outcome.items()}}
                        for a in m.actions.values()}}


@router.get("/workbench/record/{record_id:path}", dependencies=[Depends(require("staff"))])
async def record(request: Request, record_id: str) -> dict:
    """One stored record for the record page: title, parties, dates, amounts, documents, findings, triples."""
    found = await run_in_threadpool(record_view.view, request.app.state.store, record_id)
    if found is None:
        raise HTTPException(404, f"no record {record_id!r} in the store")
    return found


@router.post("/workbench/labels", dependencies=[Depends(require("staff"))])
async def iri_labels(request: Request, iris: list[str] = Body(..., max_length=MAX_LABELS)) -> dict:
    """zh/en labels of the IRIs a page shows (SPARQL results): ontology terms, codes, names, titles."""
    return await run_in_threadpool(record_view.labels, request.app.state.store, iris)


@router.get("/workbench/queries/{name}", dependencies=[Depends(require("staff"))])
def saved_query_text(name: str) -> dict:
    """A saved question's SPARQL text, for the editor (its parameters stay as ?variables)."""
    try:
        return {"name": name, "text": saved_queries.get(name).text}
    except saved_queries.UnknownQuery as e:
        raise HTTPException(404, str(e)) from None


def mount(app) -> None:
    """Add the pages and their static files to the app."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
