"""Bulk validation: the shapes compiled to SPARQL and run inside the store, one query per constraint.

The shapes in shapes/*.ttl stay the only source: each SHACL-SPARQL constraint becomes its own
SELECT with `$this` bound by the shape's targets, and each SHACL Core component of a property
shape its standard SPARQL definition (as SHACL2SPARQL, Trav-SHACL and Jena's SPARQL-backed
validation do). Results go through the same result -> finding mapping as pySHACL's report
(shapes/results.py: `findings_from_results`), so both paths give the same findings.

What a record's validation sees must not depend on the path. pySHACL validates each record
against a small data graph: its own triples, the context of the nodes it references (type, trade
type, code-list scheme and notation, from any other graph), the day nodes of the dates it mentions
and the as-of day. Bulk validation builds that graph per record -- a named graph in a scratch
in-memory Oxigraph store, one chunk of records at a time, filled from the store by a few
set-oriented reads -- and wraps every compiled query in `GRAPH ?g { ... }`, so one query checks a
whole chunk at once and each row names its record. The day nodes are the exception: one graph of
the chunk holds them (from the calendar materialised in urn:prtkg:calendar) and the compiled
day-node patterns read it (`_day_graph` says why that gives each record its own rows).

For many records of an on-disk store or a SPARQL server the pages of records go to worker processes
(both cores), each reading the same checkpoint of the store (or the same server), so memory stays
bounded by a page per worker.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import re
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import pyoxigraph as ox
from rdflib import Literal as RLiteral, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

from prtkg import packed, rdf
from prtkg.store.remote import is_remote
from prtkg.workdays import default_calendar

from . import calendar_graph
from .datagraph import RUN, _CONTEXT_PREDICATES, shapes
from .results import Result, evidence_from_bindings, findings_from_results

CHECK = "urn:prtkg:check:"
_INDEX = ox.NamedNode(CHECK + "index")
_DAYS = ox.NamedNode(CHECK + "days")     # the day nodes of a chunk's records, shared
_CHECKS = f"<{rdf.PRTKG}checks>"
# Core components that only annotate a shape (or that our own vocabulary adds) and check nothing.
_ANNOTATIONS = {SH.path, SH.severity, SH.message, SH.name, SH.description, SH.order, SH.group,
                SH.deactivated, RDF.type, RDFS.label, RDFS.comment}
_WELL_FORMED = {XSD.date, XSD.dateTime, XSD.decimal, XSD.integer, XSD.boolean}
# An instance of a class, as SHACL defines it (targets, sh:class); see Run.rows for its direct form.
_INSTANCE_OF = f"<{RDF.type}>/<{RDFS.subClassOf}>*"
_SUBCLASS_OF = ox.NamedNode(str(RDFS.subClassOf))


class NotCompiled(ValueError):
    """A shape uses a SHACL feature the bulk compiler does not translate."""


@dataclass(frozen=True)
class Query:
    source: Any         # the key of shapes()[1] its results map through
    shape: Any
    label: str          # for timings: shape name and component
    text: str


# -- compiling -------------------------------------------------------------------------------

def _term(node) -> str:
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, RLiteral):
        return node.n3()
    raise NotCompiled(f"shapes: blank node {node} where a constant is expected")


def _path(g, node) -> str:
    """A SHACL property path as a SPARQL property path."""
    if isinstance(node, URIRef):
        return f"<{node}>"
    if (node, RDF.first, None) in g:
        return "(" + "/".join(_path(g, x) for x in Collection(g, node)) + ")"
    alt = g.value(node, SH.alternativePath)
    if alt is not None:
        return "(" + "|".join(_path(g, x) for x in Collection(g, alt)) + ")"
    for pred, op in ((SH.inversePath, "^"), (SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"),
                     (SH.zeroOrOnePath, "?")):
        inner = g.value(node, pred)
        if inner is not None:
            return f"^{_path(g, inner)}" if op == "^" else f"({_path(g, inner)}){op}"
    raise NotCompiled(f"shapes: unsupported property path {node}")


def _targets(g, shape) -> list[str]:
    """Group patterns binding ?this to each focus node of the shape's targets."""
    out = []
    for c in g.objects(shape, SH.targetClass):
        out.append(f"?this {_INSTANCE_OF} {_term(c)} .")
    for n in g.objects(shape, SH.targetNode):
        out.append(f"BIND({_term(n)} AS ?this)")
    for p in g.objects(shape, SH.targetSubjectsOf):
        out.append(f"?this {_term(p)} ?__target .")
    for p in g.objects(shape, SH.targetObjectsOf):
        out.append(f"?__target {_term(p)} ?this .")
    if (shape, RDF.type, SH.NodeShape) in g and (shape, RDF.type, RDFS.Class) in g:
        out.append(f"?this {_INSTANCE_OF} {_term(shape)} .")
    return out


