"""OCDS loader: merging releases into compiled records, the mapping contract, and every rejection."""
from __future__ import annotations

import copy
import hashlib
import json
import re
import socket
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from prtkg import rdf
from prtkg.loaders import jsonin, load_inputs, load_paths, ocds

FIXTURES = Path(__file__).parent / "fixtures" / "ocds"
PACKAGE = FIXTURES / "release-package.json"
OCID = "ocds-p7x2k1-2026-0042"
P = f"<https://w3id.org/prtkg/id/project/{OCID}>"
E = "https://w3id.org/prtkg/id/entity/"


def store_of(*records) -> ox.Store:
    store = ox.Store()
    store.extend([q for r in records for q in r.graph.quads()])
    return store


def select(store: ox.Store, where: str) -> list[tuple]:
    """Sorted rows of plain values (IRIs, lexical forms), over all named graphs.

    Columns: the variables in order of first appearance, except ?_hidden ones; unbound ones are left out.
    """
    names = list(dict.fromkeys(v for v in re.findall(r"\?(\w+)", where) if not v.startswith("_")))
    query = rdf.sparql_prefixes() + f"SELECT {' '.join('?' + n for n in names)} WHERE {{ GRAPH ?_g {{ {where} }} }}"
    return sorted(tuple(sol[n].value for n in names if sol[n] is not None) for sol in store.query(query))


def one(store: ox.Store, where: str):
    rows = select(store, where)
    assert len(rows) == 1, rows
    return rows[0][0] if len(rows[0]) == 1 else rows[0]


def release(ocid="ocds-x-1", rid="r1", date="2026-03-02T09:00:00+08:00", **fields) -> dict:
    return {"ocid": ocid, "id": rid, "date": date, "tag": ["tender"], "initiationType": "tender", **fields}


def loaded(*objs, source="in.json"):
    """ocds.load on parsed JSON, numbers handled as jsonin does (fractions as exact strings)."""
    items = [(f"{source}#{i}", json.loads(json.dumps(o), parse_float=str)) for i, o in enumerate(objs)]
    return ocds.load(items)


def errors_of(result) -> list[tuple[str, str]]:
    return [(r.record, e.field) for r in result.rejected for e in r.errors]


# ------------------------------------------------------------------ a realistic multi-release package

@pytest.fixture(scope="module")
def package():
    result = load_paths([PACKAGE])
    assert result.rejected == []
    assert len(result.records) == 1
    return result.records[0], store_of(result.records[0])


def test_package_is_one_compiled_record(package):
    record, _ = package
    assert record.id == OCID and record.kind == "ocds"
    assert record.graph.graph == rdf.graph_iri("ocds", OCID)
    assert record.focus == rdf.iri("project", OCID)
    # sources in merge (date) order, not file order: the award release comes first in the file
    labels = record.source.split(", ")
    assert labels == [f"{PACKAGE.name}/releases[{i}]" for i in (1, 2, 3, 0, 4)]  # the name, never the path
    items = jsonin.read(PACKAGE.read_bytes(), str(PACKAGE), lines=False)[0]
    compiled = ocds.compiled_releases(items)[OCID]
    assert record.digest == hashlib.sha256(ocds.canonical(compiled)).hexdigest()
    assert compiled["tag"] == ["compiled"] and compiled["date"] == "2026-04-25T10:00:00+08:00"


def test_project_and_codes(package):
    _, s = package
    assert one(s, f"{P} a prtkg:Project ; prtkg:ocid ?o") == OCID
    assert one(s, f"{P} prtkg:title ?t") == "五华区第三中学教学楼新建工程施工"
    assert one(s, f"{P} prtkg:tradeType ?c") == "https://w3id.org/prtkg/code/trade-type/works"
    assert one(s, f"{P} prtkg:industry ?c") == "https://w3id.org/prtkg/code/industry/housing-municipal"
    assert one(s, f"{P} prtkg:region ?c") == "https://w3id.org/prtkg/code/region/530102"


