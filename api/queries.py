"""The saved-question library over HTTP: GET /queries lists, GET /queries/{name} runs one."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from prtkg import saved_queries

from .auth import Principal, require
from .sparql import GRAPH_TYPES, SOLUTION_TYPES, QueryRunner, allowed_graphs

staff = require("staff")
router = APIRouter(tags=["saved questions"], dependencies=[Depends(staff)])


@router.get("/queries")
def list_queries() -> list[dict]:
    """Every saved question: name, zh/en title and description, parameters with their defaults."""
    return [q.as_dict() for q in saved_queries.library().values()]


@router.get("/queries/{name}", responses={200: {"description": "SPARQL results by Accept", "content": {
    **{t: {} for t in SOLUTION_TYPES}, **{t: {} for t in GRAPH_TYPES}}}, 400: {}, 404: {},
    422: {"description": "A parameter value that does not fit its type (USCC, code list, number, date)"}, 503: {}})
async def run_query(name: str, request: Request, who: Principal = Depends(staff)) -> Response:
    """Run a saved question. Its parameters are query parameters (see GET /queries for the names and
    defaults); results by Accept, as at /sparql (over the caller's division's graphs, for a token
    with a division)."""
    try:
        sq = saved_queries.get(name)
    except saved_queries.UnknownQuery as e:
        raise HTTPException(404, str(e)) from None
    repeated = sorted({k for k, _ in request.query_params.multi_items()
                       if len(request.query_params.getlist(k)) > 1})
    if repeated:
        raise HTTPException(400, f"parameter {repeated[0]} is given more than once; give each parameter once")
    try:
        text = sq.bind(dict(request.query_params))
    except saved_queries.QueryParamError as e:
        raise HTTPException(422, str(e)) from None
    runner: QueryRunner = request.app.state.runner
    answer = await run_in_threadpool(runner.run, text, request.headers.get("accept"), (), (),
                                     await allowed_graphs(request, who))
    return answer.response()