def _target_group(targets: list[str]) -> str:
    # No sub-select here: Oxigraph evaluates a sub-select inside GRAPH ?g against the whole
    # dataset. A focus node reached twice gives duplicate rows, which the mapping dedupes.
    return targets[0] if len(targets) == 1 else " UNION ".join("{ " + t + " }" for t in targets)


def _closing(text: str, open_at: int) -> int:
    """Index of the brace closing the one at `open_at` (string literals skipped)."""
    depth, i, quote = 0, open_at, None
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif text.startswith(quote, i):
                i += len(quote) - 1
                quote = None
        elif text.startswith('"""', i) or text.startswith("'''", i):
            quote = text[i:i + 3]
            i += 2
        elif c in "\"'":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise NotCompiled("shapes: unbalanced braces in a SPARQL constraint")


_SUBSELECT = re.compile(r"\{\s*SELECT\s+(DISTINCT\s+)?(.*?)\s+WHERE\s*\{", re.S | re.I)
_GROUP_BY = re.compile(r"GROUP\s+BY\s", re.I)


def _scope_subselects(body: str) -> str:
    """Each sub-select reads its record's graph too: project ?g and scope its pattern by it."""
    out, pos = [], 0
    while True:
        m = _SUBSELECT.search(body, pos)
        if m is None:
            return "".join(out) + body[pos:]
        inner_open = m.end() - 1
        inner_close = _closing(body, inner_open)
        inner = _scope_subselects(body[inner_open + 1:inner_close])
        outer_close = _closing(body, m.start())
        modifiers = body[inner_close + 1:outer_close]
        modifiers = _GROUP_BY.sub("GROUP BY ?g ", modifiers, count=1)
        out.append(body[pos:m.start()] + "{ SELECT " + (m.group(1) or "") + "?g " + m.group(2)
                   + " WHERE { GRAPH ?g {" + inner + "} }" + modifiers + "}")
        pos = outer_close + 1


_BIND = re.compile(r"\bBIND\s*\(", re.I)
_PLAIN_OPTIONAL = re.compile(r"\bOPTIONAL\s*\{([^{}]*)\}", re.I)
# A triples block alone on its line (previous statement closed): ends with " .", no group inside.
_PLAIN_BLOCK = re.compile(r"(?<=[.})]\n)([ \t]*)(\?\w+\s[^{}\n]*\s\.)[ \t]*$", re.M)


def _per_solution(body: str) -> str:
    """From a constraint's first BIND on, join each plain pattern once per solution (LATERAL).

    The shapes compute day numbers with BIND and join day nodes on them (the last day X+N of a
    period, the end of a running deadline). Oxigraph plans such joins, and the OPTIONALs after
    them, as hash joins over every day node of every graph in the scratch store: at 1,000
    projects three quarters of the compiled queries' time went to the five constraints doing it.
    LATERAL { P } evaluates P with the solution's bindings substituted: an index lookup per row.
    For a P made only of triple patterns (no FILTER, no nested group) that is exactly the join,
    or with OPTIONAL the left join, of the solution with P, so no result can change; the
    per-record path (pySHACL) runs the constraint as written."""
    first = _BIND.search(body)
    if first is None:
        return body
    tail = _PLAIN_OPTIONAL.sub(lambda m: f"LATERAL {{ {m.group(0)} }}", body[first.start():])
    tail = _PLAIN_BLOCK.sub(lambda m: f"{m.group(1)}LATERAL {{ {m.group(2)} }}", tail)
    return body[:first.start()] + tail