def test_parties_and_roles(package):
    _, s = package
    assert one(s, f"{P} prtkg:buyer ?b") == E + "11530100015012354Q"
    assert one(s, f"{P} prtkg:procuringEntity ?b") == E + "915301002196543752"
    centre = one(s, f"{P} prtkg:tradingCentre ?b")
    assert centre == E + "12530100432109878W"
    assert select(s, f"<{centre}> a ?t") == [(rdf.PRTKG + "Department",), (rdf.PRTKG + "TradingCentre",)]
    assert one(s, f"<{E}915301027708123477> a prtkg:MarketEntity ; prtkg:name ?n") == "云南春城建设工程有限公司"
    assert len(select(s, f"{P} prtkg:hasParty ?p")) == 10
    # an invalid USCC loads: node minted from the code as given, raw code kept for CRD-CODE-INVALID
    assert one(s, f"<{E}91530100MA6K12345X> prtkg:uscc ?u") == "91530100MA6K12345X"
    # a party identified in another scheme: one node per scheme + id, across records
    foreign = "<https://w3id.org/prtkg/id/entity/LA-ERC/0152-2019>"
    assert one(s, f"{foreign} prtkg:identifierScheme ?a ; prtkg:identifierId ?b ; prtkg:name ?c") == \
        ("LA-ERC", "0152-2019", "Mekong Engineering Co.")


def test_supervisors_merged_by_id_across_releases(package):
    _, s = package
    rows = select(s, f"""{P} prtkg:hasSupervisorAssignment ?a . ?a a prtkg:SupervisorAssignment ;
        prtkg:supervisor ?d . OPTIONAL {{ ?a prtkg:responsibility ?r }}""")
    base = f"https://w3id.org/prtkg/id/project/{OCID}/supervision/"
    assert rows == sorted([
        (base + "SUP-DRC", E + "11530100015011984N"),            # role supervisor, not listed: no responsibility
        (base + "SUP-KM", E + "11530100015012346X", "primary"),  # from the tender release
        (base + "SUP-QJ", E + "115303000150999986", "secondary"),  # added by the award release
    ])


def test_tender_dates_amendment_documents(package):
    _, s = package
    T = f"<https://w3id.org/prtkg/id/project/{OCID}/tender>"
    assert one(s, f"{T} prtkg:tenderPeriodStart ?d") == "2026-03-02"
    # the amendment release moved the deadline; the compiled release has the later value
    assert one(s, f"{T} prtkg:tenderPeriodEnd ?d") == "2026-03-23"
    assert one(s, f"{T} prtkg:tenderPeriodEndDateTime ?d") == "2026-03-23T09:30:00+08:00"
    assert one(s, f"{T} prtkg:hasAmendment ?_a . ?_a prtkg:date ?d") == "2026-03-10"
    amount, currency = one(s, f"{T} prtkg:amount ?a ; prtkg:currency ?c")
    assert (Decimal(amount), currency) == (Decimal("12500000.00"), "CNY")
    assert one(s, f"{T} prtkg:procurementMethod ?m ; prtkg:status ?st") == ("open", "active")
    docs = select(s, f"{T} prtkg:hasDocument ?d . ?d prtkg:documentType ?t ; prtkg:datePublished ?p")
    assert [(t, p) for _, t, p in docs] == [("tenderNotice", "2026-03-02"), ("biddingDocuments", "2026-03-02"),
                                            ("clarifications", "2026-03-10")]
    assert one(s, f"{T} prtkg:hasItem ?_i . ?_i prtkg:classificationId ?c") == "45214200"


