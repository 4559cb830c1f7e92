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
"""
from __future__ import annotations

import multiprocessing as mp
import re
import threading
from dataclasses import dataclass
from typing import Sequence
from urllib.parse import parse_qs

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from prtkg.saved_queries import OPAQUE
from prtkg.store import Store

from .auth import require
from .query_worker import GRAPH_TYPES, SOLUTION_TYPES, WorkerPool, evaluate  # noqa: F401 (api.queries uses the types)

_CHARSET = {"application/sparql-results+json", "application/json", "text/csv", "text/tab-separated-values",
            "text/turtle", "application/n-triples", "application/ld+json"}

# Strings, IRIs and comments may contain any word; they are blanked before keywords are looked at.
_OPAQUE = re.compile(OPAQUE)
_PROLOGUE = re.compile(r"^\s*(?:(?:PREFIX\s+[^\s:]*:\s*|BASE\s+)\s*)*", re.I)
_UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
_SERVICE = re.compile(r"(?<![\w?$:])SERVICE\b", re.I)


class QueryError(Exception):
    """A query the endpoint will not or cannot answer; `status` is the HTTP status to give."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(message)


def refuse_non_queries(text: str) -> None:
    """Updates and federation are refused before anything runs, with a message saying why."""
    bare = _OPAQUE.sub(" ", text)
    first = _PROLOGUE.sub("", bare, count=1).split(None, 1)
    if first and first[0].upper() in _UPDATE_WORDS:
        raise QueryError(400, f"updates are refused: this endpoint answers queries only "
                              f"(SELECT, ASK, CONSTRUCT, DESCRIBE); this is an update ({first[0].upper()})")
    if _SERVICE.search(bare):
        raise QueryError(400, "SERVICE is refused: this endpoint does not query other endpoints")


@dataclass
class Answer:
    media_type: str
    body: bytes

    def response(self) -> Response:
        media = self.media_type + ("; charset=utf-8" if self.media_type in _CHARSET else "")
        return Response(self.body, media_type=media)


def _child(conn, store: Store, text: str, accept: str | None, dataset: dict) -> None:
    try:
        conn.send(evaluate(store, text, accept, dataset))
    finally:
        conn.close()


def _graph_iris(values: Sequence[str], param: str) -> list[ox.NamedNode]:
    out = []
    for value in values:
        try:
            out.append(ox.NamedNode(value))
        except ValueError as e:
            raise QueryError(400, f"{param}: {value!r} is not an absolute IRI ({e})") from None
    return out


class QueryRunner:
    """Runs queries against a store with a time limit and a bound on how many run at once."""

    def __init__(self, store: Store, timeout: float, max_parallel: int = 4):
        self.store = store
        self.timeout = timeout
        self.slots = threading.BoundedSemaphore(max_parallel)
        self.fork = "fork" in mp.get_all_start_methods()
        on_disk = isinstance(store, Store) and store.path is not None
        self.pool = WorkerPool(store, max_parallel) if on_disk else None

    def run(self, text: str, accept: str | None = None, default_graphs: Sequence[str] = (),
            named_graphs: Sequence[str] = ()) -> Answer:
        """Blocking: call from a worker thread, never from the event loop."""
        refuse_non_queries(text)
        dataset: dict = {"use_default_graph_as_union": not default_graphs}
        if default_graphs:
            dataset["default_graph"] = _graph_iris(default_graphs, "default-graph-uri")
        if named_graphs:
            dataset["named_graphs"] = _graph_iris(named_graphs, "named-graph-uri")
        if not self.slots.acquire(timeout=self.timeout):
            raise QueryError(503, "the server is busy with other queries; try again later")
        try:
            if self.pool is not None:
                outcome = self.pool.run((text, accept, dataset), self.timeout)
                if outcome is None:
                    raise self._timeout_error()
            elif self.fork:
                outcome = self._fork(text, accept, dataset)
            else:
                outcome = self._thread(text, accept, dataset)
        finally:
            self.slots.release()
        if outcome[0] == "error":
            raise QueryError(outcome[1], outcome[2])
        return Answer(outcome[1], outcome[2])

    def _timeout_error(self) -> QueryError:
        return QueryError(503, f"the query ran longer than the time limit of {self.timeout:g} s and was "
                               "stopped; narrow it (LIMIT, more specific patterns) or ask an administrator "
                               "to raise PRTKG_QUERY_TIMEOUT")

    def _fork(self, text: str, accept: str | None, dataset: dict) -> tuple:
        ctx = mp.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_child, args=(send, self.store, text, accept, dataset), daemon=True)
        guard = getattr(self.store, "guard", None)  # see prtkg.store._ForkGuard
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
                return ("error", 500, "the query worker ended without an answer")
        finally:
            receive.close()
            if child.is_alive():
                child.kill()
            child.join()

    def _thread(self, text: str, accept: str | None, dataset: dict) -> tuple:
        box: list = []
        worker = threading.Thread(target=lambda: box.append(evaluate(self.store, text, accept, dataset)),
                                  daemon=True)
        worker.start()
        worker.join(self.timeout)
        if not box:
            raise self._timeout_error()
        return box[0]