# What only a day node has (calendar_graph.quads); prtkg:date alone is also an event's date.
_DAY_ONLY = tuple(t.value[len(rdf.PRTKG):] for t in rdf.CALENDAR_TERMS)
# A triples block about one variable: `?d prtkg:date ?x ; prtkg:dayNumber ?y` up to its " ." or its group's end.
_STATEMENT = re.compile(r"(?<![\w?$])\?(\w+)(\s+prtkg:\w+\s+[^\s;.{}]+(?:\s*;\s*prtkg:\w+\s+[^\s;.{}]+)*)(\s*\.|(?=\s*\}))")


def _day_graph(body: str) -> str:
    """Day-node patterns read the scratch store's one day graph, not a copy in each record's graph.

    A constraint reaches a day node only through a date or day number taken from its record (or
    the as-of day) plus a period length of the catalogue: nodes that the record's own data graph
    holds too (calendar_graph.with_period_ends), and the same node whichever record asks. So one
    graph with the days of every record of the chunk gives every record the rows its own day
    nodes give. Copying them into each record's graph was most of the scratch store: at 1,000
    projects ~300k of its 420k quads and half of the time building it."""
    days = {m.group(1) for m in _STATEMENT.finditer(body)
            if any(re.search(rf"prtkg:{p}\b", m.group(2)) for p in _DAY_ONLY)}
    if not days:
        return body
    return _STATEMENT.sub(lambda m: f"GRAPH <{_DAYS.value}> {{ {m.group(0).strip()} }}" if m.group(1) in days
                          else m.group(0), body)


def _wrap(select: str, where: str, having: str = "") -> str:
    """One query over every scratch graph of the run: ?g names the record's graph."""
    return (f"SELECT ?g {select} WHERE {{\n  GRAPH $index {{ ?g {_CHECKS} ?__record }}\n"
            f"  GRAPH ?g {{\n{where}\n  }}\n}}{having}")


def _conforms(g, node_shape, var: str) -> str:
    """A SPARQL condition true iff `var` conforms to a (simple) nested node shape."""
    parts = []
    for prop in g.objects(node_shape, SH.property):
        path = _path(g, g.value(prop, SH.path))
        for pred, obj in g.predicate_objects(prop):
            if pred in _ANNOTATIONS or str(pred).startswith(rdf.PRTKG):
                continue
            if pred == SH.hasValue:
                parts.append(f"EXISTS {{ {var} {path} {_term(obj)} }}")
            elif pred == SH.minCount and int(obj) == 1:
                parts.append(f"EXISTS {{ {var} {path} ?__any }}")
            elif pred == SH["class"]:
                parts.append(f"NOT EXISTS {{ {var} {path} ?__v FILTER NOT EXISTS "
                             f"{{ ?__v {_INSTANCE_OF} {_term(obj)} }} }}")
            else:
                raise NotCompiled(f"shapes: {node_shape}: nested {pred} is not compiled for bulk validation")
    for pred in set(g.predicates(node_shape, None)) - {SH.property} - _ANNOTATIONS:
        if str(pred).startswith(str(SH)):
            raise NotCompiled(f"shapes: {node_shape}: nested {pred} is not compiled for bulk validation")
    return " && ".join(parts) or "true"


