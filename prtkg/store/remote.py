"""The store on a remote SPARQL 1.1 server, behind the same interface as the embedded one.

Selected by `open_store()` when PRTKG_SPARQL_ENDPOINT is set:
- PRTKG_SPARQL_ENDPOINT: the query endpoint; PRTKG_SPARQL_UPDATE_ENDPOINT: the update endpoint
  (default: the query endpoint); PRTKG_SPARQL_TIMEOUT: seconds per request (default 60);
  PRTKG_SPARQL_UNION_PARAM: the URL parameter that makes the default graph the union of the named
  graphs (default `union-default-graph`, Oxigraph's; empty for servers whose default graph is
  already the union); PRTKG_SPARQL_MAX_ROWS: a row cap the server applies without saying so, if
  known (answers that reach it are checked against a COUNT). PRTKG_SPARQL_GRAPH_STORE is accepted
  and no longer used: a Graph Store PUT was seen half-done by readers on Virtuoso.

Atomicity: a graph or a record is replaced by one update request (DROP + INSERT DATA operations),
which SPARQL 1.1 servers run as one transaction, so a reader never sees half a record. Virtuoso does
not roll back a request whose later operation fails while running: every write is therefore checked
afterwards (the triples of each graph written, counted) and a mismatch is a StoreError naming it.

Dialect (measured on Virtuoso 7.2, ../shared/virtuoso.md): at most 4,000 triples per INSERT DATA
and 100 records per request; ASK answered as a SELECT; prefixed names with `\\/` escapes sent
as full IRIs; a server's own graphs (SYSTEM_GRAPHS) left out of graph lists and counts; a row
cap announced by `X-SPARQL-MaxRows` (or set in PRTKG_SPARQL_MAX_ROWS) checked with a COUNT.

Results come back as the embedded store's own result objects (pyoxigraph parses the SPARQL JSON
results), so callers that serialise or iterate them cannot tell the backends apart. A SELECT's rows
are parsed as the HTTP body is read (`stream`, `select`, the quad readers), never held as one text.
"""
from __future__ import annotations

import re
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

from .. import rdf
from ..errors import StoreError, StoreUnavailable
from ..records import Record
from .common import _now, _ntriples, _record_quads, _whoami, load_ontology_into, python_rows

DEFAULT_TIMEOUT = 60.0
# Triples per INSERT DATA operation and records per update request: Virtuoso refuses an INSERT DATA
# of ~5,000 triples (SP030 memory exhausted) and requests of ~400 records (SQ156 query too large).
CHUNK = 4_000
RECORDS_PER_REQUEST = 100
# Graphs a server keeps for itself (Virtuoso: its RDF views, LDP and URI-QA graphs), which its
# union default graph, graph list and counts would otherwise mix into prtkg's.
SYSTEM_GRAPHS = ("http://www.openlinksw.com/", "http://www.w3.org/ns/ldp#", "http://localuriqaserver/")
_NOT_SYSTEM = "FILTER(" + " && ".join(f'!STRSTARTS(STR(?g), "{p}")' for p in SYSTEM_GRAPHS) + ")"
_ASK_VAR = "__ASK_RETVAL"            # Virtuoso's one-row SELECT answering an ASK
_PREFIX_DECL = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.I)
# A prefixed name whose local part holds a backslash escape (SPARQL 1.1 PN_LOCAL_ESC).
_ESCAPED_NAME = re.compile(r"(?<![\w<\"'?$])([A-Za-z][\w-]*)?:((?:[\w-]|\\[_~.\-!$&'()*+,;=/?#@%])"
                           r"(?:[\w.-]|\\[_~.\-!$&'()*+,;=/?#@%])*)")
_PROLOGUE = re.compile(r"^(\s*(?:(?:PREFIX\s+[\w.-]*:\s*<[^>]*>|BASE\s*<[^>]*>)\s*)*)", re.I)


def _nquads(quads: Iterable[ox.Quad]) -> str:
    return "\n".join(f"{q.subject} {q.predicate} {q.object} {q.graph_name} ." if not isinstance(
        q.graph_name, ox.DefaultGraph) else f"{q.subject} {q.predicate} {q.object} ." for q in quads)


