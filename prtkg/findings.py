"""The one place a finding is made: from its catalogue entry plus focus and evidence."""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
import json
import string
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping

from pyoxigraph import Literal, NamedNode, Quad

from . import codes, rdf
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


class Text(dict):
    """A message field that reads differently per language: {"zh": ..., "en": ...}."""


_MISSING = object()
_JOIN = {"zh": "、", "en": ", "}
# Resolves an organisation's credit code to its name; set around a check run (see `naming`).
_NAMES: contextvars.ContextVar[Any] = contextvars.ContextVar("prtkg_names", default=None)

_NAME_QUERY = """SELECT ?code (SAMPLE(?n) AS ?name) WHERE { %s
  GRAPH ?g { ?o prtkg:uscc ?code ; prtkg:name ?n } } GROUP BY ?code"""


@contextlib.contextmanager
def naming(store):
    """Within this block, messages name organisations (`{field:org}`) by their name in `store`."""
    cache: dict[str, str | None] = {}

    def name(code: str) -> str | None:
        if code not in cache:
            rows = store.select(_NAME_QUERY % f"VALUES ?code {{ {json.dumps(code, ensure_ascii=False)} }}")
            cache[code] = rows[0]["name"] if rows else None
        return cache[code]

    token = _NAMES.set(name)
    try:
        yield name
    finally:
        _NAMES.reset(token)


def org_name(code: str) -> str:
    """An organisation's name for a message built outside the catalogue template (within `naming`);
    its code where the store has no name for it."""
    names = _NAMES.get()
    return (names(code) if names else None) or code


def percent(value: Any) -> str:
    """A ratio (0.0667) as a reader writes it (6.67%)."""
    try:
        return f"{float(value) * 100:.2f}".rstrip("0").rstrip(".") + "%"
    except (TypeError, ValueError):
        return str(value)