def _value_condition(g, pred, obj) -> str | None:
    """Core components checked value by value: the SPARQL condition a conforming ?value meets."""
    if pred == SH.datatype:
        cond = f"isLiteral(?value) && DATATYPE(?value) = {_term(obj)}"
        if obj in _WELL_FORMED:
            # An ill-typed literal ("2026-02-30"^^xsd:date) does not have its datatype's value space.
            cond += f" && COALESCE(STRLEN(STR({_term(obj)}(STR(?value)))) >= 0, false)"
        return cond
    if pred == SH["class"]:
        return f"EXISTS {{ ?value {_INSTANCE_OF} {_term(obj)} }}"
    if pred == SH.nodeKind:
        kinds = {SH.IRI: "isIRI(?value)", SH.Literal: "isLiteral(?value)", SH.BlankNode: "isBlank(?value)",
                 SH.BlankNodeOrIRI: "!isLiteral(?value)", SH.BlankNodeOrLiteral: "!isIRI(?value)",
                 SH.IRIOrLiteral: "!isBlank(?value)"}
        return kinds[obj]
    if pred == SH["in"]:
        return "(" + " || ".join(f"sameTerm(?value, {_term(x)})" for x in Collection(g, obj)) + ")"
    ops = {SH.minInclusive: ">=", SH.minExclusive: ">", SH.maxInclusive: "<=", SH.maxExclusive: "<"}
    if pred in ops:
        return f"COALESCE(?value {ops[pred]} {_term(obj)}, false)"
    if pred == SH.minLength:
        return f"!isBlank(?value) && STRLEN(STR(?value)) >= {int(obj)}"
    if pred == SH.maxLength:
        return f"!isBlank(?value) && STRLEN(STR(?value)) <= {int(obj)}"
    return None


def _property_queries(g, shape, prop, targets: list[str]) -> list[Query]:
    path = _path(g, g.value(prop, SH.path))
    focus = _target_group(targets)
    name = str(prop).rsplit("#", 1)[-1]
    out = []
    for pred, obj in sorted(g.predicate_objects(prop)):
        if pred in _ANNOTATIONS or str(pred).startswith(rdf.PRTKG):
            continue
        label = f"{name} {str(pred).rsplit('#', 1)[-1]}"
        cond = _value_condition(g, pred, obj)
        if pred == SH.pattern:
            flags = g.value(prop, SH.flags)
            cond = f"!isBlank(?value) && REGEX(STR(?value), {_term(obj)}" + (f", {_term(flags)})" if flags else ")")
        elif pred == SH.flags:
            continue
        elif pred == SH.node:
            cond = _conforms(g, obj, "?value")
        if cond is not None:
            text = _wrap("?this ?value", f"    {focus}\n    ?this {path} ?value .\n    FILTER(!({cond}))")
        elif pred == SH.minCount:
            text = _wrap("?this", f"    {focus}\n    OPTIONAL {{ ?this {path} ?__v }}",
                         f" GROUP BY ?g ?this HAVING (COUNT(DISTINCT ?__v) < {int(obj)})")
        elif pred == SH.maxCount:
            text = _wrap("?this", f"    {focus}\n    ?this {path} ?__v .",
                         f" GROUP BY ?g ?this HAVING (COUNT(DISTINCT ?__v) > {int(obj)})")
        elif pred == SH.hasValue:
            text = _wrap("?this", f"    {focus}\n    FILTER NOT EXISTS {{ ?this {path} {_term(obj)} }}")
        else:
            raise NotCompiled(f"shapes: {prop}: {pred} is not compiled for bulk validation")
        out.append(Query(prop, prop, label, text))
    return out


_SELECT = re.compile(r"^\s*SELECT\s+(DISTINCT\s+)?(.*?)\s+WHERE\s*\{", re.S | re.I | re.M)


def _sparql_query(shape, constraint, select: str, targets: list[str]) -> Query:
    m = _SELECT.search(select)
    if m is None or m.group(1):
        raise NotCompiled(f"shapes: {shape}: a SPARQL constraint must be one plain SELECT ... WHERE {{ }}")
    prologue, body = select[:m.start()], select[m.end():].rstrip()
    if not body.endswith("}"):
        raise NotCompiled(f"shapes: {shape}: solution modifiers after a constraint's WHERE are not compiled")
    projection = m.group(2).replace("$this", "?this")
    # The targets go inside the constraint's own group, so its FILTERs see ?this bound, as with
    # pySHACL's pre-binding of $this.
    where = f"    {_target_group(targets)}\n{_day_graph(_per_solution(_scope_subselects(body[:-1])))}"
    return Query(constraint, shape, str(shape).rsplit("#", 1)[-1],
                 prologue + _wrap(projection, where))