def test_evaluation_and_candidate_publicity(package):
    _, s = package
    T = f"<https://w3id.org/prtkg/id/project/{OCID}/tender>"
    assert one(s, f"{T} prtkg:hasEvaluation ?_e . ?_e prtkg:evaluationMode ?m ; prtkg:reportDate ?r") == \
        ("remote", "2026-03-25")
    venues = select(s, f"{T} prtkg:hasEvaluation ?_e . ?_e ?which ?v . ?v a prtkg:Venue ; prtkg:region ?r ; "
                       "prtkg:supervisor ?d")
    ev = f"https://w3id.org/prtkg/id/project/{OCID}/tender/evaluation"
    assert venues == [
        (rdf.PRTKG + "primaryVenue", ev + "/venue/0", rdf.CODE + "region/530102", E + "11530100015012346X"),
        (rdf.PRTKG + "secondaryVenue", ev + "/venue/1", rdf.CODE + "region/530300", E + "115303000150999986"),
    ]
    assert one(s, f"{T} prtkg:candidatePublicityStart ?a ; prtkg:candidatePublicityEnd ?b") == \
        ("2026-03-27", "2026-03-30")


def test_bids_awards_contracts(package):
    _, s = package
    bids = select(s, f"{P} prtkg:hasBid ?b . ?b prtkg:localId ?id ; prtkg:tenderer ?t ; prtkg:bidDate ?d")
    assert [(i, t.removeprefix(E), d) for _, i, t, d in bids] == [
        ("BID-1", "915301027708123477", "2026-03-23"),
        ("BID-2", "91530112567890120M", "2026-03-23"),   # 2026-03-22T17:10Z is the 23rd in China
        ("BID-3", "91530100MA6K12345X", "2026-03-23"),
        ("BID-4", "LA-ERC/0152-2019", "2026-03-23")]
    B2 = f"<https://w3id.org/prtkg/id/project/{OCID}/bid/BID-2>"
    assert one(s, f"{B2} prtkg:bidDateTime ?d") == "2026-03-22T17:10:00Z"  # the instant as published
    B1 = f"<https://w3id.org/prtkg/id/project/{OCID}/bid/BID-1>"
    assert Decimal(one(s, f"{B1} prtkg:amount ?a")) == Decimal("11850000.50")
    assert one(s, f"{B1} prtkg:agent ?a ; prtkg:projectManager ?m ; prtkg:depositAccount ?d ; "
                  "prtkg:documentAuthor ?w") == ("p-7f3a", "pm-1021", "acct-88a1", "mac-00:1a:2b")
    A = f"<https://w3id.org/prtkg/id/project/{OCID}/award/AWD-1>"
    assert one(s, f"{P} prtkg:hasAward {A} . {A} prtkg:awardDate ?d ; prtkg:supplier ?s ; prtkg:status ?st") == \
        ("2026-04-03", E + "915301027708123477", "active")
    assert one(s, f"{A} prtkg:hasDocument ?_d . ?_d prtkg:documentType 'awardNotice' ; prtkg:datePublished ?p") \
        == "2026-04-05"
    C = f"<https://w3id.org/prtkg/id/project/{OCID}/contract/CON-1>"
    assert one(s, f"{P} prtkg:hasContract {C} . {C} prtkg:awardRef ?a ; prtkg:dateSigned ?d") == \
        (A.strip("<>"), "2026-04-20")
    assert one(s, f"{C} prtkg:hasDocument ?_d . ?_d prtkg:documentType 'contractSigned' ; prtkg:datePublished ?p") \
        == "2026-04-25"


def test_amounts_are_exact_decimals():
    result = loaded(release(tender={"id": "t", "value": {"amount": 0.1, "currency": "CNY"}}))
    (s, pred, o), = [t for t in result.records[0].graph.triples if t[1] == rdf.p("amount")]
    assert o.datatype.value == rdf.XSD + "decimal" and Decimal(o.value) == Decimal("0.1")


# ------------------------------------------------------------------ other shapes of input

def test_merge_orders_by_instant_not_by_date_string():
    # 10:00+08:00 is 02:00Z, before 03:00Z; comparing the strings would put them the other way round
    first = release(rid="a", date="2026-03-01T10:00:00+08:00", tender={"id": "t", "title": "first"})
    second = release(rid="b", date="2026-03-01T03:00:00Z", tender={"id": "t", "title": "second"})
    result = loaded(second, first)
    assert one(store_of(*result.records), "?_p prtkg:title ?t") == "second"


