"""The store on a remote SPARQL 1.1 server, behind the same interface as the embedded one.

Selected by `open_store()` / `Store.from_env()` when PRTKG_SPARQL_ENDPOINT is set:
- PRTKG_SPARQL_ENDPOINT: the query endpoint; PRTKG_SPARQL_UPDATE_ENDPOINT: the update endpoint
  (default: the query endpoint); PRTKG_SPARQL_GRAPH_STORE: a Graph Store Protocol endpoint, used to
  replace a whole graph with one PUT where the server offers it; PRTKG_SPARQL_TIMEOUT: seconds per
  request (default 60); PRTKG_SPARQL_UNION_PARAM: the URL parameter that makes the default graph the
  union of the named graphs (default `union-default-graph`, Oxigraph's; empty for servers whose
  default graph is already the union).

Atomicity: a record is replaced by one update request (DROP + INSERT DATA), which SPARQL 1.1 servers
run as one transaction, so a reader never sees half a record and a failed request changes nothing.

Results come back as the embedded store's own result objects (pyoxigraph parses the SPARQL JSON
results), so callers that serialise or iterate them cannot tell the backends apart.
"""
from __future__ import annotations

import socket
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any, Iterable, Iterator, Sequence

import pyoxigraph as ox
from SPARQLWrapper import JSON, N3, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import (EndPointInternalError, EndPointNotFound, QueryBadFormed,
                                           SPARQLWrapperException, Unauthorized)

from . import rdf
from .errors import StoreError, StoreUnavailable
from .records import Record
from .store import _now, _ntriples, load_ontology_into, _record_update, _whoami, to_python

DEFAULT_TIMEOUT = 60.0
# INSERT DATA requests stay below a few MB: servers cap request bodies (Virtuoso, Fuseki's defaults).
CHUNK = 20_000


def _nquads(quads: Iterable[ox.Quad]) -> str:
    return "\n".join(f"{q.subject} {q.predicate} {q.object} {q.graph_name} ." if not isinstance(
        q.graph_name, ox.DefaultGraph) else f"{q.subject} {q.predicate} {q.object} ." for q in quads)


def _insert_data(quads: Sequence[ox.Quad]) -> str:
    by_graph: dict[Any, list[ox.Quad]] = {}
    for q in quads:
        by_graph.setdefault(q.graph_name, []).append(q)
    parts = []
    for g, qs in by_graph.items():
        body = _ntriples(qs)
        parts.append(body if isinstance(g, ox.DefaultGraph) else f"GRAPH {g} {{\n{body}\n}}")
    return "INSERT DATA {\n" + "\n".join(parts) + "\n}"


