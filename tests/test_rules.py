"""Each engine rule on its boundary: one fixture record just inside (fires), one just outside (does not).

Fixtures: tests/fixtures/rules/ (written by make_fixtures.py there), checked together with no bundled
reference data, 'today' = 2026-11-25.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from prtkg.app import checking
HERE = Path(__file__).parent / "fixtures" / "rules"
AS_OF = dt.date(2026, 11, 25)


_CODES = yaml.safe_load((HERE / "codes.yaml").read_text(encoding="utf-8"))
D, E = _CODES["departments"], _CODES["entities"]


@pytest.fixture(scope="module")
def found():
    result = checking.check([HERE / n for n in ("powers-small.csv", "credit.csv", "ocds.json", "events.json")],
                            reference=None, as_of=AS_OF)
    assert not result.loaded.rejected
    return result.findings


def of(found, rule, record=None):
    return [f for f in found if f.rule == rule and (record is None or f.record == record)]


def one(found, rule, record):
    hits = of(found, rule, record)
    assert len(hits) == 1, f"{rule} on {record}: {[(f.record, f.evidence) for f in of(found, rule)]}"
    return hits[0]


# -- supervision ---------------------------------------------------------------------------------

def test_overlap_names_both_departments_rows_and_matter(found):
    f = one(found, "SUP-OVERLAP", "powers-small.csv#1")
    ev = f.evidence
    assert (ev["departmentA"], ev["departmentB"]) == (D["A"], D["B"])
    assert (ev["rowA"], ev["rowB"]) == ("powers-small.csv#1", "powers-small.csv#2")
    assert ev["powerKind"] == "administrative-penalty" and ev["region"] == "530000"
    assert ev["matters"] == [{"tradeType": "works", "industry": "housing-municipal", "stage": "tender"}]
    assert "省住建厅" in f.message["zh"] and "省水利厅" in f.message["zh"]
    # each row is named by its own power name and 权力编码
    assert (ev["powerCodeA"], ev["powerCodeB"]) == ("A-CF", "B-CF")
    assert "省住建厅行政处罚（A-CF）" in f.message["zh"] and "省水利厅行政处罚（B-CF）" in f.message["en"]


def test_lead_clears_overlap(found):
    rows = {(f.evidence["rowA"], f.evidence["rowB"]) for f in of(found, "SUP-OVERLAP")}
    assert ("powers-small.csv#3", "powers-small.csv#4") not in rows
    assert all("powers-small.csv#3" not in pair and "powers-small.csv#4" not in pair for pair in rows)


def test_gap_names_uncovered_matter(found):
    gaps = {(f.evidence["tradeType"], f.evidence["industry"], stage, f.evidence["region"])
            for f in of(found, "SUP-GAP") for stage in f.evidence["stages"]}
    # one finding per (trade type, industry, region), naming its stages
    cells = [(f.evidence["tradeType"], f.evidence["industry"], f.evidence["region"]) for f in of(found, "SUP-GAP")]
    assert len(cells) == len(set(cells))
    water = [f for f in of(found, "SUP-GAP") if f.evidence["industry"] == "water"]
    assert "水利" in water[0].message["zh"] and "招标" in water[0].message["zh"]
    assert ("works", "water", "tender", "530000") in gaps
    assert ("works", "housing-municipal", "tender", "530000") not in gaps       # rows 1, 2, 8
    assert ("government-procurement", None, "contract", "530000") not in gaps    # row 7, 全过程
    assert ("other", None, "tender", "530000") in gaps                             # every trade type, `other` too


def test_separation_flags_enforcement_power_of_trading_centre_only(found):
    f = one(found, "SUP-SEPARATION", "powers-small.csv#5")
    assert f.evidence["departmentType"] == "trading-centre"
    assert f.evidence["powerKind"] == "administrative-inspection"
    assert f.evidence["powerCode"] == "T-JC" and "省交易中心行政检查（T-JC）" in f.message["zh"]
    assert not of(found, "SUP-SEPARATION", "powers-small.csv#6")                # 其他: a service


def test_list_incomplete_names_missing_part(found):
    f = one(found, "SUP-LIST-INCOMPLETE", "powers-small.csv#7")
    assert f.evidence["missing"] == ["追责情形/accountability"]
    assert (f.evidence["powerCode"], f.evidence["powerName"]) == ("F-CF", "省财政厅行政处罚")
    assert "省财政厅行政处罚（F-CF）" in f.message["zh"]
    assert len(of(found, "SUP-LIST-INCOMPLETE")) == 1


def test_project_unsupervised(found):
    f = one(found, "SUP-PROJECT-UNSUPERVISED", "ocds-sup-wrong")               # A holds no water works power
    assert f.evidence["industry"] == "water" and f.evidence["given"] == 1
    assert not of(found, "SUP-PROJECT-UNSUPERVISED", "ocds-sup-ok")              # province power covers 530100
    assert not of(found, "SUP-PROJECT-UNSUPERVISED", "ocds-sup-derivable")       # none given, C/D hold transport


# -- credit --------------------------------------------------------------------------------------

def test_restricted_bid_on_first_day_not_day_before(found):
    f = one(found, "CRD-RESTRICTED-BID", "ocds-crd-bid-first")
    assert f.evidence["entity"] == E["X"] and f.evidence["bidDate"] == "2026-03-01"
    assert f.evidence["creditRecord"] == "CR-X-1" and f.evidence["validFrom"] == "2026-03-01"
    assert f.focus.endswith("/ocds-crd-bid-first/bid/b1")
    assert not of(found, "CRD-RESTRICTED-BID", "ocds-crd-bid-before")
    assert not of(found, "CRD-RESTRICTED-BID", "ocds-crd-bid-gp")                # restriction covers works only
    assert not of(found, "CRD-RESTRICTED-BID", "ocds-crd-penalty-only")          # not serious dishonesty


def test_restricted_award_on_last_day_not_day_after(found):
    f = one(found, "CRD-RESTRICTED-AWARD", "ocds-crd-award-last")
    assert f.evidence["awardDate"] == "2026-06-30" and f.evidence["validUntil"] == "2026-06-30"
    assert not of(found, "CRD-RESTRICTED-AWARD", "ocds-crd-award-after")


def test_measure_not_executed_day_31_not_day_30(found):
    hits = of(found, "CRD-MEASURE-NOT-EXECUTED", "CR-X-1")
    assert [f.evidence["measure"] for f in hits] == ["bid-restriction"]          # public-disclosure on day 30 is in time
    ev = hits[0].evidence
    assert ev["due"] == "2026-03-31" and ev["executed"] == "2026-04-01" and D["A"] in ev["responsible"]


# -- inspections and plans -------------------------------------------------------------------------

def test_inspection_repeat_same_quarter_only(found):
    f = one(found, "INS-REPEAT", "IN-P-2")
    assert f.evidence == {"target": E["P"], "period": "2026-Q1", "inspections": ["IN-P-1", "IN-P-2"],
                          "departments": sorted([D["A"], D["B"]])}
    targets = {f.evidence["target"] for f in of(found, "INS-REPEAT")}
    assert E["Q"] not in targets        # 2026-03-31 and 2026-04-01: two quarters
    assert E["R"] not in targets        # one joint inspection, then one by A alone


def test_no_random_draw_routine_only(found):
    f = one(found, "INS-NO-RANDOM-DRAW", "IN-P-2")
    assert f.evidence["missing"] == ["targets", "inspectors"]
    assert len(of(found, "INS-NO-RANDOM-DRAW")) == 1


def test_annual_plan_missing(found):
    missing = {(f.record, f.evidence["year"]) for f in of(found, "PLN-ANNUAL-MISSING")}
    assert (D["B"], 2026) in missing
    assert (D["A"], 2026) not in missing
    assert not any(year != 2026 for _, year in missing)
    assert D["T"] not in {r for r, _ in missing}       # a trading centre is not a supervision department


def test_plan_item_executed_on_due_day_not_after(found):
    f = one(found, "PLN-NOT-EXECUTED", "PLAN-2026")
    assert f.evidence == {"plan": "PLAN-2026", "item": "i2", "due": "2026-06-30", "firstInspection": "2026-07-01"}


def test_plan_summary_60_days(found):
    f = one(found, "PLN-SUMMARY-MISSING", "PLAN-2024")
    # Day 60 (Sat 2025-03-01) is a rest day: the period ends on Mon 2025-03-03 (民法典 art. 203).
    assert f.evidence == {"plan": "PLAN-2024", "year": 2024, "due": "2025-03-03", "summaryDate": "2025-03-04",
                          "extendedFrom": "2025-03-01", "basis": "民法典 第二百零三条"}
    assert not of(found, "PLN-SUMMARY-MISSING", "PLAN-2024-B")                    # on the extended last day
    assert not of(found, "PLN-SUMMARY-MISSING", "PLAN-2025")                      # on 2026-03-01, day 60
    assert not of(found, "PLN-SUMMARY-MISSING", "PLAN-2026")                      # still running


# -- complaints, clues, remote evaluation -----------------------------------------------------------

def test_complaint_feedback_15_working_days(found):
    f = one(found, "CMP-FEEDBACK", "CP-late")
    assert f.evidence == {"transferredTo": D["B"], "transferDate": "2026-03-02", "due": "2026-03-23",
                          "feedbackDate": "2026-03-24"}
    assert not of(found, "CMP-FEEDBACK", "CP-ok")


def test_clue_feedback_30_days(found):
    f = one(found, "CLU-FEEDBACK", "CL-late")
    assert f.evidence["due"] == "2026-03-31" and f.evidence["feedbackDate"] == "2026-04-01"
    assert not of(found, "CLU-FEEDBACK", "CL-ok")


def test_remote_result_shared_5_working_days(found):
    f = one(found, "REM-RESULT-SHARED", "CP-rem-late")
    assert (f.evidence["handler"], f.evidence["primary"]) == (D["B"], D["A"])
    assert f.evidence["due"] == "2026-03-09" and f.evidence["transferredToPrimary"] == "2026-03-10"
    assert not of(found, "REM-RESULT-SHARED", "CP-rem-ok")


# -- risk ------------------------------------------------------------------------------------------

def test_single_bidder(found):
    assert one(found, "RISK-SINGLE-BIDDER", "ocds-risk-single").evidence["numberOfTenderers"] == 1
    # no numberOfTenderers: one distinct tenderer among submitted bids (a withdrawn bid is not submitted)
    assert one(found, "RISK-SINGLE-BIDDER", "ocds-risk-single-by-bids").evidence["distinctTenderers"] == 1
    assert not of(found, "RISK-SINGLE-BIDDER", "ocds-risk-two")
    assert not of(found, "RISK-SINGLE-BIDDER", "ocds-risk-single-limited")       # not a competitive method


def test_identical_bids(found):
    f = one(found, "RISK-IDENTICAL-BIDS", "ocds-risk-identical")
    assert f.evidence["tenderers"] == sorted([E["G"], E["H"]])
    assert f.evidence["amount"] == "123456" and f.evidence["currency"] == "CNY"
    assert not of(found, "RISK-IDENTICAL-BIDS", "ocds-risk-identical-currency")  # CNY vs USD
    assert not of(found, "RISK-IDENTICAL-BIDS", "ocds-risk-identical-cancelled")  # cancelled tender
    assert not of(found, "RISK-IDENTICAL-BIDS", "ocds-risk-two")


def test_bid_rotation(found):
    f = one(found, "RISK-BID-ROTATION", "ocds-risk-rotation-2")
    assert f.evidence["group"] == sorted([E["P"], E["Q"], E["R"]])
    assert f.evidence["tenders"] == ["ocds-risk-rotation-0", "ocds-risk-rotation-1", "ocds-risk-rotation-2"]
    assert len(of(found, "RISK-BID-ROTATION")) == 1                               # S always wins: no rotation


def test_split_contracts_within_90_days(found):
    f = one(found, "RISK-SPLIT-CONTRACTS", "ocds-risk-split-2")
    assert f.evidence["buyer"] == E["B1"] and f.evidence["supplier"] == E["S1"]
    assert f.evidence["total"] == 5000000 and f.evidence["threshold"] == 4000000
    assert not [x for x in of(found, "RISK-SPLIT-CONTRACTS") if x.evidence["buyer"] == E["B2"]]  # 91 days apart


def test_winner_concentration_more_than_half_of_at_least_5(found):
    f = one(found, "RISK-WINNER-CONCENTRATION", E["S3"])
    assert (f.evidence["wins"], f.evidence["processes"], f.evidence["buyer"]) == (3, 5, E["B3"])
    assert not of(found, "RISK-WINNER-CONCENTRATION", E["S4"])    # 4 of 4: fewer than 5 processes
    assert not of(found, "RISK-WINNER-CONCENTRATION", E["S5"])    # 3 of 6: exactly half


def test_single_bidder_without_any_count_is_data_insufficient(found):
    [f] = of(found, "DATA-INSUFFICIENT", "ocds-crd-award-last")       # open, no bids, no numberOfTenderers
    assert f.evidence["byRule"]["RISK-SINGLE-BIDDER"] == ["bids.details", "tender.numberOfTenderers"]
    assert not of(found, "RISK-SINGLE-BIDDER", "ocds-crd-award-last")


def test_project_supervision_without_any_list_is_data_insufficient():
    result = checking.check([HERE / "ocds.json"], reference=None, as_of=AS_OF)
    assert not [f for f in result.findings if f.rule == "SUP-PROJECT-UNSUPERVISED"]
    [f] = [f for f in result.findings if f.rule == "DATA-INSUFFICIENT" and f.record == "ocds-sup-ok"]
    assert f.evidence["byRule"]["SUP-PROJECT-UNSUPERVISED"] == ["powers-and-duties list"]


def test_every_engine_message_is_filled(found):
    engine_rules = {f.rule for f in found} - {"DATA-INSUFFICIENT", "CRD-CODE-INVALID"}
    for f in found:
        if f.rule in engine_rules and f.rule.startswith(("SUP-", "CRD-", "INS-R", "INS-N", "PLN-", "CMP-F", "CLU-", "REM-R", "RISK-")):
            for text in f.message.values():
                assert "?" not in text, (f.rule, f.record, text)   # a message field the finding did not fill
