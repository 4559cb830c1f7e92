"""The SPARQL 1.1 Protocol endpoint: queries only, results by Accept, each query under a time limit.

Why a forked process per query: pyoxigraph releases the GIL while it evaluates, so a thread keeps
the server responsive, but it offers no way to cancel a running query (no timeout, no interrupt),
and a runaway query in a thread would burn a core until it ends by itself. A child forked from the
server sees the same store (the in-memory store by copy-on-write, the on-disk store through its open
files), evaluates and serialises the answer, and is killed when the time limit passes. The cost is
a fork, a few milliseconds. Where fork is unavailable the query runs in a thread and the time
limit only stops the waiting.
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

from prtkg.querying import solutions_csv
from prtkg.saved_queries import OPAQUE
from prtkg.store import Store

from .auth import require

SOLUTION_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
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


def _accepted(accept: str | None) -> list[str]:
    """Media ranges of an Accept header, best first (q=0 dropped)."""
    ranked = []
    for i, part in enumerate((accept or "").split(",")):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for f in fields[1:]:
            if f.lower().startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, i, fields[0].lower()))
    return [m for _, _, m in sorted(ranked)]


def negotiate(kind: str, accept: str | None) -> str | None:
    """The media type to answer with, or None when the client accepts none we can give."""
    offered = GRAPH_TYPES if kind == "graph" else SOLUTION_TYPES
    default = next(iter(offered))
    ranges = _accepted(accept)
    if not ranges:
        return default
    for r in ranges:
        if r in offered:
            return r
        if r == "*/*" or (r.endswith("/*") and default.startswith(r[:-1])):
            return default
        if r.endswith("/*"):
            match = next((t for t in offered if t.startswith(r[:-1])), None)
            if match:
                return match
    return None


@dataclass
class Answer:
    media_type: str
    body: bytes

    def response(self) -> Response:
        media = self.media_type + ("; charset=utf-8" if self.media_type in _CHARSET else "")
        return Response(self.body, media_type=media)


def _evaluate(store: Store, text: str, accept: str | None, dataset: dict) -> tuple:
    """Run and serialise one query: ("ok", media type, bytes) or ("error", status, message)."""
    try:
        result = store.raw_query(text, **dataset)
        kind = "graph" if isinstance(result, ox.QueryTriples) else "solutions"
        media = negotiate(kind, accept)
        if media is None:
            offered = ", ".join(GRAPH_TYPES if kind == "graph" else SOLUTION_TYPES)
            return ("error", 406, f"cannot answer this query in the accepted media types; offered: {offered}")
        fmt = (GRAPH_TYPES if kind == "graph" else SOLUTION_TYPES)[media]
        if fmt == ox.QueryResultsFormat.CSV and isinstance(result, ox.QuerySolutions):
            return ("ok", media, solutions_csv(result))  # formula-like cells defused
        return ("ok", media, result.serialize(format=fmt))
    except SyntaxError as e:
        return ("error", 400, f"not a SPARQL query: {e}")
    except (OSError, RuntimeError, ValueError) as e:
        return ("error", 400, f"the query failed: {e}")


def _child(conn, store: Store, text: str, accept: str | None, dataset: dict) -> None:
    try:
        conn.send(_evaluate(store, text, accept, dataset))
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
            raise QueryError(503, f"the server is busy with other queries; try again later")
        try:
            outcome = self._fork(text, accept, dataset) if self.fork else self._thread(text, accept, dataset)
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
        worker = threading.Thread(target=lambda: box.append(_evaluate(self.store, text, accept, dataset)),
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