class RemoteStore:
    """A SPARQL 1.1 server (query + update endpoints, optionally a Graph Store Protocol endpoint)."""

    def __init__(self, endpoint: str, update_endpoint: str | None = None, graph_store: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, union_param: str | None = "union-default-graph"):
        self.endpoint = endpoint
        self.update_endpoint = update_endpoint or endpoint
        self.graph_store = graph_store or None
        self.timeout = timeout
        self.union_param = union_param or None
        self.path = endpoint  # what the commands print as "the store"

    @classmethod
    def from_env(cls, env: dict | None = None) -> "RemoteStore":
        import os
        env = os.environ if env is None else env
        try:
            timeout = float(env.get("PRTKG_SPARQL_TIMEOUT") or DEFAULT_TIMEOUT)
        except ValueError:
            raise StoreError(f"PRTKG_SPARQL_TIMEOUT: {env['PRTKG_SPARQL_TIMEOUT']!r} is not a number of seconds")
        return cls(env["PRTKG_SPARQL_ENDPOINT"], env.get("PRTKG_SPARQL_UPDATE_ENDPOINT"),
                   env.get("PRTKG_SPARQL_GRAPH_STORE"), timeout,
                   env.get("PRTKG_SPARQL_UNION_PARAM", "union-default-graph"))

    # -- transport -------------------------------------------------------------------------
    def _fail(self, url: str, e: BaseException) -> StoreError:
        if isinstance(e, (socket.timeout, TimeoutError)) or "timed out" in str(e):
            return StoreUnavailable(f"the SPARQL server at {url} did not answer within {self.timeout:g} s "
                              "(PRTKG_SPARQL_TIMEOUT)")
        if isinstance(e, urllib.error.HTTPError):
            detail = e.read()[:300].decode("utf-8", "replace").strip().replace("\n", " ")
            return StoreError(f"the SPARQL server at {url} answered HTTP {e.code}: {detail}")
        if isinstance(e, urllib.error.URLError):
            return StoreUnavailable(f"the SPARQL server at {url} is unreachable: {e.reason}")
        if isinstance(e, SPARQLWrapperException):
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            return StoreError(f"the SPARQL server at {url} refused the request: {first}")
        return StoreError(f"the SPARQL server at {url} failed: {e}")

    def _wrapper(self, url: str) -> SPARQLWrapper:
        sw = SPARQLWrapper(url)
        sw.timeout = self.timeout  # setTimeout() truncates to whole seconds, and 0 would mean none
        return sw

    def _fetch(self, query: str, union: bool = False, default_graph: Sequence = (),
               named_graphs: Sequence = ()) -> tuple[str, bytes]:
        """("solutions"|"graph", body) of one query; SyntaxError for a query the server rejects as malformed."""
        sw = self._wrapper(self.endpoint)
        sw.setMethod(POST)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a query it cannot classify is the server's to reject
            sw.setQuery(query)
        kind = "graph" if sw.queryType in ("CONSTRUCT", "DESCRIBE") else "solutions"
        if kind == "graph":
            sw.setReturnFormat(N3)
            sw.addCustomHttpHeader("Accept", "application/n-triples")
        else:
            sw.setReturnFormat(JSON)
            sw.addCustomHttpHeader("Accept", "application/sparql-results+json")
        if union and self.union_param and not default_graph:
            sw.addParameter(self.union_param, "true")
        for g in default_graph:
            sw.addDefaultGraph(g.value if isinstance(g, ox.NamedNode) else str(g))
        for g in named_graphs:
            sw.addNamedGraph(g.value if isinstance(g, ox.NamedNode) else str(g))
        try:
            response = sw.query().response
            return kind, response.read()
        except QueryBadFormed as e:
            raise SyntaxError(_server_message(e)) from None
        except (EndPointNotFound, EndPointInternalError, Unauthorized, SPARQLWrapperException,
                urllib.error.URLError, OSError) as e:
            raise self._fail(self.endpoint, e) from None

    def _update(self, text: str) -> None:
        sw = self._wrapper(self.update_endpoint)
        sw.setMethod(POST)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sw.setQuery(text)
        try:
            sw.query()
        except QueryBadFormed as e:
            raise SyntaxError(_server_message(e)) from None
        except (SPARQLWrapperException, urllib.error.URLError, OSError) as e:
            raise self._fail(self.update_endpoint, e) from None

    def _put_graph(self, graph: str, body: bytes) -> None:
        sep = "&" if "?" in self.graph_store else "?"
        url = f"{self.graph_store}{sep}{urllib.parse.urlencode({'graph': graph})}"
        req = urllib.request.Request(url, data=body, method="PUT",
                                     headers={"Content-Type": "application/n-triples"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                r.read()
        except (urllib.error.URLError, OSError) as e:
            raise self._fail(self.graph_store, e) from None

    # -- writing ---------------------------------------------------------------------------
    def replace_records(self, records: Sequence[Record], agent: str | None = None, at=None) -> None:
        """Replace each record's named graph (content + provenance), all of them in one update request."""
        if not records:
            return
        self._update(_record_update(records, agent or _whoami(), at or _now()))

    def update(self, sparql_update: str) -> None:
        self._update(rdf.sparql_prefixes() + sparql_update)

    def add_quads(self, quads: Iterable[ox.Quad]) -> None:
        batch: list[ox.Quad] = []
        for q in quads:
            batch.append(q)
            if len(batch) >= CHUNK:
                self._update(_insert_data(batch))
                batch = []
        if batch:
            self._update(_insert_data(batch))

    def replace_graph(self, graph: str, quads: Iterable[ox.Quad]) -> None:
        g = ox.NamedNode(graph)
        body = _ntriples(ox.Quad(q.subject, q.predicate, q.object, g) for q in quads)
        if self.graph_store:
            self._put_graph(graph, body.encode())
        else:
            self._update(f"DROP SILENT GRAPH {g} ;\nINSERT DATA {{ GRAPH {g} {{\n{body}\n}} }}")

    def load_ontology(self) -> None:
        load_ontology_into(self)

    def remove_graph(self, graph: str) -> None:
        self._update(f"DROP SILENT GRAPH <{graph}>")

    def flush(self) -> None:
        """The server persists each update itself."""

    # -- reading ---------------------------------------------------------------------------
    def raw_query(self, query: str, use_default_graph_as_union: bool = False, default_graph: Sequence = (),
                  named_graphs: Sequence = ()) -> Any:
        """The answer as pyoxigraph result objects: QuerySolutions, QueryBoolean or QueryTriples."""
        if isinstance(default_graph, (ox.NamedNode, str)):
            default_graph = [default_graph]
        kind, body = self._fetch(query, use_default_graph_as_union, default_graph or (), named_graphs or ())
        try:
            if kind == "graph":
                # QueryTriples has no public constructor: let a scratch store hand the triples back as one.
                scratch = ox.Store()
                scratch.load(body, format=ox.RdfFormat.N_TRIPLES)
                return scratch.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
            return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        except (SyntaxError, ValueError, OSError) as e:
            raise StoreError(f"the SPARQL server at {self.endpoint} answered something that is not "
                             f"SPARQL results: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None

    def select(self, query: str, **bindings: Any) -> list[dict[str, Any]]:
        result = self.raw_query(rdf.sparql_prefixes() + query)
        if isinstance(result, ox.QueryBoolean) or not hasattr(result, "variables"):
            raise StoreError(f"the SPARQL server at {self.endpoint} answered a SELECT with something else")
        names = [v.value for v in result.variables]
        return [{n: to_python(row[n]) for n in names} for row in result]

    def ask(self, query: str) -> bool:
        result = self.raw_query(rdf.sparql_prefixes() + query)
        if not isinstance(result, ox.QueryBoolean):
            raise StoreError(f"the SPARQL server at {self.endpoint} answered an ASK with something else")
        return bool(result)

    def named_graphs(self) -> Iterator[str]:
        rows = self.raw_query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return (row["g"].value for row in rows)

    def graph_quads(self, graph: str) -> Iterator[ox.Quad]:
        g = ox.NamedNode(graph)
        rows = self.raw_query(f"SELECT ?s ?p ?o WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }}")
        return (ox.Quad(row["s"], row["p"], row["o"], g) for row in rows)

    def graphs_quads(self, graphs: Sequence[ox.NamedNode]) -> list[ox.Quad]:
        out = []
        for i in range(0, len(graphs), 200):   # one request per 200 graphs keeps the query text small
            values = " ".join(str(g) for g in graphs[i:i + 200])
            rows = self.raw_query(f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}")
            out += [ox.Quad(row["s"], row["p"], row["o"], row["g"]) for row in rows]
        return out

    def graphs_ntriples(self, graphs: Sequence[ox.NamedNode]) -> list[bytes]:
        """Each named graph as N-Triples, in the order given."""
        by_graph: dict = {g: [] for g in graphs}
        for q in self.graphs_quads(graphs):
            by_graph[q.graph_name].append(ox.Triple(q.subject, q.predicate, q.object))
        return [ox.serialize(by_graph[g], format=ox.RdfFormat.N_TRIPLES) or b"" for g in graphs]

    def subject_quads(self, subjects: Sequence[ox.NamedNode], predicates: Sequence[str]) -> list[ox.Quad]:
        """The quads of any named graph whose subject is one of `subjects` and predicate one of `predicates`."""
        preds = ", ".join(f"<{p}>" for p in predicates)
        out = []
        for i in range(0, len(subjects), 2000):
            values = " ".join(str(s) for s in subjects[i:i + 2000])
            rows = self.raw_query(f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} "
                                  f"FILTER(?p IN ({preds})) }}")
            out += [ox.Quad(row["s"], row["p"], row["o"], row["g"]) for row in rows]
        return out

    def __len__(self) -> int:
        rows = list(self.raw_query("SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"))
        return int(rows[0]["n"].value) if rows else 0


def _server_message(e: BaseException) -> str:
    text = str(e).strip()
    # SPARQLWrapper prefixes its own explanation; the server's words follow "Response:".
    if "Response:" in text:
        text = text.split("Response:", 1)[1].strip()
    if text[:2] in ("b'", 'b"'):
        text = text[2:]
    text = text.replace("\\n", "\n").strip("'\" \n")
    return text.splitlines()[0] if text else "the server rejected the query as malformed"


def is_remote(store: Any) -> bool:
    return isinstance(store, RemoteStore)


__all__ = ["RemoteStore", "is_remote"]
