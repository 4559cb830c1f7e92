"""Per-record SHACL validation with pySHACL, on the record's own data graph (datagraph.py), its
report read as results and findings (results.py).

No SPARQL constraint carries an sh:message: pySHACL fills messages with `re.sub`, which raises on a
backslash in any bound value. The zh/en messages are the catalogue's, filled from the evidence.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable

import pyoxigraph as ox
from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from prtkg import rdf

from .datagraph import P, ShapeInfo, _ox_data_graph, shapes
from .results import Result, evidence_from_bindings, findings_from_results, make_finding

_THIS = ox.Variable("this")


# -- validation and the report -> findings mapping -------------------------------------------

@dataclass
class Outcome:
    record: Any
    report: Graph
    seconds: float
    data: ox.Store | None = None    # the data graph validated, where results' evidence is read


_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)


def _kinds(g: Graph, shape, seen: set) -> set[str]:
    """The record kinds a shape and the shapes it is made of declare."""
    if shape in seen:
        return set()
    seen.add(shape)
    out = {str(k) for k in g.objects(shape, P.recordKind)}
    for pred in (SH.property, SH.node):
        for sub in g.objects(shape, pred):
            out |= _kinds(g, sub, seen)
    return out


@lru_cache(maxsize=None)
def kind_shapes(kind: str) -> Graph:
    """The shapes graph without the targets of shapes meant for other record kinds: a shape only
    reports on records of its prtkg:recordKind ("*": every kind), so pySHACL need not evaluate the
    rest. A targeted shape that declares no kind is kept."""
    sg, _ = shapes()
    g = Graph()
    for prefix, ns in sg.namespaces():
        g.bind(prefix, ns)
    drop = set()
    for pred in _TARGETS:
        for shape in set(sg.subjects(pred, None)):
            kinds = _kinds(sg, shape, set())
            if kinds and kind not in kinds and "*" not in kinds:
                drop.add(shape)
    for s, p, o in sg:
        if not (s in drop and p in _TARGETS):
            g.add((s, p, o))
    return g


def _memoise_sparql_checks() -> None:
    """pySHACL re-checks a SPARQL constraint's text (no MINUS, VALUES, SERVICE, ...) with regular
    expressions for every focus node, and on our long queries those expressions backtrack: half of
    a record's validation time went there. The check depends only on the text, so remember it."""
    from pyshacl.helper.sparql_query_helper import SPARQLQueryHelper

    original = SPARQLQueryHelper.check_invalid_sparql
    if getattr(original, "_prtkg_memo", False):
        return
    passed: set = set()

    def check_invalid_sparql(self, sparql_text, valuenode=None, extravars=None):
        key = (type(self), sparql_text, valuenode is not None, frozenset(extravars or ()))
        if key not in passed:
            original(self, sparql_text, valuenode=valuenode, extravars=extravars)  # raises if invalid
            passed.add(key)
        return True
    check_invalid_sparql._prtkg_memo = True
    SPARQLQueryHelper.check_invalid_sparql = check_invalid_sparql


_memoise_sparql_checks()


def validate_record(store, record, as_of: dt.date) -> tuple[Outcome, set[int]]:
    sg = kind_shapes(record.kind)
    data, unknown = _ox_data_graph(store, record, as_of)
    t0 = time.perf_counter()
    # No SHACL-AF feature (rules, custom targets, functions) is used by shapes/*.ttl: advanced off.
    _, report, _ = shacl_validate(data, shacl_graph=sg, advanced=False, inference="none", inplace=True,
                                  allow_warnings=True, abort_on_first=False)
    if not isinstance(report, Graph):   # pySHACL refused the shapes: a bug in shapes/*.ttl
        raise RuntimeError(f"SHACL validation of {record.id} failed: {report}")
    return Outcome(record, report, time.perf_counter() - t0, data), unknown

def _focus_term(node) -> ox.NamedNode | ox.BlankNode:
    return ox.NamedNode(str(node)) if isinstance(node, URIRef) else ox.BlankNode(str(node))


