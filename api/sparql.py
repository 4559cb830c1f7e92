"""The SPARQL 1.1 Protocol endpoint: queries only, results by Accept, each query under a time limit.

Every query runs in another process, killed when the time limit passes: pyoxigraph cannot cancel a
running query, and a runaway one in a thread would burn a core until it ends by itself. Which process:

- on-disk store: long-lived workers started by a fork server, each reading a checkpoint of the store
  taken after the last write (api/query_worker.py says why neither a child forked from the server
  nor a read-only instance beside the writer will do);
- in-memory store: a child forked per query (nothing but this process can see that store; it has no
  threads of its own, and the store's fork guard covers the server's threads), a few milliseconds;
- remote store: a forked child as well (it only speaks HTTP). Where fork is unavailable the query
  runs in a thread and the time limit only stops the waiting.

Whichever process runs a query checks it first (prtkg.querying.standard_query: standard SPARQL 1.1
queries only, no SERVICE, no vendor extensions, graphs of this store only) and works out its dataset
(query_dataset); see api/query_worker.py for the rest of the sandbox and docs/security.md.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import threading
from dataclasses import dataclass
from typing import Collection, Sequence
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from prtkg.store.remote import is_remote
from prtkg.store import Store

from .auth import Principal, require
from .query_worker import (GRAPH_TYPES, SOLUTION_TYPES, WorkerPool, evaluate,  # noqa: F401 (api.queries uses the types)
                           memory_message, probe_network_isolation, sandbox)

log = logging.getLogger("prtkg.sparql")

_CHARSET = {"application/sparql-results+json", "application/json", "text/csv", "text/tab-separated-values",
            "text/turtle", "application/n-triples", "application/ld+json"}

class QueryError(Exception):
    """A query the endpoint will not or cannot answer; `status` is the HTTP status to give."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(message)


@dataclass
class Answer:
    media_type: str
    body: bytes

    def response(self) -> Response:
        media = self.media_type + ("; charset=utf-8" if self.media_type in _CHARSET else "")
        return Response(self.body, media_type=media)


def _child(conn, store: Store, text: str, accept: str | None, request: dict, memory_mb: int | None) -> None:
    try:
        sandbox(memory_mb, network=is_remote(store))  # a remote store is reached over the network
        conn.send(evaluate(store, text, accept, request))
    finally:
        conn.close()


class QueryRunner:
    """Runs queries against a store with a time limit and a bound on how many run at once."""

    def __init__(self, store: Store, timeout: float, max_parallel: int = 4, memory_mb: int | None = 1024):
        self.store = store
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.slots = threading.BoundedSemaphore(max_parallel)
        self.fork = "fork" in mp.get_all_start_methods()
        on_disk = isinstance(store, Store) and store.path is not None
        self.pool = WorkerPool(store, max_parallel, memory_mb) if on_disk else None
        if not is_remote(store):
            _warn_once_without_network_isolation()

    def run(self, text: str, accept: str | None = None, default_graphs: Sequence[str] = (),
            named_graphs: Sequence[str] = (), allowed_graphs: Collection[str] | None = None) -> Answer:
        """Blocking: call from a worker thread, never from the event loop. The query is checked
        (prtkg.querying.standard_query) in the process that runs it, under the time limit: a
        pathological text costs that process, not the server."""
        request = {"default_graph_uris": list(default_graphs), "named_graph_uris": list(named_graphs),
                   "allowed_graphs": None if allowed_graphs is None else sorted(allowed_graphs)}
        if not self.slots.acquire(timeout=self.timeout):
            raise QueryError(503, "the server is busy with other queries; try again later")
        try:
            if self.pool is not None:
                outcome = self.pool.run((text, accept, request), self.timeout)
                if outcome is None:
                    raise self._timeout_error()
            elif self.fork:
                outcome = self._fork(text, accept, request)
            else:
                outcome = self._thread(text, accept, request)
        finally:
            self.slots.release()
        if outcome[0] == "error":
            raise QueryError(outcome[1], outcome[2])
        return Answer(outcome[1], outcome[2])

    def _timeout_error(self) -> QueryError:
        return QueryError(503, f"the query ran longer than the time limit of {self.timeout:g} s and was "
                               "stopped; narrow it (LIMIT, more specific patterns) or ask an administrator "
                               "to raise PRTKG_QUERY_TIMEOUT")

    def _fork(self, text: str, accept: str | None, request: dict) -> tuple:
        ctx = mp.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_child, args=(send, self.store, text, accept, request, self.memory_mb),
                            daemon=True)
        guard = getattr(self.store, "guard", None)  # see prtkg.store.embedded._ForkGuard
        if guard is not None:
            with guard.exclusive():
                child.start()
        else:
            child.start()
        send.close()
        try:
            if not receive.poll(self.timeout):
                raise self._timeout_error()
            try:
                return receive.recv()
            except EOFError:
                child.join(5)
                if child.exitcode:
                    return ("error", 503, memory_message(self.memory_mb, child.exitcode))
                return ("error", 500, "the query worker ended without an answer")
        finally:
            receive.close()
            if child.is_alive():
                child.kill()
            child.join()

    def _thread(self, text: str, accept: str | None, request: dict) -> tuple:
        box: list = []
        worker = threading.Thread(target=lambda: box.append(evaluate(self.store, text, accept, request)),
                                  daemon=True)
        worker.start()
        worker.join(self.timeout)
        if not box:
            raise self._timeout_error()
        return box[0]