router = APIRouter(tags=["sparql"], dependencies=[Depends(require("staff"))])

_BODY_DOC = {"requestBody": {"content": {
    "application/sparql-query": {"schema": {"type": "string"}},
    "application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {
        "query": {"type": "string"},
        "default-graph-uri": {"type": "array", "items": {"type": "string"}},
        "named-graph-uri": {"type": "array", "items": {"type": "string"}}}}}}}}
_RESPONSES = {200: {"description": "Results in the negotiated format", "content": {
    **{t: {} for t in SOLUTION_TYPES}, **{t: {} for t in GRAPH_TYPES}}},
    400: {"description": "Not a query, an update, or SERVICE"}, 406: {"description": "No acceptable format"},
    503: {"description": "Time limit exceeded or server busy"}}


async def _answer(request: Request, text: str | None, defaults: list[str], named: list[str]) -> Response:
    from starlette.concurrency import run_in_threadpool

    if not text or not text.strip():
        raise QueryError(400, "no query given: send it as ?query=, as the form field query, "
                              "or as an application/sparql-query body")
    runner: QueryRunner = request.app.state.runner
    answer = await run_in_threadpool(runner.run, text, request.headers.get("accept"), defaults, named)
    return answer.response()


@router.get("/sparql", responses=_RESPONSES, summary="SPARQL 1.1 query (GET)")
async def sparql_get(request: Request) -> Response:
    """SPARQL 1.1 Protocol query via GET. The default graph is the union of all graphs unless
    `default-graph-uri` is given. Updates and SERVICE are refused."""
    q = request.query_params
    if "update" in q:
        raise QueryError(400, "updates are refused: this endpoint answers queries only")
    return await _answer(request, q.get("query"), q.getlist("default-graph-uri"), q.getlist("named-graph-uri"))


@router.post("/sparql", responses=_RESPONSES, openapi_extra=_BODY_DOC, summary="SPARQL 1.1 query (POST)")
async def sparql_post(request: Request) -> Response:
    """SPARQL 1.1 Protocol query via POST, as a form or as an application/sparql-query body."""
    from .records import read_body

    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    q = request.query_params
    if media == "application/sparql-update":
        raise QueryError(400, "updates are refused: this endpoint answers queries only")
    if media == "application/sparql-query":
        body = await read_body(request)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise QueryError(400, "the query is not UTF-8 text") from None
        return await _answer(request, text, q.getlist("default-graph-uri"), q.getlist("named-graph-uri"))
    if media == "application/x-www-form-urlencoded":
        body = await read_body(request)
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise QueryError(400, "the form is not UTF-8 text") from None
        if "update" in form:
            raise QueryError(400, "updates are refused: this endpoint answers queries only")
        return await _answer(request, (form.get("query") or [None])[0],
                             form.get("default-graph-uri", []), form.get("named-graph-uri", []))
    raise QueryError(415, f"unsupported Content-Type {media or '(none)'!r}; send application/sparql-query "
                          "or application/x-www-form-urlencoded")