def constraint_rows(data: ox.Store, meta: ShapeInfo, focus) -> Iterable[tuple[Any, Any]]:
    """(row, its ?value or None) of a SPARQL constraint for one focus node, $this pre-bound as
    pySHACL binds it."""
    rows = data.query(meta.select, substitutions={_THIS: _focus_term(focus)})
    has_value = any(v.value == "value" for v in rows.variables)
    return [(row, row["value"] if has_value else None) for row in rows]


def _results(report: Graph, data: ox.Store) -> Iterable[Result]:
    """The report's results; those of a SPARQL constraint as the rows of its query, which the
    report only names (pySHACL keeps no bindings but ?value), so evidence stays RDF terms."""
    info = shapes()[1]
    done: set = set()
    for r in report.subjects(RDF.type, SH.ValidationResult):
        source = report.value(r, SH.sourceConstraint) or report.value(r, SH.sourceShape)
        shape, focus = report.value(r, SH.sourceShape), report.value(r, SH.focusNode)
        meta = info.get(source)
        if meta is None or not meta.select:
            value = report.value(r, SH.value)
            yield Result(source, shape, str(focus), str(value) if isinstance(value, URIRef) else None, {})
            continue
        if (source, focus) in done:
            continue
        done.add((source, focus))
        for row, value in constraint_rows(data, meta, focus):
            yield Result(source, shape, str(focus), value.value if isinstance(value, ox.NamedNode) else None,
                         evidence_from_bindings(meta, row))


def findings_of(ctx, outcome: Outcome) -> list:
    """Turn one record's pySHACL report into findings."""
    return findings_from_results(ctx, outcome.record, _results(outcome.report, outcome.data))


def check_per_record(ctx) -> list:
    """One pySHACL run per record, on the record's own small data graph."""
    out = []
    for record in ctx.records:
        outcome, _ = validate_record(ctx.store, record, ctx.as_of)
        out.extend(findings_of(ctx, outcome))
    return out


def report_graph(ctx) -> Graph:
    """The raw SHACL validation reports of every record, merged (for `prtkg check --format shacl`)."""
    merged = Graph()
    for prefix, ns in {**rdf.PREFIXES, "sh": str(SH)}.items():
        merged.bind(prefix, ns)
    for record in ctx.records:
        outcome, _ = validate_record(ctx.store, record, ctx.as_of)
        for t in outcome.report:
            merged.add(t)
        _add_messages(merged, outcome)
    return merged


def _add_messages(report: Graph, outcome: Outcome) -> None:
    """The catalogue's zh/en message of each SPARQL constraint's result, filled from its evidence
    as a finding's is (text in, never a template the value could act in)."""
    info = shapes()[1]
    by_key: dict = {}
    for r in outcome.report.subjects(RDF.type, SH.ValidationResult):
        source, focus = report.value(r, SH.sourceConstraint), report.value(r, SH.focusNode)
        meta = info.get(source)
        if meta is not None and meta.select and not meta.insufficient:
            by_key.setdefault((source, focus), []).append(r)
    for (source, focus), nodes in by_key.items():
        meta = info[source]
        rows = constraint_rows(outcome.data, meta, focus)
        # pySHACL keeps one result per distinct row: pair them in a stable order.
        nodes.sort(key=lambda n: str(report.value(n, SH.value)))
        rows.sort(key=lambda rv: str(rv[1] or ""))
        for node, (row, _) in zip(nodes, rows):
            evidence = evidence_from_bindings(meta, row)
            if evidence.get("calendarUnknown"):
                continue
            finding = make_finding(meta, outcome.record.id, str(focus), evidence)
            for lang, text in finding.message.items():
                report.add((node, SH.resultMessage, Literal(text, lang=lang)))


def report_turtle(result, as_of: dt.date | None = None) -> str:
    """The SHACL report of a finished `prtkg.app.checking.check` run, as Turtle."""
    from prtkg.clock import today
    from prtkg.context import Context
    records = result.reference.records + result.loaded.records
    return report_graph(Context(result.store, records, as_of or today())).serialize(format="turtle")