@lru_cache(maxsize=1)
def compiled() -> tuple[Query, ...]:
    g, info = shapes()
    out: list[Query] = []
    for shape in sorted(set(g.subjects(SH.property, None)) | set(g.subjects(SH.sparql, None)), key=str):
        targets = _targets(g, shape)
        if not targets:
            continue        # a shape only used through sh:node
        for prop in sorted(g.objects(shape, SH.property), key=str):
            out.extend(_property_queries(g, shape, prop, targets))
        for constraint in g.objects(shape, SH.sparql):
            if constraint in info:
                out.append(_sparql_query(shape, constraint, str(g.value(constraint, SH.select)), targets))
    return tuple(out)


# -- the per-record validation graphs, chunk by chunk ---------------------------------------------

CHUNK = 2000        # records per scratch store; see Run for the measurement behind it

_IN_CHUNK = f"GRAPH <{_INDEX.value}> {{ ?g {_CHECKS} ?g }}"
_XSD_DATE = ox.NamedNode(rdf.XSD + "date")


def _add_period_ends(dates: dict) -> None:
    """Per graph, the last days of the catalogue's periods from each date (as validate's data graph has)."""
    for g, lits in dates.items():
        parsed = set()
        for lit in lits:
            try:
                parsed.add(dt.date.fromisoformat(lit.value))
            except ValueError:
                pass
        known = {x.value for x in lits}
        lits += [ox.Literal(d.isoformat(), datatype=_XSD_DATE)
                 for d in sorted(calendar_graph.with_period_ends(parsed)) if d.isoformat() not in known]