def _blocks(quads: Sequence[ox.Quad]) -> list[list[ox.Quad]]:
    """The quads in blocks of at most CHUNK, the quads of each blank node in one block: SPARQL scopes
    a blank node's label to its INSERT DATA, so split across two it would be two nodes (Oxigraph
    refuses the update). Quads linked by blank nodes (an OWL restriction, a list) stay together, in
    a block of their own when they are more than CHUNK."""
    parent: dict[ox.BlankNode, ox.BlankNode] = {}

    def root(b: ox.BlankNode) -> ox.BlankNode:
        while parent.setdefault(b, b) != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        return b
    for q in quads:
        if isinstance(q.subject, ox.BlankNode) and isinstance(q.object, ox.BlankNode):
            parent[root(q.subject)] = root(q.object)
    groups: dict[Any, list[ox.Quad]] = {}
    for i, q in enumerate(quads):
        b = q.subject if isinstance(q.subject, ox.BlankNode) else q.object if isinstance(q.object, ox.BlankNode) else None
        groups.setdefault(i if b is None else root(b), []).append(q)
    blocks: list[list[ox.Quad]] = [[]]
    for group in groups.values():
        if blocks[-1] and len(blocks[-1]) + len(group) > CHUNK:
            blocks.append([])
        blocks[-1].extend(group)
    return [b for b in blocks if b]


def _insert_data(quads: Sequence[ox.Quad]) -> str:
    """INSERT DATA operations (" ;"-joined) of at most CHUNK triples each (_blocks)."""
    ops = []
    for block in _blocks(quads):
        by_graph: dict[Any, list[ox.Quad]] = {}
        for q in block:
            by_graph.setdefault(q.graph_name, []).append(q)
        parts = []
        for g, qs in by_graph.items():
            body = _ntriples(qs)
            parts.append(body if isinstance(g, ox.DefaultGraph) else f"GRAPH {g} {{\n{body}\n}}")
        ops.append("INSERT DATA {\n" + "\n".join(parts) + "\n}")
    return " ;\n".join(ops)


def _replace_graphs(graphs: dict[ox.NamedNode, list[ox.Quad]]) -> str:
    """One update request replacing each graph: DROP, then its triples in INSERT DATA operations."""
    return " ;\n".join(f"DROP SILENT GRAPH {g}" + (" ;\n" + _insert_data(qs) if qs else "")
                       for g, qs in graphs.items())


def _unescape_local(local: str) -> str:
    return re.sub(r"\\(.)", r"\1", local)


def full_iris(text: str) -> str:
    """The query with each prefixed name whose local part holds a `\\` escape written as a full
    IRI: SPARQL 1.1 allows `code:department-type\\/supervision`, Virtuoso does not parse it."""
    if "\\" not in text:
        return text
    prefixes = dict(rdf.PREFIXES)
    prefixes.update({m.group(1) or "": m.group(2) for m in _PREFIX_DECL.finditer(text)})

    def sub(m: re.Match) -> str:
        pfx, local = m.group(1) or "", m.group(2)
        if "\\" not in local or pfx not in prefixes:
            return m.group(0)
        return f"<{prefixes[pfx]}{_unescape_local(local)}>"
    return _ESCAPED_NAME.sub(sub, text)


def _count_query(query: str) -> str:
    """COUNT of the solutions of a SELECT: its prologue, then the query as a sub-select."""
    prologue = _PROLOGUE.match(query).group(1)
    return f"{prologue}SELECT (COUNT(*) AS ?__n) WHERE {{ {query[len(prologue):]} }}"


