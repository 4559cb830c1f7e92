"""Per-record SHACL validation with pySHACL, and the mapping of its report to findings.

The shapes (shapes/*.ttl) carry, per shape, `prtkg:ruleId` and the record kind they read; every
number in them is a `{{param}}` placeholder filled at load time from the rule's parameters in
rules/catalogue.yaml ("parameters injected at load time", README "Shapes"). The zh/en messages of
the catalogue are not copied onto the shapes: a result's evidence is the row of its SPARQL
constraint, read as RDF terms (`evidence_from_bindings`), never text pasted into a message and
parsed back -- a quote, backslash or brace in a record must not lose its findings. For the same
reason no SPARQL constraint carries an sh:message: pySHACL fills messages with `re.sub`, which
raises on a backslash in any bound value.

Each record is validated against a small data graph: its own named graph, the context it
references (code-list concepts, the trade type of a project an event is about), the calendar days
it mentions (day number, working-day ordinal) and the as-of day -- never the whole store, so the
cost of one record does not grow with the store.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

import pyoxigraph as ox
from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, SH

from prtkg import codes
from prtkg import findings as F
from prtkg import rdf
from prtkg.applicability import gates
from prtkg.catalogue import rule as catalogue_rule

from . import calendar_graph

P = Namespace(rdf.PRTKG)
RUN = URIRef("urn:prtkg:run")           # reserved prefix: no loaded record can write it
_PLACEHOLDER = re.compile(r"\{\{\s*(?:([A-Z0-9-]+)\.)?([a-z_]+)\s*\}\}")
_SELECT_VARS = re.compile(r"SELECT\s+(?:DISTINCT\s+)?(.*?)\s+WHERE", re.S | re.I)
# The lexical forms read as JSON numbers (xsd:integer, xsd:decimal, xsd:double without INF/NaN).
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_THIS = ox.Variable("this")
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


def _number(text: str) -> int | float | str:
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return float(text)
    return text     # not a number after all: kept as written rather than dropped


def evidence_from_bindings(meta: ShapeInfo, row: Any) -> dict:
    """A SPARQL constraint's evidence from one result row (a pyoxigraph solution or a dict of
    terms): each selected variable's value (lexical form or IRI), numbers as numbers; unbound and
    empty values left out. The same on both paths, whatever characters the values hold."""
    out = {}
    for name in meta.evidence:
        term = row[name]
        if term is None or term.value == "":
            continue
        out[name] = _number(term.value) if name in meta.numbers else term.value
    return out


def _focus_term(node) -> ox.NamedNode | ox.BlankNode:
    return ox.NamedNode(str(node)) if isinstance(node, URIRef) else ox.BlankNode(str(node))


def constraint_rows(data: ox.Store, meta: ShapeInfo, focus) -> Iterable[tuple[Any, Any]]:
    """(row, its ?value or None) of a SPARQL constraint for one focus node, $this pre-bound as
    pySHACL binds it."""
    rows = data.query(meta.select, substitutions={_THIS: _focus_term(focus)})
    has_value = any(v.value == "value" for v in rows.variables)
    return [(row, row["value"] if has_value else None) for row in rows]


@dataclass(frozen=True)
class Result:
    """One validation result, whichever engine found it."""
    source: Any                 # the SPARQL constraint, or the shape, that produced it (a key of shapes()[1])
    shape: Any
    focus: str
    value: str | None           # the value node, when it is an IRI
    evidence: dict


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


def _order(result: Result) -> tuple:
    return (result.focus, result.value or "", json.dumps(result.evidence, sort_keys=True, default=str))


def findings_from_results(ctx, record, results: Iterable[Result]) -> list:
    """Turn one record's results into findings (and DATA-INSUFFICIENT entries on ctx.insufficient).

    Results are taken in a fixed order: the first DATA-INSUFFICIENT entry of a record names its
    focus, and neither engine reports in a stable order."""
    _, info = shapes()
    gated = gates()
    applies = lambda rule: rule not in gated or record.id in ctx.applicable(rule)  # noqa: E731
    blocked: set[str] = set()
    raw = []
    for result in sorted(results, key=_order):
        meta = info.get(result.source) or info.get(result.shape)
        if meta is None:
            continue
        if meta.insufficient:
            for rule in meta.insufficient:
                if applies(rule):
                    ctx.insufficient.add(record.id, result.focus, rule, [meta.field_name])
                    blocked.add(rule)
            continue
        evidence = dict(result.evidence)
        year = evidence.pop("calendarUnknown", None)
        if year:
            if applies(meta.rule):
                ctx.insufficient.add(record.id, result.focus, meta.rule, [f"working-day calendar {year}"])
            continue
        raw.append((meta, result.value or result.focus, evidence))
    out = []
    for meta, focus, evidence in raw:
        if meta.rule in blocked or not applies(meta.rule):
            continue
        if meta.rule in gated:
            evidence = {**evidence, **ctx.assumed(meta.rule, record.id)}
        out.append(make_finding(meta, record.id, focus, evidence))
    return out


def findings_of(ctx, outcome: Outcome) -> list:
    """Turn one record's pySHACL report into findings."""
    return findings_from_results(ctx, outcome.record, _results(outcome.report, outcome.data))


def make_finding(meta: ShapeInfo, record_id: str, focus: str, evidence: dict):
    fields = {}
    # A constraint may select ?severity for a reading a policy parameter opts into (shapes/works.ttl).
    evidence = dict(evidence)
    severity = evidence.pop("severity", None)
    problem = evidence.get("problem")
    if problem in meta.problems:
        labels = meta.problems[problem]
        # A problem's wording may quote the rule's parameters as well as the evidence.
        values = _Blank({**catalogue_rule(meta.rule).param_values(), **evidence})
        # Filled like a catalogue message: {field:SCHEME} is a code shown by its label, {field:org} a name.
        fields["problem"] = F.render(labels.get("en", problem), "en", values)
        fields["problem_zh"] = F.render(labels.get("zh", problem), "zh", values)
    return F.make(meta.rule, record_id, focus, evidence, severity=severity, shape=meta.shape, **fields)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


# Measured on demo records (fresh in-memory store, shapes already loaded): the compiled path costs
# ~0.33 s whatever the count up to 16 records (preparing the scratch graphs, ~30 queries), pySHACL
# ~40 ms per record (0.31 s for 8, 0.63 s for 16); the whole demo (478 records) takes ~4 s vs ~125 s.
BULK_MIN_RECORDS = 8


def check(ctx) -> list:
    """All shape findings for the records under check: per record for a few, in the store for many."""
    if len(ctx.records) >= BULK_MIN_RECORDS:
        from . import bulk
        return bulk.check(ctx)
    return check_per_record(ctx)


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
    """The SHACL report of a finished `prtkg.checking.check` run, as Turtle."""
    from prtkg.checking import Context, today
    records = result.reference.records + result.loaded.records
    return report_graph(Context(result.store, records, as_of or today())).serialize(format="turtle")