def test_record_package_compiled_release_used_as_given():
    compiled = release(ocid="ocds-x-9", rid="ocds-x-9-2026-03-05T00:00:00Z", date="2026-03-05T00:00:00Z",
                       tag=["compiled"], tender={"id": "t", "title": "as compiled", "tradeType": "works"})
    stale = release(ocid="ocds-x-9", rid="r1", tender={"id": "t", "title": "an older release"})
    package = {"version": "1.1", "records": [{"ocid": "ocds-x-9", "releases": [stale], "compiledRelease": compiled}]}
    result = ocds.load([("rp.json", package)])
    assert result.rejected == []
    (record,) = result.records
    assert record.id == "ocds-x-9" and record.source == "rp.json/records[0]"
    assert record.digest == hashlib.sha256(ocds.canonical(compiled)).hexdigest()
    assert one(store_of(record), "?_p prtkg:title ?t") == "as compiled"


def test_record_package_with_linked_releases_only_is_rejected():
    package = {"records": [{"ocid": "ocds-x-9", "releases": [{"url": "https://x/r1.json", "date": "2026-03-01",
                                                               "tag": ["tender"]}]}]}
    result = ocds.load([("rp.json", package)])
    assert result.records == [] and errors_of(result) == [("rp.json/records[0]", "compiledRelease")]


def test_record_package_releases_are_compiled_when_no_compiled_release():
    package = {"records": [{"ocid": "ocds-x-9", "releases": [
        release(ocid="ocds-x-9", rid="r1", tender={"id": "t", "title": "one"}),
        release(ocid="ocds-x-9", rid="r2", date="2026-03-04", tender={"id": "t", "title": "two"})]}]}
    result = ocds.load([("rp.json", package)])
    assert one(store_of(*result.records), "?_p prtkg:title ?t") == "two"


def test_json_lines_of_several_ocids():
    lines = [release(ocid="ocds-a", rid="1", tender={"id": "t", "title": "A"}),
             release(ocid="ocds-b", rid="1", tender={"id": "t", "title": "B"}),
             release(ocid="ocds-a", rid="2", date="2026-03-09T09:00:00+08:00", tender={"id": "t", "status": "complete"}),
             release(ocid="ocds-c", rid="1", date="2026-03-03", tender={"id": "t", "title": "C"})]
    data = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines).encode()
    result = load_inputs([("in.jsonl", ".jsonl", data)])
    assert result.rejected == []
    assert [(r.id, r.source) for r in result.records] == [
        ("ocds-a", "in.jsonl#1, in.jsonl#3"), ("ocds-b", "in.jsonl#2"), ("ocds-c", "in.jsonl#4")]
    s = store_of(*result.records)
    assert one(s, "?_p prtkg:ocid 'ocds-a' ; prtkg:title ?t ; prtkg:hasTender ?_t . ?_t prtkg:status ?s") == \
        ("A", "complete")


