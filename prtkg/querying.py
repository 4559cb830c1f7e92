"""Read-only SPARQL over the persistent store (the CLI's `prtkg query`)."""
from __future__ import annotations

import csv
import functools
import io
import os
import re
import sys
import threading
from dataclasses import dataclass
from typing import Collection, Sequence
from urllib.parse import urljoin

import pyoxigraph as ox
from pyparsing import ParseException, ParserElement, ParseResults
from rdflib import URIRef
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rich.console import Console
from rich.table import Table

from . import rdf
from .errors import PrtkgError, StoreError
from .store.remote import is_remote
from .store import DEFAULT_PATH, Store, open_store, to_python

_FORMATS = {"json": ox.QueryResultsFormat.JSON, "csv": ox.QueryResultsFormat.CSV,
            "tsv": ox.QueryResultsFormat.TSV, "xml": ox.QueryResultsFormat.XML}


# A cell a spreadsheet would evaluate as a formula (CSV injection). Plain numbers, negative ones
# included, stay as they are; anything else starting with one of these gets a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value: str) -> str:
    if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def solutions_csv(result) -> bytes:
    """SPARQL 1.1 CSV results (RFC 4180, CRLF) with formula-like cells defused (see csv_cell)."""
    names = [v.value for v in result.variables]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(names)
    for row in result:
        cells = []
        for n in names:
            term = row[n]
            if term is None:
                cells.append("")
            elif isinstance(term, ox.BlankNode):
                cells.append("_:" + term.value)
            else:
                cells.append(csv_cell(term.value))
        writer.writerow(cells)
    return buf.getvalue().encode("utf-8")


# -- the sandbox: what may be sent to a store -------------------------------------------------------
#
# Every path that runs a user's SPARQL (the CLI, /sparql, saved questions) asks `standard_query` first.
# It decides from rdflib's SPARQL 1.1 parser, never from patterns over the text. Two parsers read
# every query (rdflib's here, the store's when it runs), so the text they read must mean the same to
# both: `_canonical` removes the two places where they were seen to disagree (codepoint escapes, which
# the SPARQL grammar expands before parsing but Oxigraph only inside tokens; and a lone carriage
# return, which ends a comment for Oxigraph but not for rdflib), and the canonical text is what runs.

# Graph IRIs the store itself names: records' and findings' graphs are `urn:` IRIs (rdf.graph_iri),
# which no server dereferences; our own namespace is accepted too (it is never fetched by a store:
# fetching needs a vendor pragma, which is refused).
LOCAL_GRAPH_PREFIXES = ("urn:", "https://w3id.org/prtkg/")
# Extension functions that are standard after all: the XPath constructor functions (SPARQL 1.1 §17.5
# casts are xsd:boolean, double, float, decimal, integer, dateTime, string; stores add date, time...).
_STANDARD_FUNCTION_NAMESPACES = (rdf.XSD,)
# IRIs a server reads as commands rather than names, wherever they stand (Virtuoso's `?o bif:contains "x"`
# is a triple pattern to SPARQL and a built-in call to Virtuoso; Jena's property functions likewise).
VENDOR_NAMESPACES = ("bif:", "sql:", "http://www.openlinksw.com/schemas/bif#",
                     "http://www.openlinksw.com/schemas/sql#", "http://jena.apache.org/ARQ/property#",
                     "http://jena.hpl.hp.com/ARQ/property#")
# Depth of the parse tree (an expression level costs about five, a group one or two): beyond this
# Oxigraph's own recursive parser risks the stack of the process that runs it.
MAX_PARSE_DEPTH = 400
_HEX = frozenset("0123456789abcdefABCDEF")