_isolation_checked = False


def _warn_once_without_network_isolation() -> None:
    global _isolation_checked
    if _isolation_checked:
        return
    _isolation_checked = True
    reason = probe_network_isolation()
    if reason:
        log.warning("query workers keep the network (%s): SERVICE and other outbound requests are "
                    "prevented by the query check alone", reason)


staff = require("staff")
router = APIRouter(tags=["sparql"], dependencies=[Depends(staff)])

_BODY_DOC = {"requestBody": {"content": {
    "application/sparql-query": {"schema": {"type": "string"}},
    "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
        "query": {"type": "string"},
        "default-graph-uri": {"type": "array", "items": {"type": "string"}},
        "named-graph-uri": {"type": "array", "items": {"type": "string"}}}}}}}}
_RESPONSES = {200: {"description": "Results in the negotiated format", "content": {
    **{t: {} for t in SOLUTION_TYPES}, **{t: {} for t in GRAPH_TYPES}}},
    400: {"description": "Not a standard SPARQL 1.1 query: an update, SERVICE, a vendor extension, "
                        "a graph not in this store, nested too deeply"}, 406: {"description": "No acceptable format"},
    503: {"description": "Time or memory limit exceeded, or server busy"}}


async def allowed_graphs(request: Request, who: Principal) -> list[str] | None:
    """The graphs a caller's queries may see: all (None) province-wide, else its division's records'
    graphs and the shared ones (prtkg.jurisdiction)."""
    from starlette.concurrency import run_in_threadpool

    if who.division is None:
        return None
    from prtkg.jurisdiction import visible_graphs
    return await run_in_threadpool(visible_graphs, request.app.state.store, who.division)


async def _answer(request: Request, text: str | None, defaults: list[str], named: list[str],
                  who: Principal) -> Response:
    from starlette.concurrency import run_in_threadpool

    if not text or not text.strip():
        raise QueryError(400, "no query given: send it as ?query=, as the form field query, "
                              "or as an application/sparql-query body")
    runner: QueryRunner = request.app.state.runner
    answer = await run_in_threadpool(runner.run, text, request.headers.get("accept"), defaults, named,
                                     await allowed_graphs(request, who))
    return answer.response()


def _one_query(values: list[str], where: str) -> str | None:
    """The Protocol allows exactly one query per request: two would leave which one runs to chance."""
    if len(values) > 1:
        raise QueryError(400, f"{len(values)} query parameters in the {where}; send exactly one")
    return values[0] if values else None


@router.get("/sparql", responses=_RESPONSES, summary="SPARQL 1.1 query (GET)")
async def sparql_get(request: Request, who: Principal = Depends(staff)) -> Response:
    """SPARQL 1.1 Protocol query via GET. The default graph is the union of all graphs unless
    `default-graph-uri` / `named-graph-uri` or the query's FROM / FROM NAMED say otherwise.
    Only standard SPARQL 1.1 queries run: updates, vendor extensions and SERVICE are refused."""
    q = request.query_params
    if "update" in q:
        raise QueryError(400, "updates are refused: this endpoint answers queries only")
    return await _answer(request, _one_query(q.getlist("query"), "URL"), q.getlist("default-graph-uri"),
                         q.getlist("named-graph-uri"), who)


@router.post("/sparql", responses=_RESPONSES, openapi_extra=_BODY_DOC, summary="SPARQL 1.1 query (POST)")
async def sparql_post(request: Request, who: Principal = Depends(staff)) -> Response:
    """SPARQL 1.1 Protocol query via POST, as a form or as an application/sparql-query body."""
    from .records import read_body

    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    q = request.query_params
    if media == "application/sparql-update":
        raise QueryError(400, "updates are refused: this endpoint answers queries only")
    if "query" in q:
        raise QueryError(400, "a query parameter in the URL of a POST: send the query in the body only")
    if media == "application/sparql-query":
        body = await read_body(request)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise QueryError(400, "the query is not UTF-8 text") from None
        return await _answer(request, text, q.getlist("default-graph-uri"), q.getlist("named-graph-uri"), who)
    if media == "application/x-www-form-urlencoded":
        body = await read_body(request)
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise QueryError(400, "the form is not UTF-8 text") from None
        if "update" in form:
            raise QueryError(400, "updates are refused: this endpoint answers queries only")
        return await _answer(request, _one_query(form.get("query", []), "form"),
                             form.get("default-graph-uri", []), form.get("named-graph-uri", []), who)
    raise QueryError(415, f"unsupported Content-Type {media or '(none)'!r}; send application/sparql-query "
                          "or application/x-www-form-urlencoded")
