"""The one place a finding is made: from its catalogue entry plus focus and evidence."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from pyoxigraph import Literal, NamedNode, Quad

from . import rdf
from .catalogue import rule as catalogue_rule
from .records import Rejection


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    return value


class _Fields(dict):
    # A message field the evidence lacks is a bug in the rule, but a finding must still be readable.
    def __missing__(self, key: str) -> str:
        return "?"


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "、".join(_text(v) for v in value)
    return str(value)


@dataclass(frozen=True, eq=False)
class Finding:
    rule: str
    severity: str
    record: str
    focus: str
    message: dict[str, str]
    basis: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"id": self.id, "rule": self.rule, "severity": self.severity, "record": self.record,
                "focus": self.focus, "message": dict(self.message), "basis": self.basis,
                "evidence": self.evidence}

    @property
    def key(self) -> str:
        raw = json.dumps([self.rule, self.record, self.focus, self.evidence], sort_keys=True,
                         ensure_ascii=False)
        return hashlib.sha1(raw.encode()).hexdigest()

    @property
    def id(self) -> str:
        """The stable identity: same rule, record, focus and evidence key -> same id, on any day."""
        return finding_id(self.rule, self.record, self.focus, self.evidence)


def evidence_key(rule_id: str, evidence: dict) -> dict:
    """The part of the evidence that tells one finding of a rule from another on the same focus:
    the entries the catalogue names (`identity`), else all but those that grow with "today"."""
    from .casework import volatile_evidence

    named = catalogue_rule(rule_id).identity if rule_id in _rules() else ()
    if named:
        return {k: evidence.get(k) for k in named}
    volatile = volatile_evidence()
    return {k: v for k, v in evidence.items() if k not in volatile}


def _rules() -> dict:
    from .catalogue import catalogue
    return catalogue()


def finding_id(rule: str, record: str, focus: str, evidence: dict) -> str:
    raw = json.dumps([rule, record, focus, evidence_key(rule, evidence)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def make(rule_id: str, record: str, focus: str | NamedNode | None, evidence: dict | None = None,
         *, severity: str | None = None, **message_fields: Any) -> Finding:
    """Build a finding of catalogue rule `rule_id` about `record` at node `focus`.

    `severity` lowers the catalogue's for one reading of the law a policy parameter opts into
    (e.g. a contested extension of a minimum period is a warning, not a violation).

    The message is the catalogue's, filled from the rule's parameters, the evidence and any extra
    message fields (e.g. a department's name for display).
    """
    entry = catalogue_rule(rule_id)
    evidence = _jsonable(evidence or {})
    fields = _Fields({k: _text(v) for k, v in entry.param_values().items()})
    fields.update({k: _text(v) for k, v in evidence.items()})
    fields.update({k: _text(v) for k, v in message_fields.items()})
    fields.setdefault("record", record)
    message = {lang: template.format_map(fields) for lang, template in entry.message.items()}
    if isinstance(focus, NamedNode):
        focus = focus.value
    if severity is not None and severity not in SEVERITY_ORDER:
        raise ValueError(f"{rule_id}: unknown severity {severity!r}")
    return Finding(rule_id, severity or entry.severity, record, focus or "", message, entry.basis, evidence)


class Insufficiency:
    """Collects, per record, the rules that could not run and the fields they lacked.

    Reported once per record as one DATA-INSUFFICIENT finding (design.md), never guessed around.
    """

    def __init__(self) -> None:
        self._by_record: dict[str, tuple[str, dict[str, set[str]]]] = {}

    def add(self, record: str, focus: str | NamedNode, rule_id: str, fields: Iterable[str]) -> None:
        if isinstance(focus, NamedNode):
            focus = focus.value
        focus0, rules = self._by_record.setdefault(record, (focus, {}))
        rules.setdefault(rule_id, set()).update(fields)

    def findings(self) -> list[Finding]:
        out = []
        for record, (focus, rules) in sorted(self._by_record.items()):
            fields = sorted({f for fs in rules.values() for f in fs})
            evidence = {"rules": sorted(rules), "fields": fields,
                        "byRule": {r: sorted(fs) for r, fs in sorted(rules.items())}}
            out.append(make("DATA-INSUFFICIENT", record, focus, evidence))
        return out


SEVERITY_ORDER = {"violation": 0, "warning": 1, "info": 2}


def sort_key(f: Finding) -> tuple:
    return (SEVERITY_ORDER[f.severity], f.rule, f.record, f.focus, json.dumps(f.evidence, sort_keys=True))


def report(records: int, findings: list[Finding], rejected: list[Rejection]) -> dict:
    """The findings document of design.md."""
    findings = sorted(dedupe(findings), key=sort_key)
    return {
        "summary": {
            "records": records,
            "rejected": len(rejected),
            "violations": sum(f.severity == "violation" for f in findings),
            "warnings": sum(f.severity == "warning" for f in findings),
            "info": sum(f.severity == "info" for f in findings),
        },
        "findings": [f.as_dict() for f in findings],
        "rejected": [r.as_dict() for r in rejected],
    }


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    # One finding per id: the id is what staff act on, so two findings with one id would be one case.
    seen: dict[str, Finding] = {}
    for f in findings:
        seen.setdefault(f.id, f)
    return list(seen.values())


def to_quads(findings: Iterable[Finding], as_of: dt.date, at: dt.datetime) -> Iterable[Quad]:
    g = NamedNode(rdf.FINDINGS_GRAPH)
    json_dt = NamedNode(rdf.RDF + "JSON")
    for f in findings:
        node = rdf.iri("finding", f.id)
        yield Quad(node, rdf.RDF_TYPE, rdf.p("Finding"), g)
        yield Quad(node, rdf.p("findingId"), Literal(f.id), g)
        yield Quad(node, rdf.p("rule"), Literal(f.rule), g)
        yield Quad(node, rdf.p("severity"), Literal(f.severity), g)
        yield Quad(node, rdf.p("record"), Literal(f.record), g)
        if f.focus:
            yield Quad(node, rdf.p("focus"), NamedNode(f.focus), g)
        for lang, text in f.message.items():
            yield Quad(node, rdf.p("message"), Literal(text, language=lang), g)
        yield Quad(node, rdf.p("basis"), Literal(f.basis), g)
        yield Quad(node, rdf.p("evidence"),
                   Literal(json.dumps(f.evidence, ensure_ascii=False, sort_keys=True), datatype=json_dt), g)
        yield Quad(node, rdf.p("asOf"), rdf.literal(as_of), g)
        yield Quad(node, NamedNode(rdf.PROV + "generatedAtTime"), rdf.literal(at), g)