class QueryRefused(PrtkgError):
    """A query the sandbox will not run; `status` is the HTTP status (400, or 403 outside a dataset)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CheckedQuery:
    text: str                      # the canonical text: what runs
    form: str                      # SELECT, CONSTRUCT, ASK or DESCRIBE
    from_graphs: tuple[str, ...]   # FROM
    from_named: tuple[str, ...]    # FROM NAMED


def _canonical(text: str) -> str:
    r"""The query with codepoint escapes expanded as the grammar says (\uXXXX, \UXXXXXXXX, before parsing)
    and line ends as LF."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "uU":
            width = 4 if text[i + 1] == "u" else 8
            digits = text[i + 2:i + 2 + width]
            if len(digits) != width or not set(digits) <= _HEX:
                raise QueryRefused(f"codepoint escape at character {i}: \\{text[i + 1]} needs {width} hex digits")
            code = int(digits, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise QueryRefused(f"codepoint escape at character {i}: U+{code:X} is not a character")
            out.append(chr(code))
            i += 2 + width
            continue
        out.append(c)
        i += 1
    expanded = "".join(out).replace("\r\n", "\n").replace("\r", "\n")
    if "\\u" in expanded or "\\U" in expanded:
        # an escape that spells another escape: read once by the grammar, twice by some parsers
        raise QueryRefused("a codepoint escape that expands to another \\u or \\U escape is refused")
    return expanded


_deep_parsing = False
_deep_lock = threading.Lock()
# Enough for a recursion limit of 60,000 rdflib/pyparsing frames (measured: 2,000 nested groups parse,
# deeper text ends in RecursionError, never in a crash).
PARSE_STACK_BYTES = 64 * 1024 * 1024


def _fresh_locks() -> None:
    """In a forked child: locks another thread of the parent held at the fork would stay held forever.
    pyparsing takes its class-wide cache lock on every parse (rdflib, pyshacl parse in the server)."""
    global _deep_lock
    _deep_lock = threading.Lock()
    ParserElement.packrat_cache_lock = threading.RLock()
    ParserElement.recursion_lock = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_locks)


def allow_deep_parsing() -> None:
    """Let this process parse in a thread with a large stack and a high recursion limit. Only for
    processes that do nothing but queries (query workers, the CLI): the limit is process-wide, and in
    a server it would let other deep recursion (a nested JSON body) overflow a normal thread's stack."""
    global _deep_parsing
    _deep_parsing = True


def _parse(text: str, parse):
    """rdflib's parser is recursive descent: a long triple block or deep nesting needs deep recursion."""
    if not _deep_parsing:
        return parse(text)
    box: list = []

    def target() -> None:
        try:
            box.append(("ok", parse(text)))
        except BaseException as e:  # handed to the caller's thread
            box.append(("error", e))

    # stack_size and the recursion limit are process-wide: raise them for this one parse only, so that
    # nothing else in the process (a JSON body in a test run, say) recurses that deep afterwards.
    with _deep_lock:
        old_stack, old_limit = threading.stack_size(PARSE_STACK_BYTES), sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, 60_000))
        try:
            worker = threading.Thread(target=target, name="sparql-parse", daemon=True)
            worker.start()
            threading.stack_size(old_stack)
            worker.join()
        finally:
            threading.stack_size(old_stack)
            sys.setrecursionlimit(old_limit)
    kind, value = box[0]
    if kind == "error":
        raise value
    return value


def _syntax_message(e: Exception) -> str:
    line = getattr(e, "lineno", None)
    col = getattr(e, "col", None)
    found = getattr(e, "line", "") or ""
    where = f" at line {line}, column {col}" if line is not None else ""
    near = found[max(0, (col or 1) - 1):][:40].strip() if found else ""
    return f"not a SPARQL query in standard SPARQL 1.1 syntax{where}" + (f" (at {near!r})" if near else "")