class Run:
    """The validation graphs of one bulk check, built one chunk of records at a time in a scratch
    in-memory Oxigraph store that the compiled queries then run on.

    The record graphs, their context and the day nodes are read from the store (embedded or
    remote) set-wise; nothing is written to it but the calendar, so a check leaves no trace in the
    store even if it is killed, and memory stays bounded by the chunk whatever the store's size.
    Measured at 1,000 demo projects (1,159 records, on disk): 6.5 s against 27 s for scratch graphs
    written into the store, most of it reading the terms out of RocksDB; chunks of 500 to 5,000
    records cost the same within noise, 2,000 keeps a chunk near 0.5 M quads.

    A record's triples come from its packed copy (prtkg/packed.py), one lookup a record, where it
    has one. A page of 2,000 records of 10^4 projects, CPU seconds, idle machine: its scratch store
    5.8 s with every term decoded out of RocksDB, 1.9 s from the packed copies (the query 0.05 s,
    inflating 0.14 s, parsing into the scratch store 0.8 s); the compiled queries 1.0 s either way.

    Why a copy, not the compiled queries run over the stored graphs themselves (issue #18 item 1),
    measured on a store of 10^4 demo projects, 1,000 records, CPU seconds (the 2-core machine was
    loaded ~5x, so wall times were not comparable): the queries over a private read-write
    checkpoint holding exactly the scratch graphs' content (provenance deleted, context and day
    graph written in, so exact by construction) cost 5.6 s against 1.0 s in memory -- more than
    the whole in-memory build (2.1 s) -- mostly joins Oxigraph plans over every graph of the
    store, not the chunk's; evaluating each record's graph in a LATERAL cuts that to 3.5 s, still
    above copy plus queries (3.1 s), and costs the in-memory queries 2.2 s. What the copy costs is decoding terms out of RocksDB: a
    COUNT over the same 178k quads takes 0.09 s, their N-Triples dump 1.05 s, a SELECT of them as
    TSV 1.1 s. Quad objects straight from the store cost more than the text (12 s vs 9.7 s wall);
    reading only the predicates the queries name (GPOS, half the quads) 1.3 s against 1.75 s with
    the parse, but which nodes a record does not describe (those get context) must still be
    found on its whole graph, and that in-store query alone costs 1.7 s per 2,000 records.
    Measured again for a whole-store check (ctx.covers_store()), CPU seconds, machine loaded ~7x:
    each compiled query run once over the store's own graphs (no index, no context, no day
    graph: cheaper than an exact version could be) costs 11 s together at 10^4, against 30 s
    for this copy (the workers' CPU, 6 pages). At 10^5 the first five took 2.4-2.8 s each (four property
    shapes, 20x their cost at 10^4) and then 66 s (a BidCandidatePublicity3D constraint, 87x),
    while this whole copy path took 463 s in the workers (50 pages of 2,000 records, that
    constraint included): Oxigraph's plans for the joins grow faster than the store, so the copy stays.
    """

    def __init__(self, store, records, as_of: dt.date, chunk: int = CHUNK):
        self.store = store
        self.records = list(records)
        self.as_of = as_of
        self.chunk = chunk
        self.timings: dict[str, float] = {}

    def _time(self, label: str, t0: float) -> float:
        t = time.perf_counter()
        self.timings[label] = self.timings.get(label, 0.0) + t - t0
        return t

    def chunks(self) -> Iterable[tuple[ox.Store, list]]:
        t = time.perf_counter()
        calendar_graph.ensure_calendar(self.store)
        self._time("calendar", t)
        for i in range(0, len(self.records), self.chunk):
            records = self.records[i:i + self.chunk]
            yield self._scratch([r.graph.graph for r in records]), records

    def _scratch(self, graphs: list[ox.NamedNode]) -> ox.Store:
        t = time.perf_counter()
        as_of = ox.Literal(self.as_of.isoformat(), datatype=_XSD_DATE)
        run, as_of_p, checks = ox.NamedNode(str(RUN)), ox.NamedNode(rdf.PRTKG + "asOf"), ox.NamedNode(_CHECKS[1:-1])
        # A record's own triples: its stored graph but for the provenance, whose subject is the graph;
        # from its packed copy where it has one (prtkg/packed.py: one lookup a record).
        mem = packed.subset(self.store, graphs)
        mem.extend([q for g in graphs for q in (ox.Quad(g, checks, g, _INDEX), ox.Quad(run, as_of_p, as_of, g))])
        t = self._time("read records", t)
        # The day nodes of every date a record mentions (the as-of day among them), from the
        # calendar materialised in the store; days of years no calendar knows go in bare.
        # (one graph for the chunk: see _day_graph)
        dates = {_DAYS: [row["d"] for row in mem.query(f"""SELECT DISTINCT ?d WHERE {{ {_IN_CHUNK}
                GRAPH ?g {{ ?s ?q ?d FILTER(isLiteral(?d) && DATATYPE(?d) = <{rdf.XSD}date>) }} }}""")]}
        _add_period_ends(dates)
        days = self._days(dates[_DAYS])
        mem.extend([ox.Quad(s, p, o, _DAYS) for d in dates[_DAYS] for s, p, o in days.get(d, ())])
        t = self._time("day nodes", t)
        # The context of referenced nodes: what datagraph._context_quads pulls for one record, from
        # any graph but the record's own.
        refs: dict[ox.NamedNode, list[ox.NamedNode]] = {}
        for row in mem.query(f"""SELECT DISTINCT ?g ?r WHERE {{ {_IN_CHUNK}
                GRAPH ?g {{ ?s ?q ?r FILTER(isIRI(?r)) FILTER NOT EXISTS {{ ?r ?a ?b }} }} }}"""):
            refs.setdefault(row["g"], []).append(row["r"])
        about: dict[ox.NamedNode, list[ox.Quad]] = {}
        for q in self.store.subject_quads(sorted({r for rs in refs.values() for r in rs}, key=str), _CONTEXT_PREDICATES):
            about.setdefault(q.subject, []).append(q)
        mem.extend([ox.Quad(q.subject, q.predicate, q.object, g) for g, rs in refs.items() for r in rs
                    for q in about.get(r, ()) if q.graph_name != g])
        self._time("context", t)
        return mem

    def _days(self, dates: Iterable[ox.Literal]) -> dict[ox.Literal, list[tuple]]:
        """date literal -> the triples of its day node (none for an ill-typed date, on either path)."""
        known = default_calendar().known_years()
        bare, wanted = [], []
        for lit in dates:
            try:
                d = dt.date.fromisoformat(lit.value)
            except ValueError:
                continue
            (wanted if d.year in known else bare).append(lit)
        quads = calendar_graph.quads([calendar_graph.Day(dt.date.fromisoformat(x.value)) for x in bare])
        if wanted:
            rows = self.store.raw_query(f"""SELECT ?day ?p ?o WHERE {{ VALUES ?d {{ {" ".join(str(x) for x in wanted)} }}
                GRAPH <{calendar_graph.CALENDAR_GRAPH}> {{ ?day <{rdf.PRTKG}date> ?d ; ?p ?o }} }}""")
            quads += [ox.Quad(row["day"], row["p"], row["o"]) for row in rows]
        # A day node is found by its prtkg:date literal, as the SPARQL join on ?d did: a date
        # written otherwise ("20260105") gets no day node.
        by_node: dict = {}
        for q in quads:
            by_node.setdefault(q.subject, []).append((q.subject, q.predicate, q.object))
        return {q.object: by_node[q.subject] for q in quads if q.predicate.value == rdf.PRTKG + "date"}

    def rows(self, mem: ox.Store, label: str, text: str) -> list[tuple[str, str, Any, dict]]:
        """A compiled query's rows: (record graph, focus, ?value, every projected term or None)."""
        t0 = time.perf_counter()
        # With no rdfs:subClassOf triple anywhere in the scratch store (the calendar and the context
        # bring none; only a record's own triples could), rdf:type/rdfs:subClassOf* C matches exactly
        # the nodes rdf:type C does, and Oxigraph evaluates the path as a closure per typed node
        # first: 10^4 projects, a page of 2,000 records, every query together 1.47 s -> 1.19 s CPU;
        # over a whole store of 10^4 a property shape's query 0.32 s -> 0.11 s.
        if next(mem.quads_for_pattern(None, _SUBCLASS_OF, None, None), None) is None:
            text = text.replace(_INSTANCE_OF, f"<{RDF.type}>")
        rows = mem.query(rdf.sparql_prefixes() + text.replace("$index", f"<{_INDEX.value}>"))
        variables = [v.value for v in rows.variables]
        out = [(row["g"].value, row["this"].value, row["value"] if "value" in variables else None,
                {v: row[v] for v in variables}) for row in rows]
        self._time(label, t0)
        return out

    def results(self, mem: ox.Store, query: Query) -> Iterable[tuple[Any, Result]]:
        return [(graph, _result(query, this, value, terms)) for graph, this, value, terms in self.rows(mem, query.label, query.text)]


