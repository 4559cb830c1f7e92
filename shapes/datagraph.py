"""What both shape engines read (issue #19.3): the shapes graph, with parameters filled in and per
shape or SPARQL constraint its meaning as a finding; and the data graph of one record.

The shapes (shapes/*.ttl) carry, per shape, `prtkg:ruleId` and the record kind they read; every
number in them is a `{{param}}` placeholder filled at load time from the rule's parameters in
rules/catalogue.yaml ("parameters injected at load time", README "Shapes").

Each record is validated against a small data graph: its own named graph, the context it
references (code-list concepts, the trade type of a project an event is about), the calendar days
it mentions (day number, working-day ordinal) and the as-of day -- never the whole store, so the
cost of one record does not grow with the store. The per-record validator (validate.py) builds it
here; the compiled bulk path (bulk.py) reads the same context for many records at once.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDFS, SH

from prtkg import codes
from prtkg import rdf
from prtkg.catalogue import rule as catalogue_rule

from . import calendar_graph

P = Namespace(rdf.PRTKG)
RUN = URIRef("urn:prtkg:run")           # reserved prefix: no loaded record can write it
_PLACEHOLDER = re.compile(r"\{\{\s*(?:([A-Z0-9-]+)\.)?([a-z_]+)\s*\}\}")
_SELECT_VARS = re.compile(r"SELECT\s+(?:DISTINCT\s+)?(.*?)\s+WHERE", re.S | re.I)
# Context pulled from outside the record's graph: what its shapes read about referenced nodes.
_CONTEXT_PREDICATES = (rdf.RDF + "type", rdf.PRTKG + "tradeType", rdf.SKOS + "inScheme",
                       rdf.SKOS + "notation")
EXTRA_PREFIXES = {"tt": rdf.CODE + "trade-type/", "sh": str(SH)}
_XSD_DATE = ox.NamedNode(rdf.XSD + "date")
_RUN_OX = ox.NamedNode(str(RUN))
_AS_OF_OX = ox.NamedNode(rdf.PRTKG + "asOf")


@dataclass(frozen=True)
class ShapeInfo:
    """What a shape (or one of its SPARQL constraints) means as a finding."""
    rule: str                       # the rule it implements, or the rule it blocks for lack of data
    kind: str                       # record kind of its targets
    insufficient: tuple[str, ...] = ()   # non-empty: a result is DATA-INSUFFICIENT for these rules
    field_name: str = ""            # the record field such a result names
    evidence: tuple[str, ...] = ()
    numbers: frozenset = frozenset()
    problems: dict = field(default_factory=dict)   # problem code -> {"zh": .., "en": ..}
    working_days: bool = False
    select: str = ""                # a SPARQL constraint's query (prefixes included)
    shape: str = ""                 # the IRI of the shape it belongs to (a finding's sh:sourceShape), if named


def _param_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(json.dumps(v, ensure_ascii=False) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def fill_params(text: str, rule_id: str) -> str:
    """Replace `{{name}}` (this rule's parameter) or `{{RULE-ID.name}}` with the catalogue's value."""
    def sub(m: re.Match) -> str:
        rid, name = m.group(1) or rule_id, m.group(2)
        entry = catalogue_rule(rid)
        if name not in entry.params:
            raise ValueError(f"shapes: {rule_id}: {{{{{m.group(0)}}}}} names no parameter of {rid} in rules/catalogue.yaml")
        return _param_text(entry.param(name))
    return _PLACEHOLDER.sub(sub, text)


def _prefixes(text: str) -> str:
    """The PREFIX lines `text` uses: pySHACL runs a constraint once per focus node, and parsing
    a dozen unused declarations each time was ~20% of a small query's cost."""
    names = {**rdf.PREFIXES, **EXTRA_PREFIXES}
    return "".join(f"PREFIX {k}: <{v}>\n" for k, v in names.items() if re.search(rf"(?<![\w.-]){k}:", text))


def shape_files() -> list[str]:
    folder = resources.files("prtkg.shapes")
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".ttl"))