class _Message(string.Formatter):
    """Fills a catalogue message in one language. A field's format spec says what its value is:
    `{x:org}` an organisation's credit code (shown by name), `{x:%}` a ratio (shown as a percentage),
    `{x:SCHEME}` a code of a code list of ontology/codes.ttl (shown by its label in the language).
    A field the evidence lacks is a bug in the rule, but the finding must still be readable: "?"."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.names = _NAMES.get()

    def get_value(self, key, args, kwargs):
        try:
            return kwargs[key]      # a mapping with __missing__ (a default for every field) is honoured
        except KeyError:
            return _MISSING

    def format_field(self, value: Any, spec: str) -> str:
        if value is _MISSING:
            return "?"
        if isinstance(value, Text):
            return value.get(self.lang) or value.get("zh") or next(iter(value.values()), "")
        if isinstance(value, (list, tuple, set, frozenset)):
            return _JOIN.get(self.lang, ", ").join(self.format_field(v, spec) for v in value)
        if value is None:
            return ""
        if spec == "org":
            return org_name(str(value))
        if spec == "%":
            return percent(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if spec:
            return codes.label(spec, str(value), self.lang)
        return str(value)


def render(template: str, lang: str, fields: dict[str, Any]) -> str:
    return _Message(lang).vformat(template, (), fields)


@dataclass(frozen=True, eq=False)
class Finding:
    rule: str
    severity: str
    record: str
    focus: str
    message: dict[str, str]
    basis: str
    evidence: dict[str, Any] = field(default_factory=dict)
    # The IRI of the SHACL shape that found it (sh:sourceShape), when a named shape did; not part of
    # its identity.
    shape: str = ""

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
    from .casework_config import volatile_evidence

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
         *, severity: str | None = None, shape: str = "", **message_fields: Any) -> Finding:
    """Build a finding of catalogue rule `rule_id` about `record` at node `focus`.

    `severity` lowers the catalogue's for one reading of the law a policy parameter opts into
    (e.g. a contested extension of a minimum period is a warning, not a violation). `shape` is the
    IRI of the SHACL shape that found it, if one did.

    The message is the catalogue's, filled from the rule's parameters, the evidence and any extra
    message fields (e.g. a department's name for display).
    """
    entry = catalogue_rule(rule_id)
    evidence = _jsonable(evidence or {})
    fields = {**entry.param_values(), **evidence, **message_fields}
    fields.setdefault("record", record)
    message = {lang: render(template, lang, fields) for lang, template in entry.message.items()}
    if isinstance(focus, NamedNode):
        focus = focus.value
    if severity is not None and severity not in SEVERITY_ORDER:
        raise ValueError(f"{rule_id}: unknown severity {severity!r}")
    return Finding(rule_id, severity or entry.severity, record, focus or "", message, entry.basis, evidence,
                   shape)


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

    def merge(self, other: "Insufficiency") -> None:
        """Add what `other` collected (e.g. a worker process's), as if added here after what is here."""
        for record, (focus, rules) in other._by_record.items():
            for rule_id, fields in rules.items():
                self.add(record, focus, rule_id, fields)

    def findings(self) -> list[Finding]:
        out = []
        for record, (focus, rules) in sorted(self._by_record.items()):
            fields = sorted({f for fs in rules.values() for f in fs})
            evidence = {"rules": sorted(rules), "fields": fields,
                        "byRule": {r: sorted(fs) for r, fs in sorted(rules.items())}}
            out.append(make("DATA-INSUFFICIENT", record, focus, evidence))
        return out


def insufficiency_by_rule(findings: Iterable[dict]) -> list[dict]:
    """DATA-INSUFFICIENT findings (as dicts) turned round: per rule that could not run, how many records
    and which fields they lacked. For the table and the HTML report; JSON keeps the per-record entries."""
    by_rule: dict[str, tuple[set[str], set[str]]] = {}
    for f in findings:
        if f["rule"] != "DATA-INSUFFICIENT":
            continue
        for rule_id, fields in (f["evidence"].get("byRule") or {}).items():
            records, missing = by_rule.setdefault(rule_id, (set(), set()))
            records.add(f["record"])
            missing.update(fields)
    return [{"rule": r, "records": len(recs), "fields": sorted(fields)}
            for r, (recs, fields) in sorted(by_rule.items())]


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


SH = "http://www.w3.org/ns/shacl#"
# A finding's severity as the SHACL severity it is read as (sh:resultSeverity).
SHACL_SEVERITY = {"violation": NamedNode(SH + "Violation"), "warning": NamedNode(SH + "Warning"),
                  "info": NamedNode(SH + "Info")}
CHECKER = "prtkg"  # the software agent every check run is associated with


def check_run(as_of: dt.date, at: dt.datetime, records: Iterable[str] = (),
              started: dt.datetime | None = None) -> tuple[NamedNode, list[Quad]]:
    """The prov:Activity of one check run, in the findings graph: when it ended (and started, when
    known), the day deadlines were measured against, and the checker as its agent. Its IRI is a digest
    of those and of the records checked, so replaying the same check names the same run."""
    g = NamedNode(rdf.FINDINGS_GRAPH)
    raw = json.dumps([at.isoformat(), as_of.isoformat(), sorted(set(records))], ensure_ascii=False)
    run = rdf.iri("check-run", hashlib.sha256(raw.encode()).hexdigest()[:24])
    who, agent = rdf.agent(CHECKER)
    quads = [Quad(run, rdf.RDF_TYPE, NamedNode(rdf.PROV + "Activity"), g),
             Quad(run, NamedNode(rdf.PROV + "endedAtTime"), rdf.literal(at), g),
             Quad(run, rdf.p("asOf"), rdf.literal(as_of), g),
             Quad(run, NamedNode(rdf.PROV + "wasAssociatedWith"), who, g),
             Quad(who, rdf.RDF_TYPE, NamedNode(rdf.PROV + "SoftwareAgent"), g),
             *(Quad(*t, g) for t in agent)]
    if started is not None:
        quads.append(Quad(run, NamedNode(rdf.PROV + "startedAtTime"), rdf.literal(started), g))
    return run, quads


def to_quads(findings: Iterable[Finding], as_of: dt.date, at: dt.datetime,
             graphs: Mapping[str, NamedNode] | None = None, started: dt.datetime | None = None) -> Iterable[Quad]:
    """The findings graph's description of `findings`, with the check run that generated them.

    Each finding is also a SHACL validation result (focus node, severity, message, source shape when a
    shape found it) and a PROV entity derived from its record's graph (`graphs`: record id -> graph
    IRI; a finding about something that is no stored record, e.g. an organisation, has none)."""
    findings = list(findings)
    graphs = graphs or {}
    g = NamedNode(rdf.FINDINGS_GRAPH)
    json_dt = NamedNode(rdf.RDF + "JSON")
    if not findings:
        return
    run, run_quads = check_run(as_of, at, (f.record for f in findings), started)
    yield from run_quads
    for f in findings:
        node = rdf.iri("finding", f.id)
        yield Quad(node, rdf.RDF_TYPE, rdf.p("Finding"), g)
        yield Quad(node, rdf.RDF_TYPE, NamedNode(SH + "ValidationResult"), g)
        yield Quad(node, rdf.p("findingId"), Literal(f.id), g)
        yield Quad(node, rdf.p("rule"), Literal(f.rule), g)
        yield Quad(node, rdf.p("severity"), Literal(f.severity), g)
        yield Quad(node, NamedNode(SH + "resultSeverity"), SHACL_SEVERITY[f.severity], g)
        yield Quad(node, rdf.p("record"), Literal(f.record), g)
        if f.record in graphs:
            yield Quad(node, NamedNode(rdf.PROV + "wasDerivedFrom"), graphs[f.record], g)
        if f.focus:
            yield Quad(node, rdf.p("focus"), NamedNode(f.focus), g)
            yield Quad(node, NamedNode(SH + "focusNode"), NamedNode(f.focus), g)
        if f.shape:
            yield Quad(node, NamedNode(SH + "sourceShape"), NamedNode(f.shape), g)
        for lang, text in f.message.items():
            yield Quad(node, rdf.p("message"), Literal(text, language=lang), g)
            yield Quad(node, NamedNode(SH + "resultMessage"), Literal(text, language=lang), g)
        yield Quad(node, rdf.p("basis"), Literal(f.basis), g)
        yield Quad(node, rdf.p("evidence"),
                   Literal(json.dumps(f.evidence, ensure_ascii=False, sort_keys=True), datatype=json_dt), g)
        yield Quad(node, rdf.p("asOf"), rdf.literal(as_of), g)
        yield Quad(node, NamedNode(rdf.PROV + "generatedAtTime"), rdf.literal(at), g)
        yield Quad(node, NamedNode(rdf.PROV + "wasGeneratedBy"), run, g)
