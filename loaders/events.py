"""JSON event records: complaint, clue, inspection, plan, sanctionExecution.

Each record is checked against its published JSON Schema (loaders/schemas/<recordType>.schema.json),
then against what a schema cannot say (code lists, ids unique within a plan), and mapped to the
ontology in its own named graph. A record with a problem is rejected whole, with every field at
fault; the other records still load. Credit codes that are strings but malformed are kept: the rule
CRD-CODE-INVALID reports them with their record.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any, Callable

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from pyoxigraph import Literal, NamedNode
from referencing import Registry, Resource

from prtkg import codes, rdf
from prtkg.records import FieldError, LoadResult, Record, Rejection

from .csvlists import accepted, digest_of, organisation

RECORD_TYPES = ("complaint", "clue", "inspection", "plan", "sanctionExecution")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_JSON_TYPES = {"string": "a string", "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "array": "a list", "object": "an object", "null": "null"}


def _read_schema(name: str) -> dict:
    return json.loads(resources.files("prtkg.loaders").joinpath("schemas", name).read_text(encoding="utf-8"))


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True  # the schema's type check reports it
    if not _DATE.match(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=None)
def validator(record_type: str) -> Draft202012Validator:
    """The compiled validator of one record type (schemas are package data; compiled once)."""
    common = _read_schema("common.schema.json")
    registry = Registry().with_resource(common["$id"], Resource.from_contents(common))
    checker = FormatChecker(formats=())
    checker.checks("date")(_is_date)
    return Draft202012Validator(_read_schema(f"{record_type}.schema.json"), registry=registry,
                                format_checker=checker)


def field_path(parts: Any) -> str:
    """A JSON location as users write it: transfers[0].date."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _join(base: str, name: str) -> str:
    return f"{base}.{name}" if base else name


def schema_errors(obj: dict, record_type: str) -> list[FieldError]:
    """Every schema violation of a record, each as a field path and a reason a person can act on."""
    errors: list[FieldError] = []
    for error in sorted(validator(record_type).iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))):
        errors.extend(_explain(error))
    unique: list[FieldError] = []
    for e in errors:
        if e not in unique:
            unique.append(e)
    return unique


