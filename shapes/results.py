"""One validation result, whichever engine found it (pySHACL per record, or the compiled bulk
path), and the mapping of a record's results to findings: the same for both, so both paths give the
same findings.

The zh/en messages of the catalogue are not copied onto the shapes: a result's evidence is the row
of its SPARQL constraint, read as RDF terms (`evidence_from_bindings`), never text pasted into a
message and parsed back -- a quote, backslash or brace in a record must not lose its findings.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable

from prtkg import findings as F
from prtkg.applicability import gates
from prtkg.catalogue import rule as catalogue_rule

from .datagraph import ShapeInfo, shapes

# The lexical forms read as JSON numbers (xsd:integer, xsd:decimal, xsd:double without INF/NaN).
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


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


@dataclass(frozen=True)
class Result:
    """One validation result, whichever engine found it."""
    source: Any                 # the SPARQL constraint, or the shape, that produced it (a key of shapes()[1])
    shape: Any
    focus: str
    value: str | None           # the value node, when it is an IRI
    evidence: dict


def _order(result: Result) -> tuple:
    return (result.focus, result.value or "", json.dumps(result.evidence, sort_keys=True, default=str))


def findings_from_results(ctx, record, results: Iterable[Result]) -> list:
    """Turn one record's results into findings (and DATA-INSUFFICIENT entries on ctx.insufficient).

    Results are taken in a fixed order: the first DATA-INSUFFICIENT entry of a record names its
    focus, and neither engine reports in a stable order."""
    _, info = shapes()
    gated = gates()
    # The gate's decisions before any entry is added here: a DATA-INSUFFICIENT entry's focus is the
    # first one added for its record, the gate's (made or received from the rules worker) as ever.
    ctx.applicability()
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