def _result(query: Query, focus: str, value: Any, terms: dict) -> Result:
    meta = shapes()[1].get(query.source)
    # Evidence is read from the row's terms, as on the per-record path, never re-parsed text.
    evidence = evidence_from_bindings(meta, terms) if meta is not None and meta.select else {}
    return Result(query.source, query.shape, focus, value.value if isinstance(value, ox.NamedNode) else None, evidence)


# -- both cores: pages of records in worker processes over one checkpoint -----------------------

WORKERS = min(2, os.cpu_count() or 1)     # the two cores of issue #18's machine
# Measured on the 2-core machine under other load (bulk validate, wall time): 10^4 demo projects
# (10,161 records) 211 s in one process, 163 s in two; 10^3 (1,160 records) 23 s in one, 23-26 s
# in two (a worker's start -- imports, compiling the shapes -- and two scratch stores for one
# chunk's worth of records eat the gain). So workers only from two chunks' worth of records.
PARALLEL_MIN = 2 * CHUNK


_worker_store: dict = {}
# The workers' own CPU seconds, among the timings: with other jobs on the machine a page's wall time
# says little, and a parent cannot read the CPU of a forkserver's children.
WORKER_CPU = "worker CPU"


def _validate_page(source, graphs: list[str], as_of: dt.date, queries: list[tuple[str, str]]) -> tuple[dict, dict]:
    """In a worker: one page of records against the parent's snapshot (_snapshot: a checkpoint's
    path, or the server's store), running the parent's compiled queries (label, text) as given -- so
    parameters, and the blank nodes that name SPARQL constraints, are the parent's. Rows come back
    as (query index, focus, ?value, terms)."""
    cpu = time.process_time()
    key = source if isinstance(source, str) else source.endpoint
    store = _worker_store.get(key)
    if store is None:
        from prtkg.store import Store
        _worker_store.clear()
        store = _worker_store[key] = Store(source, read_only=True) if isinstance(source, str) else source
    run = Run(store, (), as_of)
    mem = run._scratch([ox.NamedNode(g) for g in graphs])
    out: dict[str, list[tuple]] = {g: [] for g in graphs}
    for i, (label, text) in enumerate(queries):
        for graph, this, value, terms in run.rows(mem, label, text):
            out[graph].append((i, this, value, terms))
    run.timings[WORKER_CPU] = time.process_time() - cpu
    return out, run.timings