def _explain(error: ValidationError) -> list[FieldError]:
    where = field_path(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance, kind, value = error.instance, error.validator, error.validator_value
    if "x-error" in schema:
        field = _join(where, schema["x-field"]) if "x-field" in schema else where
        return [FieldError(field or "(record)", schema["x-error"])]
    if kind == "required":
        return [FieldError(_join(where, name), "required") for name in value if name not in instance]
    if kind == "additionalProperties":
        known = set(schema.get("properties", {}))
        return [FieldError(_join(where, name), "unknown field") for name in instance if name not in known]
    if kind == "dependentRequired":
        return [FieldError(_join(where, need), f"required when {key} is given")
                for key, needs in value.items() if key in instance for need in needs if need not in instance]
    if kind == "type":
        wanted = value if isinstance(value, list) else [value]
        return [FieldError(where, f"must be {' or '.join(_JSON_TYPES.get(t, t) for t in wanted)}, "
                                  f"not {json.dumps(instance, ensure_ascii=False)}")]
    if kind == "format" and value == "date":
        if _DATE.match(instance):
            return [FieldError(where, f"{instance!r} is not a real calendar date")]
        return [FieldError(where, f"{instance!r} is not a date in the form YYYY-MM-DD")]
    if kind == "enum":
        return [FieldError(where, f"{instance!r} is not one of {', '.join(map(str, value))}")]
    if kind in ("minLength", "minItems") and value == 1:
        return [FieldError(where, "must not be empty")]
    if kind == "minimum":
        return [FieldError(where, f"{instance} is below {value}")]
    if kind == "maximum":
        return [FieldError(where, f"{instance} is above {value}")]
    return [FieldError(where or "(record)", error.message)]


# -- meaning beyond the schema ------------------------------------------------------------------

def _code(errors: list[FieldError], field: str, scheme_name: str, value: str) -> NamedNode | None:
    concept = codes.scheme(scheme_name).resolve(value)
    if concept is None:
        errors.append(FieldError(field, f"unknown {scheme_name} code {value!r}; {accepted(scheme_name)}"))
        return None
    return NamedNode(concept.iri)


def _department(g: rdf.RecordGraph, code: str) -> NamedNode:
    node = organisation(g, code)
    g.type(node, "Department")
    return node


def _party(g: rdf.RecordGraph, focus: NamedNode, role: str, value: str | dict) -> NamedNode:
    """A complainant or clue subject: an organisation by its code, or a named party without one."""
    if isinstance(value, str):
        return organisation(g, value)
    if "id" in value:
        node = organisation(g, value["id"])
    else:
        node = rdf.child(focus, role)
    g.add(node, "name", value.get("name"))
    return node


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _transfers(g: rdf.RecordGraph, focus: NamedNode, transfers: list[dict]) -> None:
    # Transfers are numbered from 0, as their positions in the record (transfers[0] is .../transfer/0).
    for n, t in enumerate(transfers):
        node = rdf.child(focus, "transfer", n)
        g.type(node, "Transfer")
        g.add(focus, "hasTransfer", node)
        g.add(node, "sequence", n)
        g.add(node, "transferredTo", _department(g, t["to"]))
        g.add(node, "transferDate", _date(t["date"]))
        g.add(node, "feedbackDate", _date(t.get("feedbackDate")))


def _project(g: rdf.RecordGraph, focus: NamedNode, ocid: str | None) -> None:
    if ocid:
        g.add(focus, "aboutProject", rdf.iri("project", ocid))


def _complaint(g: rdf.RecordGraph, focus: NamedNode, r: dict, errors: list[FieldError]) -> None:
    g.type(focus, "Complaint")
    _project(g, focus, r["project"])
    g.add(focus, "complainant", _party(g, focus, "complainant", r["complainant"]))
    g.add(focus, "handler", _department(g, r["handler"]))
    if "tradeType" in r:
        g.add(focus, "tradeType", _code(errors, "tradeType", "trade-type", r["tradeType"]))
    for key in ("receivedDate", "acceptedDate", "rejectedDate", "decisionDate"):
        g.add(focus, key, _date(r.get(key)))
    _transfers(g, focus, r.get("transfers", []))
    _suspensions(g, focus, r, errors)


def _suspensions(g: rdf.RecordGraph, focus: NamedNode, r: dict, errors: list[FieldError]) -> None:
    """Periods the complaint's handling time does not count. They must lie within the handling
    (from receipt up to the decision) and not overlap, or a day would be left out twice."""
    received, decided = _date(r["receivedDate"]), _date(r.get("decisionDate"))
    spans: list[tuple[int, dt.date, dt.date]] = []
    for n, s in enumerate(r.get("suspensions", [])):
        start, end = _date(s["from"]), _date(s.get("to"))
        where = f"suspensions[{n}]"
        # A suspension without an end is still running: it reaches as far as any other could.
        last = end or dt.date.max
        clash = next((m for m, a, b in spans if start <= b and a <= last), None)
        if start > last:
            errors.append(FieldError(f"{where}.to", f"{end} is before its start {start}"))
        elif start < received:
            errors.append(FieldError(f"{where}.from", f"{start} is before the complaint was received ({received})"))
        elif decided is not None and last > decided:
            errors.append(FieldError(f"{where}.to", f"must be given and end by the decision of {decided}"))
        elif clash is not None:
            errors.append(FieldError(where, f"overlaps suspensions[{clash}]"))
        else:
            spans.append((n, start, last))
            node = rdf.child(focus, "suspension", n)
            g.type(node, "Suspension")
            g.add(focus, "hasSuspension", node)
            g.add(node, "suspendedFrom", start)
            g.add(node, "suspendedTo", end)
            g.add(node, "suspensionReason", s["reason"])


def _clue(g: rdf.RecordGraph, focus: NamedNode, r: dict, errors: list[FieldError]) -> None:
    g.type(focus, "Clue")
    g.add(focus, "clueSubject", _party(g, focus, "subject", r["subject"]))
    g.add(focus, "source", r["source"])
    g.add(focus, "receivedDate", _date(r["receivedDate"]))
    g.add(focus, "closedDate", _date(r.get("closedDate")))
    _transfers(g, focus, r.get("transfers", []))
    _project(g, focus, r.get("project"))


def _inspection(g: rdf.RecordGraph, focus: NamedNode, r: dict, errors: list[FieldError]) -> None:
    g.type(focus, "Inspection")
    g.add(focus, "target", organisation(g, r["target"]))
    for code in r["departments"]:
        g.add(focus, "inspectingDepartment", _department(g, code))
    g.add(focus, "inspectionDate", _date(r["date"]))
    if "plan" in r:
        g.add(focus, "inPlan", rdf.iri("plan", r["plan"]))
        if "planItem" in r:
            g.add(focus, "forPlanItem", rdf.iri("plan", r["plan"], "item", r["planItem"]))
    g.add(focus, "joint", bool(r.get("joint", False)))
    g.add(focus, "inspectionKind", r.get("kind", "routine"))
    draw = r.get("randomDraw")
    if draw is not None:
        node = rdf.child(focus, "draw")
        g.type(node, "RandomDraw")
        g.add(focus, "hasRandomDraw", node)
        g.add(node, "targetsFrom", draw["targetsFrom"])
        g.add(node, "inspectorsFrom", draw["inspectorsFrom"])
        g.add(node, "seed", str(draw["seed"]) if "seed" in draw else None)
        g.add(node, "drawDate", _date(draw["date"]))
    g.add(focus, "resultDate", _date(r.get("resultDate")))
    g.add(focus, "resultPublishedDate", _date(r.get("resultPublishedDate")))
    _project(g, focus, r.get("project"))


def _plan(g: rdf.RecordGraph, focus: NamedNode, r: dict, errors: list[FieldError]) -> None:
    g.type(focus, "SupervisionPlan")
    g.add(focus, "year", Literal(f"{r['year']:04d}", datatype=NamedNode(rdf.XSD + "gYear")))
    for code in r["departments"]:
        g.add(focus, "planDepartment", _department(g, code))
    g.add(focus, "planKind", r["kind"])
    g.add(focus, "summaryDate", _date(r.get("summaryDate")))
    first: dict[str, int] = {}
    for n, item in enumerate(r.get("items", [])):
        # Inspections refer to an item by its id, so two items with one id would be indistinguishable.
        if item["id"] in first:
            errors.append(FieldError(f"items[{n}].id", f"duplicate item id {item['id']!r} "
                                     f"(items[{first[item['id']]}] has it already)"))
            continue
        first[item["id"]] = n
        node = rdf.iri("plan", r["id"], "item", item["id"])
        g.type(node, "PlanItem")
        g.add(focus, "hasPlanItem", node)
        g.add(node, "localId", item["id"])
        # What the item checks is a matter (a theme, a kind of agency), not one entity.
        g.add(node, "itemSubject", item["subject"])
        for code in item["departments"]:
            g.add(node, "planDepartment", _department(g, code))
        g.add(node, "dueDate", _date(item.get("due")))


def _sanction_execution(g: rdf.RecordGraph, focus: NamedNode, r: dict, errors: list[FieldError]) -> None:
    g.type(focus, "SanctionExecution")
    g.add(focus, "executesRecord", rdf.iri("credit", r["creditRecord"]))
    g.add(focus, "executedBy", _department(g, r["department"]))
    g.add(focus, "measure", _code(errors, "measure", "measure", r["measure"]))
    g.add(focus, "executionDate", _date(r["date"]))


MAPPERS: dict[str, Callable[[rdf.RecordGraph, NamedNode, dict, list[FieldError]], None]] = {
    "complaint": _complaint,
    "clue": _clue,
    "inspection": _inspection,
    "plan": _plan,
    "sanctionExecution": _sanction_execution,
}
assert set(MAPPERS) == set(RECORD_TYPES)


def load_one(source: str, obj: Any) -> Record | Rejection:
    if not isinstance(obj, dict):
        return Rejection(source, [FieldError("(record)", "an event record must be a JSON object")])
    record_type = obj.get("recordType")
    if record_type not in MAPPERS:
        shown = json.dumps(record_type, ensure_ascii=False)
        return Rejection(source, [FieldError("recordType", f"unknown record type {shown}; "
                                             f"expected one of {', '.join(RECORD_TYPES)}")])
    errors = schema_errors(obj, record_type)
    if errors:
        return Rejection(source, errors)
    record_id = obj["id"]
    focus = rdf.iri(record_type, record_id)
    g = rdf.RecordGraph(rdf.graph_iri("event", record_type, record_id))
    g.add(focus, "localId", record_id)
    MAPPERS[record_type](g, focus, obj, errors)
    if errors:
        return Rejection(source, errors)
    return Record(id=record_id, kind=record_type, graph=g, source=source, digest=digest_of(obj), focus=focus)


def load(items: list[tuple[str, dict]]) -> LoadResult:
    result = LoadResult()
    first: dict[str, Record] = {}
    for source, obj in items:
        outcome = load_one(source, obj)
        if isinstance(outcome, Rejection):
            result.rejected.append(outcome)
            continue
        key = outcome.graph.graph.value
        earlier = first.get(key)
        if earlier is None:
            first[key] = outcome
            result.records.append(outcome)
        elif earlier.digest != outcome.digest:
            result.rejected.append(Rejection(source, [FieldError(
                "id", f"duplicate {outcome.kind} id {outcome.id!r}: {earlier.source} is a different record with it")]))
        # The same record given twice is one record.
    return result