class RemoteStore:
    """A SPARQL 1.1 server (query + update endpoints, optionally a Graph Store Protocol endpoint)."""

    # A server may keep graphs of its own that it does not list (SYSTEM_GRAPHS).
    lists_every_graph = False

    def __init__(self, endpoint: str, update_endpoint: str | None = None, graph_store: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, union_param: str | None = "union-default-graph",
                 max_rows: int | None = None):
        self.endpoint = endpoint
        self.update_endpoint = update_endpoint or endpoint
        self.graph_store = graph_store or None      # accepted, not written through (see the module doc)
        self.timeout = timeout
        self.union_param = union_param or None
        self.max_rows = max_rows
        self.path = endpoint  # what the commands print as "the store"
        self._lateral: bool | None = None

    @property
    def lateral(self) -> bool:
        """Whether the server parses `LATERAL` (SEP-0006: `oxigraph serve` does, Virtuoso 7.2 does not),
        asked once (prtkg/rdf.py in_dialect). A server that cannot be asked counts as not."""
        if self._lateral is None:
            try:
                self._lateral = self.ask("ASK { LATERAL { BIND(1 AS ?x) } }")
            except (StoreError, SyntaxError, ValueError):
                self._lateral = False
        return self._lateral

    @classmethod
    def from_env(cls, env: dict | None = None) -> "RemoteStore":
        import os
        env = os.environ if env is None else env
        try:
            timeout = float(env.get("PRTKG_SPARQL_TIMEOUT") or DEFAULT_TIMEOUT)
        except ValueError:
            raise StoreError(f"PRTKG_SPARQL_TIMEOUT: {env['PRTKG_SPARQL_TIMEOUT']!r} is not a number of seconds")
        cap = env.get("PRTKG_SPARQL_MAX_ROWS") or None
        if cap is not None and not (cap.isascii() and cap.isdigit() and int(cap) > 0):
            raise StoreError(f"PRTKG_SPARQL_MAX_ROWS: {cap!r} is not a positive number of rows")
        return cls(env["PRTKG_SPARQL_ENDPOINT"], env.get("PRTKG_SPARQL_UPDATE_ENDPOINT"),
                   env.get("PRTKG_SPARQL_GRAPH_STORE"), timeout,
                   env.get("PRTKG_SPARQL_UNION_PARAM", "union-default-graph"), int(cap) if cap else None)

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
               named_graphs: Sequence = ()) -> tuple[str, Any, Any]:
        """("solutions"|"graph"|"boolean", the open response, its headers) of one query; SyntaxError for
        a query the server rejects as malformed. The caller reads the response (as a file) and closes it."""
        sw = self._wrapper(self.endpoint)
        sw.setMethod(POST)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a query it cannot classify is the server's to reject
            sw.setQuery(full_iris(query))
        kind = ("graph" if sw.queryType in ("CONSTRUCT", "DESCRIBE")
                else "boolean" if sw.queryType == "ASK" else "solutions")
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
            return kind, response, response.headers
        except QueryBadFormed as e:
            raise SyntaxError(_server_message(e)) from None
        except (EndPointNotFound, EndPointInternalError, Unauthorized, SPARQLWrapperException,
                urllib.error.URLError, OSError) as e:
            raise self._fail(self.endpoint, e) from None

    def _read(self, response) -> bytes:
        """A whole (small) answer's text."""
        try:
            with response:
                return response.read()
        except OSError as e:
            raise self._fail(self.endpoint, e) from None

    def _update(self, text: str) -> None:
        sw = self._wrapper(self.update_endpoint)
        sw.setMethod(POST)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sw.setQuery(full_iris(text))
        try:
            sw.query()
        except QueryBadFormed as e:
            raise SyntaxError(_server_message(e)) from None
        except (SPARQLWrapperException, urllib.error.URLError, OSError) as e:
            raise self._fail(self.update_endpoint, e) from None

    # -- writing ---------------------------------------------------------------------------
    def replace_records(self, records: Sequence[Record], agent: str | None = None, at=None,
                        infer: bool = True) -> None:
        """Replace each record's named graph (content + provenance): one update request per
        RECORDS_PER_REQUEST records, each checked after it is written; then the derived graph
        follows, as in the embedded store."""
        if infer and records:
            from ..derived import kept_up_to_date
            with kept_up_to_date(self, [r.graph.graph.value for r in records]):
                self.replace_records(records, agent, at, infer=False)
            return
        agent, at = agent or _whoami(), at or _now()
        for i in range(0, len(records), RECORDS_PER_REQUEST):
            batch = records[i:i + RECORDS_PER_REQUEST]
            graphs = {r.graph.graph: list(dict.fromkeys(_record_quads(r, agent, at))) for r in batch}
            names = {r.graph.graph.value: r.id for r in batch}
            self._write(_replace_graphs(graphs), {g: len(qs) for g, qs in graphs.items()}, names)

    def _write(self, update: str, expected: dict[ox.NamedNode, int], names: dict[str, str] | None = None) -> None:
        """Run one update request, then check each graph it wrote holds exactly what was sent: a
        server that does not roll back a run-time failure (Virtuoso) must not leave it unnoticed."""
        names = names or {}
        try:
            self._update(update)
        except StoreError as e:
            left = self._mismatch(expected, names)
            raise StoreError(f"{e}; {left}" if left else str(e)) from None
        left = self._mismatch(expected, names)
        if left:
            raise StoreError(f"the SPARQL server at {self.update_endpoint} did not store {left}")

    def _mismatch(self, expected: dict[ox.NamedNode, int], names: dict[str, str]) -> str | None:
        """None if each graph holds as many triples as were sent, else which one does not."""
        graphs = list(expected)
        found: dict[str, int] = {}
        for i in range(0, len(graphs), 200):
            values = " ".join(str(g) for g in graphs[i:i + 200])
            for row in self.raw_query(f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
                                      f"GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"):
                found[row["g"].value] = int(row["n"].value)
        for g, n in expected.items():
            if found.get(g.value, 0) != n:
                what = f"record {names[g.value]}" if g.value in names else f"graph <{g.value}>"
                return f"{what} whole: it holds {found.get(g.value, 0)} of {n} triples after the write"
        return None

    def update(self, sparql_update: str) -> None:
        self._update(rdf.sparql_prefixes() + sparql_update)

    def insert_where(self, graph: str, template: str, where: str) -> int:
        """The pattern's triples into a graph, by the server itself; returns how much the graph grew
        (a SPARQL update does not say how many it inserted, so the graph is counted around it)."""
        count = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        before = int(self.select(count)[0]["n"])
        self.update(f"INSERT {{ GRAPH <{graph}> {{ {template} }} }} WHERE {{ {where} }}")
        return int(self.select(count)[0]["n"]) - before

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
        """Replace a whole graph in one update request (never a Graph Store PUT), checked after."""
        g = ox.NamedNode(graph)
        triples = list(dict.fromkeys(ox.Quad(q.subject, q.predicate, q.object, g) for q in quads))
        self._write(_replace_graphs({g: triples}), {g: len(triples)})

    def load_ontology(self) -> None:
        load_ontology_into(self)

    def remove_graph(self, graph: str) -> None:
        self._update(f"DROP SILENT GRAPH <{graph}>")

    def flush(self) -> None:
        """The server persists each update itself."""

    # -- reading ---------------------------------------------------------------------------
    def raw_query(self, query: str, use_default_graph_as_union: bool = False, default_graph: Sequence = (),
                  named_graphs: Sequence = ()) -> Any:
        """The answer as pyoxigraph result objects: QuerySolutions, QueryBoolean or QueryTriples. The
        solutions of a server that caps no rows are parsed as the body is read (never held whole)."""
        if isinstance(default_graph, (ox.NamedNode, str)):
            default_graph = [default_graph]
        args = (use_default_graph_as_union, default_graph or (), named_graphs or ())
        kind, response, headers = self._fetch(query, *args)
        if kind == "graph":
            body = self._read(response)
            # QueryTriples has no public constructor: let a scratch store hand the triples back as one.
            scratch = ox.Store()
            try:
                scratch.load(body, format=ox.RdfFormat.N_TRIPLES)
            except (SyntaxError, ValueError) as e:
                raise self._not_results(e) from None
            return scratch.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
        if kind == "solutions" and not self._caps(headers):
            return self._parse(response)   # nothing to count: parsed as read
        # An ASK (Virtuoso may answer it as a one-row SELECT), or an answer a row cap may have cut
        # off: read whole, counted, then handed back as a fresh QuerySolutions.
        body = self._read(response)
        result = self._parse(body)
        if kind == "boolean" and not isinstance(result, ox.QueryBoolean):
            return self._ask_answer(result)
        if isinstance(result, ox.QueryBoolean):
            return result
        self._check_cap(query, sum(1 for _ in self._solutions_of(result)), headers, args)
        return self._parse(body)

    def _parse(self, source) -> Any:
        try:
            return ox.parse_query_results(source, format=ox.QueryResultsFormat.JSON)
        except (SyntaxError, ValueError, OSError) as e:
            raise self._not_results(e) from None

    def _not_results(self, e: BaseException) -> StoreError:
        if isinstance(e, OSError) and not isinstance(e, ValueError):
            return self._fail(self.endpoint, e)
        return StoreError(f"the SPARQL server at {self.endpoint} answered something that is not "
                          f"SPARQL results: {str(e).splitlines()[0] if str(e) else type(e).__name__}")

    def _solutions_of(self, result) -> Iterator[Any]:
        """The rows of a parsed answer, a broken body (or connection) mid-way a StoreError."""
        it = iter(result)
        while True:
            try:
                row = next(it)
            except StopIteration:
                return
            except (SyntaxError, ValueError, OSError) as e:
                raise self._not_results(e) from None
            yield row

    def _solutions(self, query: str, union: bool = False) -> tuple[list[str], Iterator[Any]]:
        """(variables, rows) of a SELECT, the rows parsed as the HTTP body is read: a whole-store fact
        query holds one row, not its answer. Where a row cap may apply (_caps), the rows are counted
        as they go and an answer as long as the cap is checked against a COUNT when it ends: a cut-off
        answer ends in a StoreError, never in a short last row."""
        args = (union, (), ())
        kind, response, headers = self._fetch(query, *args)
        if kind != "solutions":
            self._read(response)
            raise StoreError(f"the SPARQL server at {self.endpoint} answered a SELECT with something else")
        result = self._parse(response)
        if isinstance(result, ox.QueryBoolean):
            response.close()
            raise StoreError(f"the SPARQL server at {self.endpoint} answered a SELECT with something else")
        names = [v.value for v in result.variables]

        def rows() -> Iterator[Any]:
            n = 0
            with response:
                for row in self._solutions_of(result):
                    n += 1
                    yield row
            self._check_cap(query, n, headers, args)
        return names, rows()

    def _ask_answer(self, result) -> ox.QueryBoolean:
        """Virtuoso answers an ASK as a SELECT of `__ASK_RETVAL`: one row (1) when true, none when false."""
        names = [v.value for v in result.variables]
        rows = list(result)
        if names != [_ASK_VAR] or len(rows) > 1:
            raise StoreError(f"the SPARQL server at {self.endpoint} answered an ASK with something else")
        value = rows[0][_ASK_VAR] if rows else None
        truth = value is not None and value.value in ("1", "true")
        return ox.parse_query_results('{"head": {}, "boolean": %s}' % ("true" if truth else "false"),
                                      format=ox.QueryResultsFormat.JSON)

    def _caps(self, headers) -> list[int]:
        """The row caps that may apply to an answer: announced by the server, or configured."""
        announced = (headers.get("X-SPARQL-MaxRows") if headers is not None else None) or ""
        caps = [int(announced)] if announced.strip().isdigit() else []
        if self.max_rows:
            caps.append(self.max_rows)
        return caps

    def _check_cap(self, query: str, n: int, headers, args) -> None:
        """An answer as long as the server's row cap may have been cut off: count the solutions
        and refuse a short answer rather than take it as the whole one."""
        caps = self._caps(headers)
        if not caps or n < min(caps):
            return
        _, response, _ = self._fetch(_count_query(query), *args)
        rows = list(self._parse(self._read(response)))
        total = int(rows[0]["__n"].value) if rows and rows[0]["__n"] is not None else None
        if total != n:
            raise StoreError(f"the SPARQL server at {self.endpoint} cut an answer off at {n} rows "
                             f"(it has {total if total is not None else 'more'}; its row cap is {min(caps)}: "
                             "raise it, e.g. Virtuoso's [SPARQL] ResultSetMaxRows)")

    def select(self, query: str, **bindings: Any) -> list[dict[str, Any]]:
        return list(self._rows(query))

    def stream(self, query: str) -> Iterator[dict[str, Any]]:
        """The rows of a SELECT one at a time, parsed as the HTTP body is read (see _solutions)."""
        return self._rows(query)

    def _rows(self, query: str) -> Iterator[dict[str, Any]]:
        names, rows = self._solutions(rdf.sparql_prefixes() + query)
        yield from python_rows(rows, names)

    def ask(self, query: str) -> bool:
        result = self.raw_query(rdf.sparql_prefixes() + query)
        if not isinstance(result, ox.QueryBoolean):
            raise StoreError(f"the SPARQL server at {self.endpoint} answered an ASK with something else")
        return bool(result)

    def named_graphs(self) -> Iterator[str]:
        _, rows = self._solutions(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {_NOT_SYSTEM} }}")
        return (row["g"].value for row in rows)

    def graph_quads(self, graph: str) -> Iterator[ox.Quad]:
        g = ox.NamedNode(graph)
        _, rows = self._solutions(f"SELECT ?s ?p ?o WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }}")
        return (ox.Quad(row["s"], row["p"], row["o"], g) for row in rows)

    def graphs_quads(self, graphs: Sequence[ox.NamedNode]) -> list[ox.Quad]:
        out = []
        for i in range(0, len(graphs), 200):   # one request per 200 graphs keeps the query text small
            values = " ".join(str(g) for g in graphs[i:i + 200])
            _, rows = self._solutions(f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}")
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
            _, rows = self._solutions(f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} "
                                      f"FILTER(?p IN ({preds})) }}")
            out += [ox.Quad(row["s"], row["p"], row["o"], row["g"]) for row in rows]
        return out

    def __len__(self) -> int:
        ours = f"GRAPH ?g {{ ?s ?p ?o }} {_NOT_SYSTEM}"
        # Where the default graph is the union of all graphs, it is not counted again.
        where = f"{{ ?s ?p ?o }} UNION {{ {ours} }}" if self.union_param else ours
        rows = list(self.raw_query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"))
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
