"""The law to the letter (issue 21): each point at its boundary -- the day before, on and after the
last day, with a holiday in the way (2026: National Day Oct 1-7, Oct 8 the first working day, Sat
Oct 10 worked; May Day May 1-5; Spring Festival Feb 15-23) and thresholds at -1/0/+1.

- 民法典 第二百零三条: a period "within N days" whose last day is a rest day ends on the next working
  day, in the shapes (both validation paths) and the engine; minimum periods only by policy.
- One applicability decision per rule: Chinese jurisdiction, tenders only, must-tender thresholds.
- GP-CLARIFY-15D; complaint suspensions; INS-PUBLISH-20WD from the day the result is produced.
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
ART_203 = "民法典 第二百零三条"


def base(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}-base.json").read_text(encoding="utf-8"))


def t(day: str) -> str:
    return f"{day}T10:00:00+08:00"


def run(tmp_path, items, as_of=AS_OF, expect_rejected=False):
    path = tmp_path / "input.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    result = check([path], reference=None, as_of=as_of)
    if not expect_rejected:
        assert not result.loaded.rejected, result.loaded.rejected
    return result


def of(findings, rule):
    return [f for f in findings if f.rule == rule]


def insufficient(findings, record):
    hits = [f for f in findings if f.rule == "DATA-INSUFFICIENT" and f.record == record]
    return hits[0].evidence["byRule"] if hits else {}


def works_awarded(award: str, signed: str | None) -> dict:
    rec = base("works")
    rec["awards"][0]["date"] = t(award)
    if signed is None:
        del rec["contracts"]
    else:
        rec["contracts"][0]["dateSigned"] = t(signed)
    return rec


# -- 民法典 第二百零三条: "within N days" ends on a working day ----------------------------------------

@pytest.mark.parametrize("signed, evidence", [
    ("2026-09-30", None),                                      # day 29
    ("2026-10-01", None),                                      # day 30, a holiday
    ("2026-10-08", None),                                      # the first working day after it: lawful
    ("2026-10-09", {"deadline": "2026-10-08", "extendedFrom": "2026-10-01", "basis": ART_203, "days": 38}),
])
def test_bid_contract_30_days_runs_past_national_day(tmp_path, signed, evidence):
    hits = of(run(tmp_path, works_awarded("2026-09-01", signed)).findings, "BID-CONTRACT-30D")
    if evidence is None:
        assert hits == []
    else:
        assert [h.evidence for h in hits] == [{"awardId": "aw1", "awardDate": "2026-09-01", "dateSigned": signed,
                                               **evidence}]


@pytest.mark.parametrize("as_of, fires", [(dt.date(2026, 10, 8), False), (dt.date(2026, 10, 9), True)])
def test_bid_contract_not_signed_is_missed_only_after_the_extended_day(tmp_path, as_of, fires):
    hits = of(run(tmp_path, works_awarded("2026-09-01", None), as_of=as_of).findings, "BID-CONTRACT-30D")
    assert [h.evidence.get("deadline") for h in hits] == (["2026-10-08"] if fires else [])


@pytest.mark.parametrize("signed, fires", [("2026-10-10", False), ("2026-10-11", True)])
def test_an_adjusted_working_saturday_is_a_working_day(tmp_path, signed, fires):
    # Award 2026-09-10: day 30 is Sat 2026-10-10, worked by adjustment, so nothing is extended.
    hits = of(run(tmp_path, works_awarded("2026-09-10", signed)).findings, "BID-CONTRACT-30D")
    assert [h.evidence for h in hits] == ([{"awardId": "aw1", "awardDate": "2026-09-10", "dateSigned": signed,
                                            "days": 31, "deadline": "2026-10-10"}] if fires else [])


@pytest.mark.parametrize("signed, fires", [("2026-10-08", False), ("2026-10-09", True)])
def test_gp_contract_30_days_runs_past_national_day(tmp_path, signed, fires):
    rec = base("gp")
    rec["tender"]["tenderPeriod"] = {"startDate": t("2026-08-01"), "endDate": t("2026-08-25")}
    rec["tender"]["documents"][0]["datePublished"] = t("2026-08-01")
    rec["awards"][0]["date"] = t("2026-09-01")
    rec["awards"][0]["documents"][0]["datePublished"] = t("2026-09-02")
    rec["contracts"][0]["dateSigned"] = t(signed)
    rec["contracts"][0]["documents"][0]["datePublished"] = t(signed)
    hits = of(run(tmp_path, rec).findings, "GP-CONTRACT-30D")
    assert [(h.evidence["deadline"], h.evidence["extendedFrom"], h.evidence["basis"]) for h in hits] == (
        [("2026-10-08", "2026-10-01", ART_203)] if fires else [])


def publicity(report: str, start: str, end: str, award: str) -> dict:
    rec = base("works")
    rec["tender"]["evaluation"]["reportDate"] = report
    rec["tender"]["candidatePublicity"] = {"startDate": start, "endDate": end}
    rec["awards"][0]["date"] = t(award)
    rec["contracts"][0]["dateSigned"] = t(award)
    return rec


@pytest.mark.parametrize("start, fires", [("2026-09-30", False), ("2026-10-08", False), ("2026-10-09", True)])
def test_candidate_publicity_starts_within_3_days_extended(tmp_path, start, fires):
    # Report received Mon 2026-09-28: day 3 is 2026-10-01, a holiday; the first working day is Oct 8.
    end = (dt.date.fromisoformat(start) + dt.timedelta(days=3)).isoformat()
    award = (dt.date.fromisoformat(end) + dt.timedelta(days=1)).isoformat()
    hits = of(run(tmp_path, publicity("2026-09-28", start, end, award)).findings, "BID-CANDIDATE-PUBLICITY-3D")
    assert [h.evidence for h in hits] == ([{"problem": "late", "reportDate": "2026-09-28", "publicityStart": start,
                                            "days": 11, "deadline": "2026-10-08", "extendedFrom": "2026-10-01",
                                            "basis": ART_203}] if fires else [])
    if fires:
        assert "2026-10-08" in hits[0].message["zh"] or hits[0].evidence["deadline"] == "2026-10-08"


@pytest.mark.parametrize("as_of, fires", [(dt.date(2026, 10, 8), False), (dt.date(2026, 10, 9), True)])
def test_candidate_publicity_missing_only_after_the_extended_day(tmp_path, as_of, fires):
    rec = publicity("2026-09-28", "2026-10-08", "2026-10-11", "2026-10-12")
    del rec["tender"]["candidatePublicity"], rec["awards"], rec["contracts"]
    hits = of(run(tmp_path, rec, as_of=as_of).findings, "BID-CANDIDATE-PUBLICITY-3D")
    assert [h.evidence.get("problem") for h in hits] == (["missing"] if fires else [])


# -- minimum periods: policy, off by default, a warning when on ------------------------------------------

def _policy(monkeypatch, tmp_path, text: str) -> None:
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("PRTKG_PARAMS", str(path))
    catalogue.cache_clear()
    from prtkg.shapes import bulk, validate
    validate.shapes.cache_clear()
    validate.kind_shapes.cache_clear()
    bulk.compiled.cache_clear()


@pytest.fixture
def policy(monkeypatch, tmp_path):
    yield lambda text: _policy(monkeypatch, tmp_path, text)
    monkeypatch.delenv("PRTKG_PARAMS", raising=False)
    _policy(monkeypatch, tmp_path, "{}\n")
    monkeypatch.delenv("PRTKG_PARAMS", raising=False)


def bid_period(end: str) -> dict:
    # Documents issued Fri 2026-09-11: day 20 is Thu 2026-10-01, a holiday.
    rec = base("works")
    rec["tender"]["tenderPeriod"] = {"startDate": t("2026-09-11"), "endDate": t(end)}
    rec["tender"]["documents"][0]["datePublished"] = t("2026-09-11")
    return rec


@pytest.mark.parametrize("end", ["2026-10-01", "2026-10-07"])
def test_a_minimum_period_ending_on_a_holiday_passes_by_default(tmp_path, end):
    assert of(run(tmp_path, bid_period(end)).findings, "BID-PERIOD-20D") == []


@pytest.mark.parametrize("end, severity", [("2026-09-30", "violation"), ("2026-10-01", "warning"),
                                           ("2026-10-07", "warning"), ("2026-10-08", None)])
def test_the_minimum_period_policy_warns_on_the_contested_reading(tmp_path, policy, end, severity):
    policy("BID-PERIOD-20D: {extend_minimum_on_rest_day: true}\n")
    hits = of(run(tmp_path, bid_period(end)).findings, "BID-PERIOD-20D")
    assert [h.severity for h in hits] == ([severity] if severity else [])
    if severity == "warning":
        assert hits[0].evidence == {"problem": "rest-day", "tenderPeriodStart": "2026-09-11", "tenderPeriodEnd": end,
                                    "days": (dt.date.fromisoformat(end) - dt.date(2026, 9, 11)).days,
                                    "deadline": "2026-10-08", "extendedFrom": "2026-10-01", "basis": ART_203}
        assert "contested" in hits[0].message["en"]
    if severity == "violation":
        assert hits[0].evidence["problem"] == "short"


def test_the_minimum_period_policy_on_a_sunday(tmp_path, policy):
    # Documents issued Mon 2026-03-09: day 20 is Sun 2026-03-29, the next working day Mon 03-30.
    policy("GP-PERIOD-20D: {extend_minimum_on_rest_day: true}\n")
    rec = base("gp")
    rec["tender"]["tenderPeriod"] = {"startDate": t("2026-03-09"), "endDate": t("2026-03-29")}
    rec["tender"]["documents"][0]["datePublished"] = t("2026-03-09")
    hits = of(run(tmp_path, rec).findings, "GP-PERIOD-20D")
    assert [(h.severity, h.evidence["deadline"], h.evidence["extendedFrom"]) for h in hits] == [
        ("warning", "2026-03-30", "2026-03-29")]


# -- engine: clue feedback (May Day), plan summary, sanction measures (Spring Festival) ------------------

def clue(transfer: str, feedback: str | None) -> dict:
    rec = {"recordType": "clue", "id": "cl-1", "subject": "91530100MA6K123497", "source": "举报",
           "receivedDate": transfer, "transfers": [{"to": "12530000MB12345624", "date": transfer}]}
    if feedback:
        rec["transfers"][0]["feedbackDate"] = feedback
    return rec


@pytest.mark.parametrize("feedback, fires", [("2026-05-01", False), ("2026-05-06", False), ("2026-05-07", True)])
def test_clue_feedback_30_days_runs_past_may_day(tmp_path, feedback, fires):
    # Transferred 2026-04-02: day 30 is Sat 2026-05-02, in the May Day holiday; Wed 05-06 is the first working day.
    hits = of(run(tmp_path, [clue("2026-04-02", feedback)]).findings, "CLU-FEEDBACK")
    assert [h.evidence for h in hits] == ([{"transferredTo": "12530000MB12345624", "transferDate": "2026-04-02",
                                            "due": "2026-05-06", "feedbackDate": feedback,
                                            "extendedFrom": "2026-05-02", "basis": ART_203}] if fires else [])


def test_clue_feedback_deadline_in_an_unknown_year_is_insufficient(tmp_path):
    found = run(tmp_path, [clue("2031-04-02", None)], as_of=dt.date(2031, 6, 1)).findings
    assert of(found, "CLU-FEEDBACK") == []
    assert insufficient(found, "cl-1") == {"CLU-FEEDBACK": ["working-day calendar 2031"]}


def test_every_calendar_day_deadline_of_the_catalogue_cites_art_203():
    """Each "within N days" parameter (period: within) belongs to a rule that cites art. 203, so
    neither the shapes nor the engine can leave one unextended; minimum periods carry the policy."""
    for rule in catalogue().values():
        kinds = {spec.get("period") for spec in rule.params.values()}
        if kinds & {"within", "minimum"}:
            assert rule.param("extension_basis") == ART_203, rule.id
        if "minimum" in kinds:
            spec = rule.params["extend_minimum_on_rest_day"]
            assert spec["value"] is False and spec["policy"] is True, rule.id
    within = {r.id for r in catalogue().values() if any(s.get("period") == "within" for s in r.params.values())}
    assert within == {"BID-CANDIDATE-PUBLICITY-3D", "BID-CONTRACT-30D", "GP-CONTRACT-30D", "CLU-FEEDBACK",
                      "PLN-SUMMARY-MISSING", "CRD-MEASURE-NOT-EXECUTED"}


# -- applicability: jurisdiction, tenders only, must-tender thresholds -------------------------------------

def test_a_direct_award_is_not_a_tender(tmp_path):
    rec = base("works")
    rec["tender"]["procurementMethod"] = "direct"
    rec["bids"]["details"] = rec["bids"]["details"][:1]
    del rec["tender"]["candidatePublicity"], rec["tender"]["evaluation"]
    found = run(tmp_path, rec).findings
    for rule in ("BID-MIN-3-BIDDERS", "BID-CANDIDATE-PUBLICITY-3D", "BID-PERIOD-20D", "BID-CONTRACT-30D"):
        assert of(found, rule) == [], rule
    assert of(found, "BID-MUST-TENDER")          # 5,000,000 CNY of works had to be tendered


@pytest.mark.parametrize("amount, fires", [(3999999, False), (4000000, True), (4000001, True)])
def test_a_voluntary_tender_below_the_threshold_is_not_held_to_the_20_days(tmp_path, amount, fires):
    rec = base("works")
    rec["tender"]["value"]["amount"] = amount
    rec["tender"]["tenderPeriod"]["endDate"] = t("2026-03-21")       # 19 days
    found = run(tmp_path, rec).findings
    assert [h.evidence["days"] for h in of(found, "BID-PERIOD-20D")] == ([19] if fires else [])
    assert "BID-PERIOD-20D" not in insufficient(found, "ocds-p7x2k1-shp-works")


def test_a_voluntary_tender_is_still_held_to_what_binds_every_tender(tmp_path):
    # Bidding Law arts. 23, 28, 46 bind every tender, not only those that must be tendered.
    rec = base("works")
    rec["tender"]["value"]["amount"] = 100000
    rec["bids"]["details"] = rec["bids"]["details"][:2]
    found = run(tmp_path, rec).findings
    assert [h.evidence["bids"] for h in of(found, "BID-MIN-3-BIDDERS")] == [2]


def test_unknown_value_assumes_mandatory_tendering_and_says_so(tmp_path):
    rec = base("works")
    del rec["tender"]["value"]
    rec["tender"]["tenderPeriod"]["endDate"] = t("2026-03-21")
    found = run(tmp_path, rec).findings
    hits = of(found, "BID-PERIOD-20D")
    assert [(h.evidence["mustTender"], h.evidence["mustTenderUnknown"]) for h in hits] == [
        ("assumed", ["tender.value"])]


def test_foreign_data_is_out_of_jurisdiction_and_listed_once(tmp_path):
    rec = base("works")
    for key in ("tradeType", "industry", "regionCode", "evaluation", "candidatePublicity"):
        rec["tender"].pop(key, None)
    rec["parties"] = [p for p in rec["parties"] if "supervisor" not in p["roles"]]
    del rec["tender"]["documents"], rec["awards"][0]["documents"]
    found = run(tmp_path, rec).findings
    for rule in ("DIS-TENDER-NOTICE", "DIS-RESULT-NOTICE", "BID-PERIOD-20D", "SUP-PROJECT-UNSUPERVISED"):
        assert of(found, rule) == [], rule
    ins = [f for f in found if f.rule == "DATA-INSUFFICIENT" and f.record == "ocds-p7x2k1-shp-works"]
    assert len(ins) == 1
    assert ins[0].evidence["byRule"]["DIS-RESULT-NOTICE"] == ["tender.regionCode", "tender.tradeType"]
    assert ins[0].evidence["byRule"]["DIS-TENDER-NOTICE"] == ["tender.regionCode", "tender.tradeType"]
    assert "RISK-SINGLE-BIDDER" not in ins[0].evidence["byRule"]


# -- GP-CLARIFY-15D (MOF Order 87 art. 27) -----------------------------------------------------------

@pytest.mark.parametrize("amended, fires", [("2026-09-07", True), ("2026-09-06", False), ("2026-09-05", False)])
def test_gp_clarify_15_days(tmp_path, amended, fires):
    rec = base("gp")
    rec["tender"]["amendments"] = [{"id": "am1", "date": t(amended), "description": "澄清"}]
    hits = of(run(tmp_path, rec).findings, "GP-CLARIFY-15D")
    assert [h.evidence for h in hits] == ([{"amendmentDate": amended, "tenderPeriodEnd": "2026-09-21", "days": 14}]
                                          if fires else [])
    if fires:
        assert hits[0].basis.endswith("第二十七条") and "fewer than 15" in hits[0].message["en"]


def test_gp_clarify_not_for_competitive_negotiation(tmp_path):
    rec = base("gp")
    rec["tender"]["procurementMethod"] = "limited"
    rec["tender"]["amendments"] = [{"id": "am1", "date": t("2026-09-18"), "description": "澄清"}]
    assert of(run(tmp_path, rec).findings, "GP-CLARIFY-15D") == []


# -- complaint suspensions; inspection results from the day they are produced ----------------------------

def complaint(**fields) -> dict:
    return {"recordType": "complaint", "id": "cmp-1", "project": "ocds-p7x2k1-shp-works",
            "complainant": "91530100MA6K123497", "handler": "12530000MB12345624", **fields}


@pytest.mark.parametrize("trade, start, suspensions, working_days", [
    # works: 30 WD from acceptance on 2026-09-30: day 30 is Nov 17; decided Nov 18 is day 31
    ("works", "2026-09-30", [], 31),
    ("works", "2026-09-30", [{"from": "2026-10-31", "to": "2026-11-02", "reason": "testing"}], None),  # Sat-Mon: 1 WD
    ("works", "2026-09-30", [{"from": "2026-10-31", "to": "2026-11-01", "reason": "expert-review"}], 31),  # a weekend
    ("works", "2026-09-30", [{"from": "2026-11-02", "to": "2026-11-02", "reason": "supplementing-documents"}], 31),
    # procurement: from receipt on 2026-09-29: decided Nov 18 is day 32; supplementing documents count out
    ("government-procurement", "2026-09-29",
     [{"from": "2026-11-02", "to": "2026-11-03", "reason": "supplementing-documents"}], None),
    ("government-procurement", "2026-09-29",
     [{"from": "2026-11-02", "to": "2026-11-02", "reason": "supplementing-documents"}], 31),
])
def test_cmp_decide_leaves_out_what_the_law_does_not_count(tmp_path, trade, start, suspensions, working_days):
    rec = complaint(tradeType=trade, receivedDate="2026-09-29", acceptedDate="2026-09-30",
                    decisionDate="2026-11-18", suspensions=suspensions)
    hits = of(run(tmp_path, [rec]).findings, "CMP-DECIDE-30WD")
    assert [h.evidence["workingDays"] for h in hits] == ([working_days] if working_days else [])
    if hits and suspensions and hits[0].evidence["workingDays"] == 31 and trade != "works":
        assert hits[0].evidence["suspendedWorkingDays"] == 1


def test_a_running_suspension_stops_the_clock_until_the_as_of_day(tmp_path):
    rec = complaint(tradeType="works", receivedDate="2026-09-29", acceptedDate="2026-09-30",
                    suspensions=[{"from": "2026-11-10", "reason": "appraisal"}])
    assert of(run(tmp_path, [rec], as_of=dt.date(2026, 11, 25)).findings, "CMP-DECIDE-30WD") == []
    rec["suspensions"] = []
    assert of(run(tmp_path, [rec], as_of=dt.date(2026, 11, 25)).findings, "CMP-DECIDE-30WD")


@pytest.mark.parametrize("suspensions, field, needle", [
    ([{"from": "2026-09-01", "to": "2026-09-02", "reason": "testing"}], "suspensions[0].from", "before the complaint"),
    ([{"from": "2026-10-09", "to": "2026-10-08", "reason": "testing"}], "suspensions[0].to", "before its start"),
    ([{"from": "2026-11-17", "to": "2026-11-20", "reason": "testing"}], "suspensions[0].to", "decision"),
    ([{"from": "2026-10-09", "to": "2026-10-12", "reason": "testing"},
      {"from": "2026-10-12", "to": "2026-10-13", "reason": "appraisal"}], "suspensions[1]", "overlaps suspensions[0]"),
    ([{"from": "2026-10-09", "reason": "holiday"}], "suspensions[0].reason", "not one of"),
])
def test_bad_suspensions_are_rejected_naming_the_field(tmp_path, suspensions, field, needle):
    rec = complaint(tradeType="works", receivedDate="2026-09-29", acceptedDate="2026-09-30",
                    decisionDate="2026-11-18", suspensions=suspensions)
    result = run(tmp_path, [rec], expect_rejected=True)
    errors = [e for r in result.loaded.rejected for e in r.errors]
    assert any(e.field == field and needle in e.error for e in errors), errors


@pytest.mark.parametrize("published, working_days", [("2026-03-16", None), ("2026-03-17", 21)])
def test_ins_publish_counts_from_the_result_date(tmp_path, published, working_days):
    # Inspected 2026-01-20, result produced Tue 2026-02-10: day 20 is Mon 2026-03-16 (Spring Festival between).
    rec = {"recordType": "inspection", "id": "ins-1", "target": "91530100MA6K123497",
           "departments": ["12530000MB12345624"], "date": "2026-01-20", "resultDate": "2026-02-10",
           "resultPublishedDate": published}
    hits = of(run(tmp_path, [rec]).findings, "INS-PUBLISH-20WD")
    assert [h.evidence for h in hits] == ([] if working_days is None else [{
        "problem": "late", "inspectionDate": "2026-01-20", "resultDate": "2026-02-10",
        "resultPublishedDate": published, "workingDays": working_days}])


# -- both validation paths agree on these boundaries --------------------------------------------------------

def test_bulk_and_per_record_agree_on_the_extended_deadlines(tmp_path, monkeypatch):
    from prtkg import shapes
    records = []
    for i, signed in enumerate(["2026-10-08", "2026-10-09", "2026-10-11"]):
        rec = works_awarded("2026-09-01" if i < 2 else "2026-09-10", signed)
        rec["ocid"] = f"ocds-p7x2k1-law-{i}"
        records.append(rec)
    for i, start in enumerate(["2026-10-08", "2026-10-09"]):
        rec = publicity("2026-09-28", start, "2026-10-12", "2026-10-13")
        rec["ocid"] = f"ocds-p7x2k1-law-p{i}"
        records.append(rec)
    for i, amount in enumerate([3999999, 4000000]):
        rec = copy.deepcopy(bid_period("2026-09-30"))
        rec["tender"]["value"]["amount"] = amount
        rec["ocid"] = f"ocds-p7x2k1-law-v{i}"
        records.append(rec)
    for i, (trade, suspensions) in enumerate([
            ("works", [{"from": "2026-10-31", "to": "2026-11-02", "reason": "testing"}]),
            ("works", []),
            ("works", [{"from": "2026-11-02", "to": "2026-11-02", "reason": "supplementing-documents"}]),
            ("government-procurement", [{"from": "2026-11-02", "to": "2026-11-02", "reason": "supplementing-documents"}]),
            ("government-procurement", [{"from": "2026-11-02", "reason": "appraisal"}])]):
        rec = complaint(tradeType=trade, receivedDate="2026-09-29", acceptedDate="2026-09-30",
                        suspensions=suspensions, **({"decisionDate": "2026-11-18"} if i < 4 else {}))
        rec["id"] = f"cmp-{i}"
        records.append(rec)
    # a complaint about a project, whose trade type comes from the project
    records.append({**complaint(receivedDate="2026-09-29", acceptedDate="2026-09-30", decisionDate="2026-11-18"),
                    "id": "cmp-p", "project": "ocds-p7x2k1-law-0"})

    def findings(threshold):
        monkeypatch.setattr(shapes, "BULK_MIN_RECORDS", threshold)
        found = run(tmp_path, records).findings
        return sorted((f.rule, f.record, f.severity, json.dumps(f.evidence, sort_keys=True, ensure_ascii=False))
                      for f in found)

    per_record, bulk = findings(10 ** 6), findings(1)
    assert per_record == bulk
    assert any(r[0] == "BID-CONTRACT-30D" and "extendedFrom" in r[3] for r in bulk)
    decided = {(r[1], json.loads(r[3])["workingDays"]) for r in bulk if r[0] == "CMP-DECIDE-30WD"}
    assert decided == {("cmp-1", 31), ("cmp-2", 31), ("cmp-3", 31), ("cmp-p", 31)}


def test_works_result_notice_binds_tenders_of_must_tender_projects_only(tmp_path):
    rec = base("works")
    del rec["awards"][0]["documents"]
    assert of(run(tmp_path, rec).findings, "DIS-RESULT-NOTICE")                     # a tender of 5,000,000
    direct = copy.deepcopy(rec)
    direct["tender"]["procurementMethod"] = "direct"
    assert of(run(tmp_path, direct).findings, "DIS-RESULT-NOTICE") == []
    voluntary = copy.deepcopy(rec)
    voluntary["tender"]["value"]["amount"] = 3999999
    assert of(run(tmp_path, voluntary).findings, "DIS-RESULT-NOTICE") == []
    gp = base("gp")
    gp["tender"]["procurementMethod"] = "limited"
    del gp["awards"][0]["documents"]
    assert of(run(tmp_path, gp).findings, "DIS-RESULT-NOTICE")                      # every GP award