@lru_cache(maxsize=1)
def shapes() -> tuple[Graph, dict]:
    """The shapes graph, with parameters and messages filled in, and per shape/constraint its meaning."""
    g = Graph()
    folder = resources.files("prtkg.shapes")
    for name in shape_files():
        g.parse(data=folder.joinpath(name).read_text(encoding="utf-8"), format="turtle")
    info: dict = {}
    for shape in set(g.subjects(P.ruleId, None)) | set(g.subjects(P.insufficientFor, None)):
        rule_id = str(g.value(shape, P.ruleId) or "")
        blocked = tuple(sorted(str(r) for r in g.objects(shape, P.insufficientFor)))
        kind = str(g.value(shape, P.recordKind) or "")
        problems = {}
        for node in g.objects(shape, P.problem):
            code = str(g.value(node, P.code))
            problems[code] = {lbl.language: str(lbl) for lbl in g.objects(node, RDFS.label)}
        base = dict(rule=rule_id or blocked[0], kind=kind, insufficient=blocked,
                    field_name=str(g.value(shape, P.field) or ""), problems=problems,
                    working_days=bool(g.value(shape, P.workingDays)),
                    shape=str(shape) if isinstance(shape, URIRef) else "")
        info[shape] = ShapeInfo(**base)
        for constraint in list(g.objects(shape, SH.sparql)):
            select = str(g.value(constraint, SH.select))
            select = codes.fill(select)
            select = fill_params(select, rule_id) if rule_id else select
            projected = _SELECT_VARS.search(select)
            names = tuple(v for v in re.findall(r"[?$](\w+)", projected.group(1) if projected else "")
                          if v not in ("this", "value", "path"))
            numbers = frozenset(str(g.value(constraint, P.numbers) or "").split())
            select = _prefixes(select) + select
            g.set((constraint, SH.select, Literal(select)))
            info[constraint] = ShapeInfo(**{**base, "evidence": names, "numbers": numbers, "select": select})
    return g, info

# -- the data graph of one record ------------------------------------------------------------

def _context_quads(store, record, as_of: dt.date) -> tuple[list[ox.Quad], set[int]]:
    """The record's own graph plus only the context its shapes read, as Oxigraph triples (terms as
    the store keeps them, which is what the bulk path reads too); and years no calendar knows."""
    # The record as stored (without its provenance), so a record checked from the store and one
    # just loaded are validated alike.
    graph_node = record.graph.graph
    own = [ox.Quad(q.subject, q.predicate, q.object) for q in store.graph_quads(graph_node.value)
           if q.subject != graph_node]
    subjects = {q.subject for q in own}
    refs = {q.object for q in own if isinstance(q.object, ox.NamedNode) and q.object not in subjects}
    out = list(own)
    if refs:
        context = {ox.Triple(q.subject, q.predicate, q.object)
                   for q in store.subject_quads(sorted(refs, key=str), _CONTEXT_PREDICATES) if q.graph_name != graph_node}
        out += [ox.Quad(t.subject, t.predicate, t.object) for t in context]
    days = {as_of}
    for q in own:
        o = q.object
        if isinstance(o, ox.Literal) and o.datatype == _XSD_DATE:
            try:
                days.add(dt.date.fromisoformat(o.value))
            except ValueError:
                pass        # an ill-typed date has no day node on either path
    found = [calendar_graph.day(d) for d in sorted(calendar_graph.with_period_ends(days))]
    out += [ox.Quad(q.subject, q.predicate, q.object) for q in calendar_graph.quads(found)]
    out.append(ox.Quad(_RUN_OX, _AS_OF_OX, ox.Literal(as_of.isoformat(), datatype=_XSD_DATE)))
    return out, {x.date.year for x in found if x.ordinal is None}


def _ox_data_graph(store, record, as_of: dt.date) -> tuple[ox.Store, set[int]]:
    """The same data graph in an in-memory Oxigraph store: pySHACL (>= 0.30) validates it natively
    and evaluates the SPARQL constraints with Oxigraph, ~20x faster than rdflib's SPARQL engine."""
    quads, unknown = _context_quads(store, record, as_of)
    mem = ox.Store()
    mem.extend(quads)
    return mem, unknown
