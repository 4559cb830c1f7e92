"""JSON event records: schemas, mapping to the ontology, every kind of bad record."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from pyoxigraph import Literal, NamedNode

from prtkg import rdf
from prtkg.loaders import events, jsonin, load_paths
from prtkg.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "events"
SCHEMAS = Path(events.__file__).parent / "schemas"
XSD_DATE = NamedNode(rdf.XSD + "date")


def read(name: str):
    items, rejected = jsonin.read((FIXTURES / name).read_bytes(), name, lines=name.endswith(".jsonl"))
    assert rejected == []
    return items


def good() -> dict:
    return {r.id: r for r in events.load(read("good.json")).records}


def objects(record, subject: NamedNode, prop: str) -> set:
    return {o for s, p, o in record.graph.triples if s == subject and p == rdf.p(prop)}


def date(value: str) -> Literal:
    return Literal(value, datatype=XSD_DATE)


def test_every_good_record_loads_into_its_own_graph():
    result = events.load(read("good.json"))
    assert result.rejected == []
    got = [(r.id, r.kind, r.source, r.graph.graph.value) for r in result.records]
    assert got == [
        ("TS-2026-001", "complaint", "good.json#0", "urn:prtkg:graph:event:complaint:TS-2026-001"),
        ("TS-2026-002", "complaint", "good.json#1", "urn:prtkg:graph:event:complaint:TS-2026-002"),
        ("XS-2026-007", "clue", "good.json#2", "urn:prtkg:graph:event:clue:XS-2026-007"),
        ("JC-2026-015", "inspection", "good.json#3", "urn:prtkg:graph:event:inspection:JC-2026-015"),
        ("JC-2026-016", "inspection", "good.json#4", "urn:prtkg:graph:event:inspection:JC-2026-016"),
        ("PLAN-2026-YN", "plan", "good.json#5", "urn:prtkg:graph:event:plan:PLAN-2026-YN"),
        ("ZX-2026-003", "sanctionExecution", "good.json#6", "urn:prtkg:graph:event:sanctionExecution:ZX-2026-003"),
    ]
    assert all(r.focus == rdf.iri(r.kind, r.id) for r in result.records)


def test_complaint_mapping():
    c = good()["TS-2026-001"]
    node = rdf.iri("complaint", "TS-2026-001")
    assert objects(c, node, "aboutProject") == {rdf.iri("project", "ocds-p7x2k1-2026-0042")}
    assert objects(c, node, "complainant") == {rdf.entity("91530100216584033Q")}
    assert objects(c, rdf.entity("91530100216584033Q"), "name") == {Literal("云南某建设工程有限公司")}
    assert objects(c, node, "handler") == {rdf.entity("11530000015234694U")}
    assert objects(c, node, "tradeType") == {rdf.code("trade-type", "works")}
    assert objects(c, node, "receivedDate") == {date("2026-03-02")}
    assert objects(c, node, "acceptedDate") == {date("2026-03-04")}
    assert objects(c, node, "decisionDate") == {date("2026-04-10")}
    t0, t1 = rdf.child(node, "transfer", 0), rdf.child(node, "transfer", 1)
    assert objects(c, node, "hasTransfer") == {t0, t1}
    assert objects(c, t0, "transferredTo") == {rdf.entity("115300000152346861")}
    assert objects(c, t0, "feedbackDate") == {date("2026-03-20")}
    assert objects(c, t1, "feedbackDate") == set()
    assert objects(c, t1, "sequence") == {rdf.literal(1)}


def test_complainant_without_a_code_is_a_named_party():
    c = good()["TS-2026-002"]
    node = rdf.iri("complaint", "TS-2026-002")
    party = rdf.child(node, "complainant")
    assert objects(c, node, "complainant") == {party}
    assert objects(c, party, "name") == {Literal("张某")}
    assert objects(c, node, "rejectedDate") == {date("2026-03-03")}
    assert objects(c, node, "acceptedDate") == objects(c, node, "tradeType") == set()


def test_clue_inspection_plan_and_sanction_mapping():
    records = good()
    clue = records["XS-2026-007"]
    node = rdf.iri("clue", "XS-2026-007")
    assert objects(clue, node, "clueSubject") == {rdf.entity("91530100216584041K")}
    assert objects(clue, node, "source") == {Literal("举报")}
    assert objects(clue, node, "closedDate") == {date("2026-02-28")}
    assert objects(clue, node, "aboutProject") == {rdf.iri("project", "ocds-p7x2k1-2026-0042")}

    ins = records["JC-2026-015"]
    node = rdf.iri("inspection", "JC-2026-015")
    assert objects(ins, node, "target") == {rdf.entity("91530100216584033Q")}
    assert objects(ins, node, "inspectingDepartment") == {rdf.entity("115300000152346861"),
                                                          rdf.entity("11530000015234694U")}
    assert objects(ins, node, "inPlan") == {rdf.iri("plan", "PLAN-2026-YN")}
    assert objects(ins, node, "forPlanItem") == {rdf.iri("plan", "PLAN-2026-YN", "item", "item-1")}
    assert objects(ins, node, "joint") == {rdf.literal(True)}
    assert objects(ins, node, "inspectionKind") == {Literal("routine")}
    draw = rdf.child(node, "draw")
    assert objects(ins, draw, "seed") == {Literal("20260510")}
    assert objects(ins, draw, "drawDate") == {date("2026-05-10")}
    plain = records["JC-2026-016"]
    node = rdf.iri("inspection", "JC-2026-016")
    assert objects(plain, node, "joint") == {rdf.literal(False)}  # the schema's default
    assert objects(plain, node, "inspectionKind") == {Literal("routine")}
    assert objects(plain, node, "hasRandomDraw") == set()

    plan = records["PLAN-2026-YN"]
    node = rdf.iri("plan", "PLAN-2026-YN")
    assert objects(plan, node, "year") == {Literal("2026", datatype=NamedNode(rdf.XSD + "gYear"))}
    item1 = rdf.iri("plan", "PLAN-2026-YN", "item", "item-1")
    assert objects(plan, node, "hasPlanItem") == {item1, rdf.iri("plan", "PLAN-2026-YN", "item", "item-2")}
    assert objects(plan, item1, "dueDate") == {date("2026-06-30")}
    assert len(objects(plan, item1, "planDepartment")) == 2
    # a plan item's subject is the matter it checks, text (not an entity that would need a code)
    assert objects(plan, item1, "itemSubject") == {Literal("房建市政工程招标投标双随机抽查")}
    item2 = rdf.iri("plan", "PLAN-2026-YN", "item", "item-2")
    assert objects(plan, item2, "itemSubject") == {Literal("招标代理机构专项检查")}

    sanction = records["ZX-2026-003"]
    node = rdf.iri("sanctionExecution", "ZX-2026-003")
    assert objects(sanction, node, "executesRecord") == {
        rdf.iri("credit", "91530100216584033Q-20260115-serious-dishonesty")}
    assert objects(sanction, node, "measure") == {rdf.code("measure", "procurement-ban")}
    assert objects(sanction, node, "executionDate") == {date("2026-01-30")}


BAD = {
    "bad.jsonl#1": [("receivedDate", "'2026-02-30' is not a real calendar date")],
    "bad.jsonl#2": [("rejectedDate", "acceptedDate and rejectedDate exclude each other: "
                                     "a complaint is either accepted or refused"),
                    ("handler", "must be a string, not 11530000015234694")],
    "bad.jsonl#3": [("recievedDate", "unknown field"),
                    ("receivedDate", "'2026/03/02' is not a date in the form YYYY-MM-DD"),
                    ("transfers[0].date", "required"),
                    ("transfers[0].feedbackDate", "'2026-03-32' is not a real calendar date")],
    "bad.jsonl#4": [("tradeType", "unknown trade-type code '铁路'")],
    "bad.jsonl#5": [("plan", "required when planItem is given"),
                    ("departments", "must not be empty"),
                    ("joint", 'must be true or false, not "yes"'),
                    ("kind", "'surprise' is not one of routine, complaint, special")],
    "bad.jsonl#6": [("year", 'must be a whole number, not "2026"')],
    "bad.jsonl#7": [("items[1].id", "duplicate item id 'i1' (items[0] has it already)")],
    "bad.jsonl#8": [("measure", "unknown measure code '吊销执照'")],
    "bad.jsonl#9": [("recordType", 'unknown record type "penalty"; '
                                   "expected one of complaint, clue, inspection, plan, sanctionExecution")],
    "bad.jsonl#10": [("subject", 'must be a credit code (string) or an object {"id": credit code, "name": text}')],
    "bad.jsonl#11": [("id", "required"), ("subject", "required"), ("source", "must not be empty")],
}


def test_each_bad_record_is_rejected_with_its_fields():
    result = events.load(read("bad.jsonl"))
    assert result.records == []
    got = {r.record: [(e.field, e.error.split("; accepted: ")[0]) for e in r.errors] for r in result.rejected}
    assert got == BAD


def test_malformed_codes_of_departments_and_targets_are_kept_for_the_rule():
    obj = {"recordType": "inspection", "id": "X1", "target": "NOT-A-CODE", "departments": ["11530000015234694V"],
           "date": "2026-05-12"}
    [record] = events.load([("x.json", obj)]).records
    assert objects(record, rdf.entity("NOT-A-CODE"), "uscc") == {Literal("NOT-A-CODE")}
    assert objects(record, rdf.entity("11530000015234694V"), "uscc") == {Literal("11530000015234694V")}


def test_same_id_twice_identical_is_one_different_is_rejected():
    [first] = read("good.json")[6:7]
    changed = dict(first[1], date="2026-02-01")
    result = events.load([first, ("again.json", dict(first[1])), ("changed.json", changed)])
    assert [r.source for r in result.records] == ["good.json#6"]
    assert [(r.record, r.errors[0].field, r.errors[0].error) for r in result.rejected] == [
        ("changed.json", "id", "duplicate sanctionExecution id 'ZX-2026-003': good.json#6 is a different record with it")]


def test_same_id_in_different_record_types_is_two_records():
    items = [("a", {"recordType": "clue", "id": "1", "subject": "X", "source": "s", "receivedDate": "2026-01-01"}),
             ("b", {"recordType": "plan", "id": "1", "year": 2026, "departments": ["X"], "kind": "k"})]
    assert len(events.load(items).records) == 2


def test_digest_is_independent_of_key_order():
    obj = {"recordType": "clue", "id": "1", "subject": "X", "source": "s", "receivedDate": "2026-01-01"}
    reordered = dict(reversed(list(obj.items())))
    a, b = events.load([("a", obj)]).records[0], events.load([("b", reordered)]).records[0]
    assert a.digest == b.digest


def test_non_object_item_is_rejected():
    [rejection] = events.load([("x.json#0", ["recordType"])]).rejected
    assert (rejection.errors[0].field, rejection.errors[0].error) == (
        "(record)", "an event record must be a JSON object")


@pytest.mark.parametrize("record_type", events.RECORD_TYPES)
def test_published_schemas_are_valid_draft_2020_12(record_type):
    schema = json.loads((SCHEMAS / f"{record_type}.schema.json").read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["recordType"] == {"const": record_type}


def test_good_fixture_validates_with_a_plain_jsonschema_tool():
    # What the README promises outsiders: the schemas work without prtkg's code.
    from referencing import Registry, Resource
    common = json.loads((SCHEMAS / "common.schema.json").read_text(encoding="utf-8"))
    registry = Registry().with_resource(common["$id"], Resource.from_contents(common))
    for _, obj in read("good.json"):
        schema = json.loads((SCHEMAS / f"{obj['recordType']}.schema.json").read_text(encoding="utf-8"))
        validator = jsonschema.Draft202012Validator(schema, registry=registry,
                                                    format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        assert list(validator.iter_errors(obj)) == []


def test_events_through_the_dispatcher_into_a_store():
    result = load_paths([FIXTURES / "good.json"])
    assert result.rejected == []
    store = Store(None)
    store.replace_records(result.records, agent="test")
    rows = store.select("SELECT ?kind (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?g prtkg:recordKind ?kind } } "
                        "GROUP BY ?kind ORDER BY ?kind")
    assert rows == [{"kind": "clue", "n": 1}, {"kind": "complaint", "n": 2}, {"kind": "inspection", "n": 2},
                    {"kind": "plan", "n": 1}, {"kind": "sanctionExecution", "n": 1}]