def _walk(tree, limit: int):
    """Every CompValue and IRI in the parse tree; refuses trees deeper than `limit`."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, CompValue):
            depth += 1
            if depth > limit:
                raise QueryRefused(f"the query is nested too deeply (its syntax tree passes {limit} levels); "
                                   "flatten it")
            yield node
            stack.extend((v, depth) for v in node.values())
        elif isinstance(node, URIRef):
            yield node
        elif isinstance(node, (list, tuple, ParseResults)):
            stack.extend((v, depth) for v in node)
        elif isinstance(node, dict):
            stack.extend((v, depth) for v in node.values())


def _iri(term, prefixes: dict[str, str], base: str | None) -> str | None:
    """An IRI of the parse tree as an absolute IRI string; None for a variable."""
    if isinstance(term, CompValue) and term.name == "pname":
        prefix = term.get("prefix") or ""
        if prefix not in prefixes:
            raise QueryRefused(f"prefix {prefix}: is not declared (standard SPARQL has no predeclared prefixes)")
        local = term.get("localname") or ""
        return prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)  # PN_LOCAL_ESC
    if isinstance(term, URIRef):
        return urljoin(base, str(term)) if base else str(term)
    return None


def is_local_graph(iri: str) -> bool:
    return iri.startswith(LOCAL_GRAPH_PREFIXES)


# The check's verdict depends on the text alone, so a process that checks many queries keeps its last
# verdicts: a query asked again (a saved question, a page of the workbench) skips rdflib's parser,
# which is most of /sparql's fixed cost per request (milliseconds, more than Oxigraph's evaluation of
# a cheap question). Refusals are not kept (lru_cache keeps no exceptions); long texts are not kept,
# so the cache stays within CHECK_CACHE_SIZE * CHECK_CACHE_CHARS characters.
CHECK_CACHE_SIZE = 256
CHECK_CACHE_CHARS = 20_000


def standard_query(text: str) -> CheckedQuery:
    """The one decision "is this a standard SPARQL 1.1 query, and only that" (see _check); verdicts
    on texts up to CHECK_CACHE_CHARS are remembered."""
    if len(text) <= CHECK_CACHE_CHARS:
        return _check_cached(text)
    return _check(text)


def _check(text: str) -> CheckedQuery:
    """The one decision "is this a standard SPARQL 1.1 query, and only that" for every path that runs
    user SPARQL. Refused (QueryRefused, naming the reason): updates, anything outside SPARQL 1.1 query
    syntax (vendor pragmas such as DEFINE included), SERVICE, extension functions other than the
    XPath constructors, undeclared prefixes, FROM / FROM NAMED of a graph not in this store."""
    canonical = _canonical(text)
    try:
        tree = _parse(canonical, parseQuery)
    except RecursionError:
        raise QueryRefused("the query is nested too deeply to be checked; flatten it") from None
    except ParseException as e:
        try:
            update = _parse(canonical, parseUpdate)
        except (ParseException, RecursionError, ValueError):
            raise QueryRefused(_syntax_message(e)) from None
        ops = ", ".join(dict.fromkeys(_UPDATE_NAMES.get(op.name, op.name) for op in update.request)) or "update"
        raise QueryRefused(f"updates are refused: this is not a SPARQL query but an update ({ops}); only "
                           "queries run here (SELECT, ASK, CONSTRUCT, DESCRIBE)") from None
    except ValueError as e:  # rdflib's own escape expansion; _canonical left none, but say so cleanly
        raise QueryRefused(f"not a SPARQL query in standard SPARQL 1.1 syntax: {e}") from None
    prologue, query = tree[0], tree[1]
    prefixes: dict[str, str] = {}
    base: str | None = None
    for decl in prologue:
        iri = str(decl["iri"])
        iri = urljoin(base, iri) if base else iri
        if decl.name == "Base":
            base = iri
        else:
            prefixes[decl.get("prefix") or ""] = iri
    from_graphs, from_named = [], []
    for node in _walk(query, MAX_PARSE_DEPTH):
        if isinstance(node, URIRef) or node.name == "pname":  # prefixes must be declared, anywhere
            iri = _iri(node, prefixes, base)
            if iri.startswith(VENDOR_NAMESPACES):
                raise QueryRefused(f"<{iri}> is refused: a vendor extension, not standard SPARQL")
            continue
        if node.name == "ServiceGraphPattern":
            target = _iri(node.get("term"), prefixes, base)
            raise QueryRefused(f"SERVICE {'<' + target + '>' if target else node.get('term')!s} is refused: "
                               "queries here never call other endpoints")
        if node.name == "Function":
            iri = _iri(node.get("iri"), prefixes, base)
            if iri is None or not iri.startswith(_STANDARD_FUNCTION_NAMESPACES):
                raise QueryRefused(f"function <{iri}> is refused: only SPARQL 1.1 built-ins and XPath "
                                   "constructor functions (xsd:…) are allowed")
        if node.name == "DatasetClause":
            named = "named" in node
            iri = _iri(node.get("named") if named else node.get("default"), prefixes, base)
            if iri is None or not is_local_graph(iri):
                raise QueryRefused(f"FROM {'NAMED ' if named else ''}<{iri}> is refused: only this store's "
                                   f"graphs ({', '.join(p + '…' for p in LOCAL_GRAPH_PREFIXES)}) can be queried")
            (from_named if named else from_graphs).append(iri)
    form = query.name.replace("Query", "").upper()
    return CheckedQuery(canonical, form, tuple(from_graphs), tuple(from_named))


_check_cached = functools.lru_cache(maxsize=CHECK_CACHE_SIZE)(_check)


_UPDATE_NAMES = {"InsertData": "INSERT DATA", "DeleteData": "DELETE DATA", "DeleteWhere": "DELETE WHERE",
                 "Modify": "DELETE/INSERT", "Load": "LOAD", "Clear": "CLEAR", "Drop": "DROP",
                 "Create": "CREATE", "Add": "ADD", "Move": "MOVE", "Copy": "COPY"}


def query_dataset(checked: CheckedQuery, default_graph_uris: Sequence[str] = (),
                  named_graph_uris: Sequence[str] = (), allowed_graphs: Collection[str] | None = None,
                  remote: bool = False) -> dict:
    """The RDF dataset of one query, as keyword arguments of Store.query / raw_query (SPARQL 1.1
    Protocol §2.1.4): the request's default-graph-uri / named-graph-uri if any, else the query's
    FROM / FROM NAMED, else the default graph is the union of all graphs and every named graph is
    visible. `allowed_graphs` (None: all) confines the dataset to those graphs: a named graph outside
    them is refused with 403, and the union default becomes the union of the allowed graphs.
    `remote`: for a store reached over the Protocol, which has no name for the unnamed graph."""
    for param, values in (("default-graph-uri", default_graph_uris), ("named-graph-uri", named_graph_uris)):
        for value in values:
            try:
                ox.NamedNode(value)
            except ValueError as e:
                raise QueryRefused(f"{param}: {value!r} is not an absolute IRI ({e})") from None
            if not is_local_graph(value):
                raise QueryRefused(f"{param}: <{value}> is refused: only this store's graphs "
                                   f"({', '.join(p + '…' for p in LOCAL_GRAPH_PREFIXES)}) can be queried")
    if default_graph_uris or named_graph_uris:
        defaults, named = list(default_graph_uris), list(named_graph_uris)
    elif checked.from_graphs or checked.from_named:
        defaults, named = list(checked.from_graphs), list(checked.from_named)
    elif allowed_graphs is None:
        return {"use_default_graph_as_union": True}
    else:
        defaults = named = sorted(allowed_graphs)
    if allowed_graphs is not None:
        outside = sorted((set(defaults) | set(named)) - set(allowed_graphs))
        if outside:
            raise QueryRefused(f"graph <{outside[0]}> is outside the graphs this caller may query", 403)
    # An empty default graph is a graph with no triples, not "every graph" (the store's reading of None);
    # over the Protocol, naming only named graphs says the same.
    empty: list = [] if remote else [ox.DefaultGraph()]
    return {"default_graph": [ox.NamedNode(g) for g in defaults] or empty,
            "named_graphs": [ox.NamedNode(g) for g in named]}


def run_query(text: str, fmt: str = "table", store: Store | None = None) -> str:
    """Check the query (standard_query: refused before anything is sent, on every backend), then run it."""
    checked = standard_query(text)
    if fmt != "table" and fmt not in _FORMATS:
        raise PrtkgError(f"--format: {fmt!r} is not one of table, {', '.join(_FORMATS)}")
    if store is None and os.environ.get("PRTKG_SPARQL_ENDPOINT"):
        store = open_store()
    if store is None:
        path = os.environ.get("PRTKG_STORE", str(DEFAULT_PATH))
        if not os.path.isdir(path):
            raise PrtkgError(f"no store at {path} (load records first with `prtkg load`, or set PRTKG_STORE)")
        store = Store(path, read_only=True)
    try:
        # Every record is in its own named graph: unless the query names its graphs (FROM), the
        # default graph is their union, as at /sparql.
        result = store.raw_query(checked.text, **query_dataset(checked, remote=is_remote(store)))
    except SyntaxError as e:
        raise PrtkgError(f"not a SPARQL query (updates are refused here): {e}") from None
    except OSError as e:  # the store's files or the remote server, not the query
        raise StoreError(f"query failed: {e}") from None
    if isinstance(result, bool):
        return "true" if result else "false"
    if isinstance(result, ox.QueryTriples):
        return result.serialize(format=ox.RdfFormat.TURTLE).decode()
    if fmt == "table":
        names = [v.value for v in result.variables]
        table = Table(*names)
        for row in result:
            table.add_row(*("" if row[n] is None else str(to_python(row[n])) for n in names))
        buf = io.StringIO()
        Console(file=buf, width=200).print(table)
        return buf.getvalue()
    if fmt not in _FORMATS:
        raise PrtkgError(f"--format: {fmt!r} is not one of table, {', '.join(_FORMATS)}")
    if fmt == "csv":
        return solutions_csv(result).decode("utf-8")
    return result.serialize(format=_FORMATS[fmt]).decode()
