"""SHACL shapes: each rule at its boundary, through the whole pipeline (prtkg.app.checking.check).

The fixtures are two clean records (tests/fixtures/shapes/works-base.json, gp-base.json) that no
shape rule fires on; each case changes the one field at the rule's boundary.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from prtkg.catalogue import catalogue
from prtkg.app.checking import check

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
AS_OF = dt.date(2026, 11, 25)
SHAPE_RULES = [r.id for r in catalogue().values() if r.is_shape]


def base(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}-base.json").read_text(encoding="utf-8"))


def run(tmp_path, items, as_of=AS_OF):
    path = tmp_path / "input.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    result = check([path], reference=None, as_of=as_of)
    assert not result.loaded.rejected, result.loaded.rejected
    return result.findings


def of(findings, rule):
    return [f for f in findings if f.rule == rule]


def t(day: str) -> str:
    return f"{day}T10:00:00+08:00"


@pytest.mark.parametrize("name", ["works", "gp"])
def test_clean_fixtures_raise_nothing(tmp_path, name):
    found = run(tmp_path, base(name))
    assert [(f.rule, f.evidence) for f in found if f.rule in SHAPE_RULES] == []


# -- works ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("end, fires", [("2026-03-21", True), ("2026-03-22", False), ("2026-03-23", False)])
def test_bid_period_20_days(tmp_path, end, fires):
    rec = base("works")
    rec["tender"]["tenderPeriod"]["endDate"] = t(end)
    hits = of(run(tmp_path, rec), "BID-PERIOD-20D")
    if fires:
        assert [(h.record, h.evidence) for h in hits] == [("ocds-p7x2k1-shp-works", {
            "problem": "short", "tenderPeriodStart": "2026-03-02", "tenderPeriodEnd": end, "days": 19})]
        assert "fewer than 20" in hits[0].message["en"] and hits[0].severity == "violation"
        assert hits[0].focus.endswith("/project/ocds-p7x2k1-shp-works/tender")
    else:
        assert hits == []


@pytest.mark.parametrize("amended, fires", [("2026-03-08", True), ("2026-03-07", False), ("2026-03-06", False)])
def test_bid_clarify_15_days(tmp_path, amended, fires):
    rec = base("works")
    rec["tender"]["amendments"] = [{"id": "am1", "date": t(amended), "description": "clarification"}]
    hits = of(run(tmp_path, rec), "BID-CLARIFY-15D")
    assert [h.evidence for h in hits] == ([{"amendmentDate": amended, "tenderPeriodEnd": "2026-03-22", "days": 14}]
                                          if fires else [])


@pytest.mark.parametrize("bids, fires", [(2, True), (3, False)])
def test_bid_min_3_bidders(tmp_path, bids, fires):
    rec = base("works")
    rec["bids"]["details"] = rec["bids"]["details"][:bids]
    hits = of(run(tmp_path, rec), "BID-MIN-3-BIDDERS")
    assert [h.evidence for h in hits] == ([{"awardId": "aw1", "awardDate": "2026-03-30", "bids": 2}] if fires else [])


def test_withdrawn_bid_does_not_count(tmp_path):
    rec = base("works")
    rec["bids"]["details"][2]["status"] = "withdrawn"
    assert [h.evidence["bids"] for h in of(run(tmp_path, rec), "BID-MIN-3-BIDDERS")] == [2]


@pytest.mark.parametrize("start, end, award, problem", [
    ("2026-03-27", "2026-03-30", "2026-03-31", "late"),          # 4 days after the report of 03-23
    ("2026-03-26", "2026-03-29", "2026-03-30", None),            # day 3: in time
    ("2026-03-24", "2026-03-26", "2026-03-30", "short"),         # 2 days of publicity
    ("2026-03-24", "2026-03-27", "2026-03-27", "award-during-publicity"),
])
def test_bid_candidate_publicity(tmp_path, start, end, award, problem):
    rec = base("works")
    rec["tender"]["candidatePublicity"] = {"startDate": start, "endDate": end}
    rec["awards"][0]["date"] = t(award)
    rec["contracts"][0]["dateSigned"] = t(award)
    hits = of(run(tmp_path, rec), "BID-CANDIDATE-PUBLICITY-3D")
    assert [h.evidence["problem"] for h in hits] == ([problem] if problem else [])
    if problem == "late":
        assert hits[0].evidence == {"problem": "late", "reportDate": "2026-03-23", "publicityStart": start, "days": 4,
                                    "deadline": "2026-03-26"}


def test_bid_candidate_publicity_missing_by_as_of(tmp_path):
    rec = base("works")
    del rec["tender"]["candidatePublicity"]
    del rec["awards"], rec["contracts"]
    assert of(run(tmp_path, rec, as_of=dt.date(2026, 3, 26)), "BID-CANDIDATE-PUBLICITY-3D") == []
    hits = of(run(tmp_path, rec, as_of=dt.date(2026, 3, 27)), "BID-CANDIDATE-PUBLICITY-3D")
    assert [h.evidence for h in hits] == [{"problem": "missing", "reportDate": "2026-03-23", "asOf": "2026-03-27",
                                           "deadline": "2026-03-26"}]
    assert "2026-03-27" in hits[0].message["zh"]


@pytest.mark.parametrize("signed, fires", [("2026-04-30", True), ("2026-04-29", False), ("2026-04-28", False)])
def test_bid_contract_30_days(tmp_path, signed, fires):
    rec = base("works")
    rec["contracts"][0]["dateSigned"] = t(signed)
    hits = of(run(tmp_path, rec), "BID-CONTRACT-30D")
    assert [h.evidence for h in hits] == ([{"awardId": "aw1", "awardDate": "2026-03-30", "dateSigned": signed, "days": 31,
                                            "deadline": "2026-04-29"}] if fires else [])


@pytest.mark.parametrize("as_of, fires", [(dt.date(2026, 4, 29), False), (dt.date(2026, 4, 30), True)])
def test_bid_contract_missing_is_missed_only_after_the_deadline(tmp_path, as_of, fires):
    rec = base("works")
    del rec["contracts"]
    hits = of(run(tmp_path, rec, as_of=as_of), "BID-CONTRACT-30D")
    assert [h.evidence for h in hits] == ([{"awardId": "aw1", "awardDate": "2026-03-30", "asOf": "2026-04-30", "days": 31,
                                            "deadline": "2026-04-29"}] if fires else [])


@pytest.mark.parametrize("category, amount, method, fires", [
    ("works", 3999999, "limited", False), ("works", 4000000, "limited", True), ("works", 4000001, "limited", True),
    ("works", 4000000, "open", False), ("works", 4000000, "selective", False),
    ("goods", 1999999, "direct", False), ("goods", 2000000, "direct", True),
    ("services", 999999, "limited", False), ("services", 1000000, "limited", True),
])
def test_bid_must_tender(tmp_path, category, amount, method, fires):
    rec = base("works")
    rec["tender"].update(mainProcurementCategory=category, procurementMethod=method,
                         value={"amount": amount, "currency": "CNY"})
    hits = of(run(tmp_path, rec), "BID-MUST-TENDER")
    threshold = {"works": 4000000, "goods": 2000000, "services": 1000000}[category]
    assert [h.evidence for h in hits] == ([{"category": category, "amount": amount, "currency": "CNY",
                                            "threshold": threshold, "method": method}] if fires else [])


@pytest.mark.parametrize("secondary, problems", [
    ([{"regionCode": "530300", "supervisor": "sup"}], []),
    ([{"regionCode": "530300"}], ["no-secondary-supervisor"]),
    ([], ["no-secondary-venue"]),
])
def test_remote_responsibility(tmp_path, secondary, problems):
    rec = base("works")
    rec["tender"]["evaluation"] = {"mode": "remote", "reportDate": "2026-03-23",
                                   "primaryVenue": {"regionCode": "530100", "supervisor": "sup"},
                                   "secondaryVenues": secondary}
    hits = of(run(tmp_path, rec), "REM-RESPONSIBILITY")
    assert sorted(h.evidence["problem"] for h in hits) == problems


def test_remote_primary_venue_elsewhere(tmp_path):
    rec = base("works")
    rec["tender"]["evaluation"] = {"mode": "remote", "reportDate": "2026-03-23",
                                   "primaryVenue": {"regionCode": "530300", "supervisor": "sup"},
                                   "secondaryVenues": [{"regionCode": "530100", "supervisor": "sup"}]}
    hits = of(run(tmp_path, rec), "REM-RESPONSIBILITY")
    assert [h.evidence for h in hits] == [{"problem": "primary-not-home", "venueRegion": "530300", "projectRegion": "530100"}]
    assert "曲靖市" in hits[0].message["zh"] and "530300" not in hits[0].message["zh"]   # the region by name


# -- government procurement (award 2026-09-29, National Day: Oct 1-7 off, Oct 10 a working Saturday) --

@pytest.mark.parametrize("end, fires", [("2026-09-20", True), ("2026-09-21", False), ("2026-09-22", False)])
def test_gp_period_20_days(tmp_path, end, fires):
    rec = base("gp")
    rec["tender"]["tenderPeriod"]["endDate"] = t(end)
    hits = of(run(tmp_path, rec), "GP-PERIOD-20D")
    assert [h.evidence for h in hits] == ([{"problem": "short", "tenderPeriodStart": "2026-09-01", "tenderPeriodEnd": end,
                                            "days": 19}] if fires else [])


def test_gp_period_only_for_open_tendering(tmp_path):
    rec = base("gp")
    rec["tender"]["procurementMethod"] = "limited"
    rec["tender"]["tenderPeriod"]["endDate"] = t("2026-09-05")
    assert of(run(tmp_path, rec), "GP-PERIOD-20D") == []


@pytest.mark.parametrize("published, working_days", [("2026-10-08", None), ("2026-10-09", 3)])
def test_gp_result_2_working_days_across_national_day(tmp_path, published, working_days):
    rec = base("gp")
    rec["awards"][0]["documents"][0]["datePublished"] = t(published)
    hits = of(run(tmp_path, rec), "GP-RESULT-2WD")
    assert [h.evidence for h in hits] == ([] if working_days is None else [{
        "problem": "late", "awardId": "aw1", "awardDate": "2026-09-29", "noticeDate": published, "workingDays": 3}])


@pytest.mark.parametrize("as_of, fires", [(dt.date(2026, 10, 8), False), (dt.date(2026, 10, 9), True)])
def test_gp_result_running_vs_missed(tmp_path, as_of, fires):
    rec = base("gp")
    del rec["awards"][0]["documents"], rec["contracts"]
    hits = of(run(tmp_path, rec, as_of=as_of), "GP-RESULT-2WD")
    assert [h.evidence for h in hits] == ([{"problem": "missing", "awardId": "aw1", "awardDate": "2026-09-29",
                                            "asOf": "2026-10-09", "workingDays": 3}] if fires else [])


@pytest.mark.parametrize("signed, fires", [("2026-10-30", True), ("2026-10-29", False)])
def test_gp_contract_30_days(tmp_path, signed, fires):
    rec = base("gp")
    rec["contracts"][0]["dateSigned"] = t(signed)
    rec["contracts"][0]["documents"][0]["datePublished"] = t(signed)
    hits = of(run(tmp_path, rec), "GP-CONTRACT-30D")
    assert [h.evidence for h in hits] == ([{"awardId": "aw1", "awardDate": "2026-09-29", "dateSigned": signed, "days": 31,
                                            "deadline": "2026-10-29"}] if fires else [])


@pytest.mark.parametrize("signed, published, working_days", [
    ("2026-10-09", "2026-10-12", None),     # Sat 10 (worked) is day 1, Mon 12 day 2
    ("2026-10-09", "2026-10-13", 3),
    ("2026-10-08", "2026-10-10", None),     # the deadline lands on the adjusted working Saturday
    ("2026-10-08", "2026-10-11", 3),        # the Sunday after it is already late
])
def test_gp_contract_publication_2_working_days(tmp_path, signed, published, working_days):
    rec = base("gp")
    rec["contracts"][0]["dateSigned"] = t(signed)
    rec["contracts"][0]["documents"][0]["datePublished"] = t(published)
    hits = of(run(tmp_path, rec), "GP-CONTRACT-PUB-2WD")
    assert [h.evidence for h in hits] == ([] if working_days is None else [{
        "problem": "late", "contractId": "c1", "dateSigned": signed, "publishedDate": published,
        "workingDays": working_days}])


@pytest.mark.parametrize("amount, fires", [(999999, False), (1000000, False), (1000001, True)])
def test_gp_over_budget(tmp_path, amount, fires):
    rec = base("gp")
    rec["awards"][0]["value"]["amount"] = amount
    hits = of(run(tmp_path, rec), "GP-OVER-BUDGET")
    assert [h.evidence for h in hits] == ([{"awardId": "aw1", "awardAmount": amount, "budget": 1000000,
                                            "currency": "CNY"}] if fires else [])


# -- disclosure ------------------------------------------------------------------------------------

@pytest.mark.parametrize("published, problem", [("2026-09-01", None), ("2026-08-31", None), ("2026-09-02", "late")])
def test_dis_tender_notice_late(tmp_path, published, problem):
    rec = base("gp")
    rec["tender"]["documents"][0]["datePublished"] = t(published)
    hits = of(run(tmp_path, rec), "DIS-TENDER-NOTICE")
    assert [h.evidence for h in hits] == ([] if problem is None else [
        {"problem": "late", "tenderPeriodStart": "2026-09-01", "noticeDate": published}])


@pytest.mark.parametrize("as_of, fires", [(dt.date(2026, 8, 31), False), (dt.date(2026, 9, 1), True)])
def test_dis_tender_notice_missing(tmp_path, as_of, fires):
    rec = base("gp")
    del rec["tender"]["documents"], rec["awards"], rec["contracts"]
    hits = of(run(tmp_path, rec, as_of=as_of), "DIS-TENDER-NOTICE")
    assert [h.evidence for h in hits] == ([{"problem": "missing", "tenderPeriodStart": "2026-09-01",
                                            "asOf": "2026-09-01"}] if fires else [])


def test_dis_result_notice(tmp_path):
    rec = base("works")
    del rec["awards"][0]["documents"]
    hits = of(run(tmp_path, rec), "DIS-RESULT-NOTICE")
    assert [(h.record, h.evidence) for h in hits] == [
        ("ocds-p7x2k1-shp-works", {"awardId": "aw1", "awardDate": "2026-03-30", "asOf": "2026-11-25"})]
    assert hits[0].focus.endswith("/award/aw1")


def test_dis_contract(tmp_path):
    rec = base("gp")
    del rec["contracts"][0]["documents"]
    found = run(tmp_path, rec)
    assert [h.evidence for h in of(found, "DIS-CONTRACT")] == [
        {"contractId": "c1", "dateSigned": "2026-10-09", "asOf": "2026-11-25"}]
    assert [h.evidence["problem"] for h in of(found, "GP-CONTRACT-PUB-2WD")] == ["missing"]


# -- complaints and inspections --------------------------------------------------------------------

def complaint(**fields) -> dict:
    return {"recordType": "complaint", "id": "cmp-1", "project": "ocds-p7x2k1-shp-works",
            "complainant": "91530100MA6K123497", "handler": "12530000MB12345624", **fields}


@pytest.mark.parametrize("trade, accepted, working_days", [
    ("works", "2026-10-09", None), ("works", "2026-10-10", 4),                        # 3 WD: Sep 30, Oct 8, Oct 9
    ("government-procurement", "2026-10-12", None), ("government-procurement", "2026-10-13", 6),  # 5 WD
])
def test_cmp_accept_across_national_day(tmp_path, trade, accepted, working_days):
    found = run(tmp_path, [complaint(tradeType=trade, receivedDate="2026-09-29", acceptedDate=accepted,
                                     decisionDate=accepted)])
    hits = of(found, "CMP-ACCEPT")
    limit = 3 if trade == "works" else 5
    assert [(h.record, h.evidence) for h in hits] == ([] if working_days is None else [("cmp-1", {
        "problem": "late", "tradeType": trade, "receivedDate": "2026-09-29", "decidedDate": accepted,
        "workingDays": working_days, "maxWorkingDays": limit})])


@pytest.mark.parametrize("as_of, fires", [(dt.date(2026, 11, 25), False), (dt.date(2026, 11, 26), True)])
def test_cmp_accept_running_vs_missed(tmp_path, as_of, fires):
    found = run(tmp_path, [complaint(tradeType="works", receivedDate="2026-11-20")], as_of=as_of)
    hits = of(found, "CMP-ACCEPT")
    assert [h.evidence.get("problem") for h in hits] == (["missing"] if fires else [])


def test_cmp_trade_type_from_the_project_else_insufficient(tmp_path):
    rec = base("works")
    found = run(tmp_path, [rec, complaint(receivedDate="2026-09-29", acceptedDate="2026-10-10")])
    assert [h.evidence["tradeType"] for h in of(found, "CMP-ACCEPT")] == ["works"]
    found = run(tmp_path, [complaint(receivedDate="2026-09-29", acceptedDate="2026-10-10")])
    assert of(found, "CMP-ACCEPT") == []
    ins = [f for f in of(found, "DATA-INSUFFICIENT") if f.record == "cmp-1"]
    assert ins and ins[0].evidence["byRule"]["CMP-ACCEPT"] == ["tradeType"]


@pytest.mark.parametrize("trade, decided, working_days", [
    # works: 30 WD from acceptance on 2026-09-30 (Oct 8 is day 1, Sat Oct 10 worked): day 30 is Nov 17
    ("works", "2026-11-17", None), ("works", "2026-11-18", 31),
    # procurement: 30 WD from receipt on 2026-09-29 (Sep 30 is day 1): day 30 is Nov 16
    ("government-procurement", "2026-11-16", None), ("government-procurement", "2026-11-17", 31),
])
def test_cmp_decide_30_working_days(tmp_path, trade, decided, working_days):
    found = run(tmp_path, [complaint(tradeType=trade, receivedDate="2026-09-29", acceptedDate="2026-09-30",
                                     decisionDate=decided)])
    hits = of(found, "CMP-DECIDE-30WD")
    start = "2026-09-30" if trade == "works" else "2026-09-29"
    assert [h.evidence for h in hits] == ([] if working_days is None else [{
        "problem": "late", "tradeType": trade, "startDate": start, "decisionDate": decided,
        "workingDays": working_days}])


def test_cmp_decide_not_needed_when_refused(tmp_path):
    found = run(tmp_path, [complaint(tradeType="works", receivedDate="2026-01-05", rejectedDate="2026-01-06")])
    assert of(found, "CMP-DECIDE-30WD") == []


def inspection(**fields) -> dict:
    return {"recordType": "inspection", "id": "ins-1", "target": "91530100MA6K123497",
            "departments": ["12530000MB12345624"], **fields}


@pytest.mark.parametrize("published, working_days", [("2026-03-16", None), ("2026-03-17", 21)])
def test_ins_publish_20_working_days_across_spring_festival(tmp_path, published, working_days):
    # From Tue 2026-02-10: Feb 11-14 (Sat 14 worked) are days 1-4, Feb 15-23 off, Feb 28 (Sat) worked,
    # so day 20 is Mon 2026-03-16.
    found = run(tmp_path, [inspection(date="2026-02-10", resultPublishedDate=published)])
    hits = of(found, "INS-PUBLISH-20WD")
    assert [h.evidence for h in hits] == ([] if working_days is None else [{
        "problem": "late", "inspectionDate": "2026-02-10", "resultDate": "2026-02-10", "resultPublishedDate": published,
        "workingDays": 21}])


def test_unknown_calendar_year_is_insufficient_not_guessed(tmp_path):
    found = run(tmp_path, [inspection(date="2031-02-10")], as_of=dt.date(2031, 6, 1))
    assert of(found, "INS-PUBLISH-20WD") == []
    ins = [f for f in of(found, "DATA-INSUFFICIENT") if f.record == "ins-1"]
    assert ins[0].evidence["byRule"] == {"INS-PUBLISH-20WD": ["working-day calendar 2031"]}


# -- credit codes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, problem", [
    ("91530100MA6K123497", None),
    ("91530100MA6K12349", "length"),
    ("91530100MA6K1234I7", "charset"),
    ("91530100MA6K1234X7", "org-check"),
    ("91530100MA6K123498", "check"),
])
def test_crd_code_invalid_matches_the_uscc_validator(tmp_path, code, problem):
    from prtkg import uscc
    found = run(tmp_path, [inspection(date="2026-02-10", resultPublishedDate="2026-02-11", target=code)])
    hits = [h for h in of(found, "CRD-CODE-INVALID") if h.evidence["code"] == code]
    assert [h.evidence for h in hits] == ([] if problem is None else [{"code": code, "problem": problem}])
    if problem:
        assert uscc.problem(code).kind == problem
        assert uscc.problem(code).message_zh in hits[0].message["zh"]


# -- real OCDS without our extension -----------------------------------------------------------------

def test_plain_ocds_gets_data_insufficient_and_nothing_else_from_gated_rules(tmp_path):
    result = check([FIXTURES / "plain-ocds.json"], reference=None, as_of=AS_OF)
    gated = {"BID-PERIOD-20D", "BID-CLARIFY-15D", "BID-MIN-3-BIDDERS", "BID-CANDIDATE-PUBLICITY-3D",
             "BID-CONTRACT-30D", "BID-MUST-TENDER", "GP-PERIOD-20D", "GP-RESULT-2WD", "GP-CONTRACT-30D",
             "GP-CONTRACT-PUB-2WD", "GP-OVER-BUDGET", "DIS-CONTRACT"}
    assert [f.rule for f in result.findings if f.rule in gated] == []
    ins = [f for f in result.findings if f.rule == "DATA-INSUFFICIENT" and f.record == "ocds-plain-0001"]
    assert len(ins) == 1 and {"BID-PERIOD-20D", "GP-PERIOD-20D"} <= set(ins[0].evidence["rules"])


# -- the shapes and the catalogue stay in step ----------------------------------------------------------

def test_every_shape_rule_has_a_shape_and_its_parameters_are_injected():
    from prtkg.shapes import validate
    graph, info = validate.shapes()
    assert {m.rule for m in info.values() if not m.insufficient} == set(SHAPE_RULES)
    text = "\n".join(str(o) for o in graph.objects(None, validate.SH.select))
    assert "{{" not in text


def test_demo_fires_every_shape_rule(demo_check):
    from prtkg.app.checking import bundled
    if not any(bundled("demo").iterdir()):
        pytest.skip("no demo data bundled yet")
    assert demo_check.as_of == dt.date(2026, 11, 25)    # the session's check of the demo (conftest.py)
    fired = {f.rule for f in demo_check.findings}
    assert set(SHAPE_RULES) <= fired, sorted(set(SHAPE_RULES) - fired)