@contextmanager
def _snapshot(store):
    """What the workers read: a checkpoint of an embedded store (a consistent snapshot, hard links:
    milliseconds), removed afterwards; or the same SPARQL server, which each worker asks as the
    parent would (its pages are what cross HTTP, so the server's cores work for both workers)."""
    if is_remote(store):
        yield store
        return
    tmp = Path(tempfile.mkdtemp(prefix=".bulk-check-", dir=store.path.parent))
    try:
        checkpoint = tmp / "store"
        store.checkpoint(checkpoint)
        yield str(checkpoint)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _pages(records: list, workers: int) -> list[list]:
    """At most CHUNK records a page (a worker's scratch store), at least one page per worker."""
    size = max(1, min(CHUNK, -(-len(records) // workers)))
    return [records[i:i + size] for i in range(0, len(records), size)]


def _validate_parallel(ctx, workers: int) -> tuple[list[tuple[Any, list[Result]]], dict[str, float]]:
    """The pages of ctx.records in `workers` processes over one snapshot of the store (_snapshot).
    The workers are started by a forkserver: a child forked from a process holding RocksDB open can
    inherit one of its mutexes held (api/query_worker.py)."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    calendar_graph.ensure_calendar(ctx.store)
    queries = compiled()
    by_graph: dict[str, list[Result]] = {}
    with _snapshot(ctx.store) as source:
        timings["calendar and checkpoint"] = time.perf_counter() - t
        pages = _pages(list(ctx.records), workers)
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("forkserver")) as pool:
            texts = [(q.label, q.text) for q in queries]
            futures = [pool.submit(_validate_page, source, [r.graph.graph.value for r in page], ctx.as_of, texts)
                       for page in pages]
            for future in futures:
                rows, times = future.result()
                for label, seconds in times.items():
                    timings[label] = timings.get(label, 0.0) + seconds
                for graph, results in rows.items():
                    by_graph[graph] = [_result(queries[i], focus, value, terms) for i, focus, value, terms in results]
    return [(r, by_graph[r.graph.graph.value]) for r in ctx.records], timings


def validate(ctx, workers: int | None = None) -> tuple[list[tuple[Any, list[Result]]], dict[str, float]]:
    """Every record under check with its results, in ctx.records order, and where the time went."""
    from prtkg.store import Store
    workers = WORKERS if workers is None else workers
    # An embedded store in memory has no checkpoint for the workers to open: one process.
    if (workers > 1 and len(ctx.records) >= PARALLEL_MIN
            and (is_remote(ctx.store) or (type(ctx.store) is Store and ctx.store.path is not None))):
        return _validate_parallel(ctx, workers)
    run = Run(ctx.store, ctx.records, ctx.as_of)
    out = []
    for mem, records in run.chunks():
        by_graph: dict[str, list[Result]] = {r.graph.graph.value: [] for r in records}
        for query in compiled():
            for graph, result in run.results(mem, query):
                by_graph[graph].append(result)
        out += [(r, by_graph[r.graph.graph.value]) for r in records]
    return out, run.timings


def check(ctx) -> list:
    """All shape findings for the records under check, from the compiled queries."""
    by_record, _ = validate(ctx)
    out = []
    for record, results in by_record:
        out.extend(findings_from_results(ctx, record, results))
    return out