def test_real_ocds_without_our_extension_loads():
    # the shape of a UK Contracts Finder release: no tradeType/region/supervisors, GB-COH identifiers
    real = {
        "ocid": "ocds-b5fd17-8a1f2c3d", "id": "ocds-b5fd17-8a1f2c3d-award", "date": "2025-11-03T12:41:09Z",
        "tag": ["award"], "initiationType": "tender", "language": "en",
        "parties": [
            {"id": "GB-GOR-PB1234", "name": "Example Borough Council", "roles": ["buyer"],
             "identifier": {"scheme": "GB-GOR", "id": "PB1234", "legalName": "Example Borough Council"}},
            {"id": "GB-COH-01234567", "name": "Acme Ltd", "roles": ["supplier"],
             "identifier": {"scheme": "GB-COH", "id": "01234567"}, "details": {"scale": "sme"}}],
        "buyer": {"id": "GB-GOR-PB1234", "name": "Example Borough Council"},
        "tender": {"id": "tender_1", "title": "Grounds maintenance", "status": "complete",
                   "value": {"amount": 250000, "currency": "GBP"},
                   "tenderPeriod": {"startDate": "2025-08-01T00:00:00+01:00", "endDate": "2025-09-01T12:00:00+01:00"}},
        "awards": [{"id": "award_1", "status": "active", "date": "2025-10-20T00:00:00Z",
                    "value": {"amount": 238500.75, "currency": "GBP"},
                    "suppliers": [{"id": "GB-COH-01234567", "name": "Acme Ltd"}]}],
    }
    result = load_inputs([("uk.json", ".json", json.dumps(real).encode())])
    assert result.rejected == []
    s = store_of(*result.records)
    assert select(s, "?_p prtkg:tradeType ?t") == [] and select(s, "?_p prtkg:hasSupervisorAssignment ?a") == []
    supplier = "https://w3id.org/prtkg/id/entity/GB-COH/01234567"
    assert one(s, "?_a prtkg:supplier ?s") == supplier
    assert one(s, f"<{supplier}> prtkg:identifierScheme ?s ; prtkg:identifierId ?i") == ("GB-COH", "01234567")
    # a foreign record: the instant keeps its offset, the day is the day as published
    assert one(s, "?_t prtkg:tenderPeriodEndDateTime ?d") == "2025-09-01T12:00:00+01:00"
    assert one(s, "?_t prtkg:tenderPeriodEnd ?d") == "2025-09-01"


def test_dates_without_time_or_offset():
    result = loaded(release(tender={"id": "t", "tradeType": "works", "tenderPeriod": {
        "startDate": "2026-03-02", "endDate": "2026-03-23T09:30:00"}}))
    s = store_of(*result.records)
    assert one(s, "?_t prtkg:tenderPeriodStart ?d") == "2026-03-02"
    # no offset in a Chinese record: Beijing time, as Chinese platforms publish
    assert one(s, "?_t prtkg:tenderPeriodEndDateTime ?d") == "2026-03-23T09:30:00+08:00"
    # no offset in a foreign record: the offset is unknown, so only the day is kept
    foreign = store_of(*loaded(release(tender={"id": "t", "tenderPeriod": {"endDate": "2026-03-23T23:30:00"}})).records)
    assert one(foreign, "?_t prtkg:tenderPeriodEnd ?d") == "2026-03-23"
    assert select(foreign, "?_t prtkg:tenderPeriodEndDateTime ?d") == []
    date_only = loaded(release(tender={"id": "t", "tenderPeriod": {"endDate": "2026-03-23"}}))
    s = store_of(*date_only.records)
    assert one(s, "?_t prtkg:tenderPeriodEnd ?d") == "2026-03-23"
    assert select(s, "?_t prtkg:tenderPeriodEndDateTime ?d") == []  # the instant is not known: not invented


def test_chinese_labels_resolve_to_codes():
    result = loaded(release(tender={"id": "t", "tradeType": "政府采购"}))
    assert result.rejected == [], result.rejected
    assert one(store_of(*result.records), "?_p prtkg:tradeType ?c") == rdf.CODE + "trade-type/government-procurement"


# ------------------------------------------------------------------ rejections: record + field

def _bad(**fields):
    return release(ocid="ocds-bad", **fields)


PARTIES = [{"id": "S", "name": "监督部门", "identifier": {"scheme": "CN-USCC", "id": "11530100015012346X"},
            "roles": ["supervisor"]}]

BAD = {
    "release without id": ({k: v for k, v in release().items() if k != "id"}, "id"),
    "release without date": ({k: v for k, v in release().items() if k != "date"}, "date"),
    "release date 2026-02-30": (release(date="2026-02-30T10:00:00+08:00"), "date"),
    "release date garbage": (release(date="last Tuesday"), "date"),
    "missing ocid": ({k: v for k, v in release().items() if k != "ocid"}, "ocid"),
    "empty ocid": (release(ocid=" "), "ocid"),
    "invalid tender date": (_bad(tender={"id": "t", "tenderPeriod": {"endDate": "2026-02-30"}}),
                            "tender.tenderPeriod.endDate"),
    "garbage document date": (_bad(awards=[{"id": "a", "documents": [{"id": "d", "datePublished": "soon"}]}]),
                              "awards[0].documents[0].datePublished"),
    "unknown trade type": (_bad(tender={"id": "t", "tradeType": "roads"}), "tender.tradeType"),
    "unknown industry": (_bad(tender={"id": "t", "tradeType": "works", "industry": "mining"}), "tender.industry"),
    "region not 6 digits": (_bad(tender={"id": "t", "regionCode": "5301"}), "tender.regionCode"),
    "region unknown": (_bad(tender={"id": "t", "regionCode": "539999"}), "tender.regionCode"),
    "venue region unknown": (_bad(tender={"id": "t", "evaluation": {"secondaryVenues": [{"regionCode": "000000"}]}}),
                             "tender.evaluation.secondaryVenues[0].regionCode"),
    "negative amount": (_bad(awards=[{"id": "a", "value": {"amount": -5, "currency": "CNY"}}]),
                        "awards[0].value.amount"),
    "text amount": (_bad(contracts=[{"id": "c", "value": {"amount": "lots", "currency": "CNY"}}]),
                    "contracts[0].value.amount"),
    "unknown responsibility": (_bad(parties=PARTIES, tender={"id": "t", "supervisors": [
        {"id": "S", "responsibility": "lead"}]}), "tender.supervisors[0].responsibility"),
    "supervisor not a party": (_bad(tender={"id": "t", "supervisors": [{"id": "nobody"}]}), "tender.supervisors[0].id"),
    "tenderer not a party": (_bad(bids={"details": [{"id": "b", "tenderers": [{"id": "ghost"}]}]}),
                             "bids.details[0].tenderers[0].id"),
    "bad evaluation mode": (_bad(tender={"id": "t", "evaluation": {"mode": "hybrid"}}), "tender.evaluation.mode"),
    "bad number of tenderers": (_bad(tender={"id": "t", "numberOfTenderers": "three"}), "tender.numberOfTenderers"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_each_bad_input_is_rejected_with_record_and_field(case):
    obj, field = BAD[case]
    good = release(ocid="ocds-good", tender={"id": "t", "tradeType": "works"})
    result = loaded(good, obj)
    assert errors_of(result) == [("in.json#1", field)]
    assert [r.id for r in result.records] == ["ocds-good"]  # the rest still loads
    message = result.rejected[0].errors[0].error
    assert message and "Traceback" not in message


def test_nan_amount_rejected():
    # a JSON NaN literal is parsed (as float) by Python; it is no amount
    item = json.loads('{"ocid": "o", "id": "r", "date": "2026-03-01", "tender": {"id": "t", "value": {"amount": NaN}}}',
                      parse_float=str)
    result = ocds.load([("nan.json", item)])
    assert errors_of(result) == [("nan.json", "tender.value.amount")]
    assert "finite" in result.rejected[0].errors[0].error


def test_non_object_items_and_junk():
    result = load_inputs([("x.json", ".json", b'[1, "text", {"foo": 1}, {"releases": [3]}]')])
    assert errors_of(result) == [("x.json#0", "(item)"), ("x.json#1", "(item)"), ("x.json#2", "(item)"),
                                 ("x.json#3/releases[0]", "(item)")]
    assert "recordType" in result.rejected[2].errors[0].error


def test_invalid_date_message_says_why():
    result = loaded(release(date="2026-02-30"))
    assert "2026-02-30" in result.rejected[0].errors[0].error and "day is out of range" in \
        result.rejected[0].errors[0].error


def test_all_problems_of_a_record_are_reported_together():
    result = loaded(_bad(tender={"id": "t", "tradeType": "roads", "regionCode": "12"}))
    assert errors_of(result) == [("in.json#0", "tender.tradeType"), ("in.json#0", "tender.regionCode")]


def test_a_rejected_release_keeps_its_process_from_compiling():
    ok = release(ocid="ocds-p", rid="r1")
    bad = release(ocid="ocds-p", rid="r2", date="2026-13-01")
    result = loaded(ok, bad)
    assert result.records == []
    assert errors_of(result) == [("in.json#1", "date"), ("in.json#0", "ocid")]
    assert "in.json#1" in result.rejected[1].errors[0].error


def test_invalid_uscc_does_not_reject():
    party = {"id": "X", "name": "某公司", "identifier": {"scheme": "CN-USCC", "id": "91530100ma6k12345x"},
             "roles": ["tenderer"]}
    result = loaded(release(parties=[party]))
    assert result.rejected == []
    s = store_of(*result.records)
    assert one(s, "?_e prtkg:uscc ?u") == "91530100ma6k12345x"
    assert one(s, "?_p prtkg:hasParty ?e") == rdf.entity("91530100ma6k12345x").value


# ------------------------------------------------------------------ duplicates

def test_identical_duplicate_release_is_dropped_silently():
    r = release(tender={"id": "t", "title": "same"})
    result = loaded(r, copy.deepcopy(r))
    assert result.rejected == [] and len(result.records) == 1
    assert result.records[0].source == "in.json#0"


def test_different_duplicate_release_rejects_the_later_one():
    first = release(rid="r-7", tender={"id": "t", "title": "first"})
    later = release(rid="r-7", tender={"id": "t", "title": "changed"})
    result = loaded(first, later)
    assert errors_of(result) == [("in.json#1", "id")]
    assert "'r-7'" in result.rejected[0].errors[0].error
    assert one(store_of(*result.records), "?_p prtkg:title ?t") == "first"


def test_same_release_in_two_files_is_one_stage():
    data = json.dumps(release(tender={"id": "t"})).encode()
    result = load_inputs([("a.json", ".json", data), ("b.json", ".json", data)])
    assert result.rejected == [] and len(result.records) == 1


# ------------------------------------------------------------------ merge rules and schema

def test_merge_rules_come_from_shipped_schema_without_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the OCDS loader tried the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    ocds.release_schema.cache_clear()
    ocds.merger.cache_clear()
    rules = ocds.merger().merge_rules
    assert rules[("tender", "evaluation", "secondaryVenues")] == "wholeListMerge"
    assert rules[("bids", "details", "identifiers")] == "wholeListMerge"
    assert ("tender", "supervisors") not in rules  # objects with ids: identifier merge, the default
    assert rules[("id",)] == "omitWhenMerged"
    assert load_paths([PACKAGE]).records


def test_secondary_venues_are_replaced_not_appended():
    venues = lambda *codes: {"id": "t", "evaluation": {"secondaryVenues": [{"regionCode": c} for c in codes]}}
    result = loaded(release(rid="1", tender=venues("530300", "530400")),
                    release(rid="2", date="2026-03-05", tender=venues("530500")))
    assert select(store_of(*result.records), "?_e prtkg:secondaryVenue ?v . ?v prtkg:region ?r") == [
        (rdf.iri("project", "ocds-x-1", "tender", "evaluation", "venue", 1).value, rdf.CODE + "region/530500")]


def test_schema_files_are_the_official_ones():
    folder = Path(ocds.__file__).parent / "schemas" / "ocds"
    core = json.loads((folder / "release-schema.json").read_text())
    assert core["id"] == "https://standard.open-contracting.org/schema/1__1__4/release-schema.json"
    assert hashlib.sha256((folder / "release-schema.json").read_bytes()).hexdigest() == \
        "4226ea4a3016030171db667166c11ab5c22777de5f75a44aa601a610809b5696"
    schema = ocds.release_schema()
    assert "bids" in schema["properties"] and "cn" in schema["definitions"]["Bid"]["properties"]
    assert "supervisors" in schema["definitions"]["Tender"]["properties"]


# ------------------------------------------------------------------ volume

def _big_package(target_bytes: int) -> bytes:
    """A release package of copies of the fixture's process (5 releases each) under new ocids."""
    template = json.loads(PACKAGE.read_text(encoding="utf-8"))["releases"]
    group = len(json.dumps(template, ensure_ascii=False).encode())
    releases = []
    for n in range(target_bytes // group + 1):
        for r in copy.deepcopy(template):
            r["ocid"] = f"ocds-p7x2k1-bulk-{n:06d}"
            r["id"] = r["id"].replace(OCID, r["ocid"])
            releases.append(r)
    return json.dumps({"version": "1.1", "releases": releases}, ensure_ascii=False).encode()


def _load_big(megabytes: int) -> None:
    data = _big_package(megabytes * 1024 * 1024)
    assert len(data) >= megabytes * 1024 * 1024
    result = load_inputs([("big.json", ".json", data)])
    assert result.rejected == []
    assert len(result.records) == data.count(b'"tag": ["planning"]')


def test_five_megabyte_package_loads():
    _load_big(5)


# About 25-35 s here (~33,000 releases merged into ~6,600 records): kept in the default run because a
# 50 MB file is one of the inputs the foundation promises to take.
def test_fifty_megabyte_package_loads():
    _load_big(50)


def test_natural_persons_who_bid_are_persons_not_organisations():
    """Land and mining-right transfers take bids from natural persons: decided by the data, an
    identity-card-shaped identifier (hashed, never stored) or an explicit details.partyType."""
    card = "53010219800101001X"
    parties = [
        {"id": "seller", "name": "某县自然资源局", "roles": ["buyer"],
         "identifier": {"scheme": "CN-USCC", "id": "11530100015012354Q"}},
        {"id": "p1", "name": "张三", "roles": ["tenderer"], "identifier": {"scheme": "CN-RID", "id": card}},
        {"id": "p2", "name": "李四", "roles": ["tenderer"], "details": {"partyType": "自然人"},
         "identifier": {"id": "p:7f3a"}},
        {"id": "c1", "name": "某矿业有限公司", "roles": ["tenderer"], "details": {"partyType": "企业"},
         "identifier": {"scheme": "CN-USCC", "id": "915301027708123477"}},
    ]
    result = loaded(release(parties=parties, tender={"id": "t", "tradeType": "mining-right", "regionCode": "530102"}))
    assert not result.rejected
    s = store_of(*result.records)
    persons = {row[0] for row in select(s, "?p a prtkg:Person")}
    hashed = "https://w3id.org/prtkg/id/person/sha256:" + hashlib.sha256(card.encode()).hexdigest()
    assert persons == {hashed, "https://w3id.org/prtkg/id/person/p:7f3a"}
    assert not select(s, "?p a prtkg:MarketEntity FILTER(STRSTARTS(STR(?p), 'https://w3id.org/prtkg/id/person/'))")
    assert one(s, f"<{E}915301027708123477> a ?t") == rdf.PRTKG + "MarketEntity"
    # the card number itself is nowhere in the graph
    assert not [q for q in s if card in str(q.subject) + str(q.object)]
    assert one(s, f"<{hashed}> prtkg:name ?n") == "张三"


def test_the_extension_declares_party_type():
    """details.partyType, read above, is a field of prtkg's OCDS extension (added to OCDS's own
    Organization.details, which keeps its core definition), and the values it names are the
    party-type code list's, so a publisher reading the schema writes what the loader takes."""
    from prtkg import codes
    details = ocds.release_schema()["definitions"]["Organization"]["properties"]["details"]
    assert details["title"] == "Details" and "object" in details["type"]
    field = details["properties"]["partyType"]
    scheme = codes.scheme("party-type")
    for word in ("entity", "企业", "单位", "person", "个人", "自然人"):
        assert word in field["description"], word
        assert scheme.resolve(word) is not None, word
    assert scheme.resolve("个人").code == "person"
