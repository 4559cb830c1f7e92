"""The coverage matrix on a small list with a known overlap, a known gap and a lead."""
from __future__ import annotations

from pathlib import Path

import pytest

from prtkg import coverage, loaders
from prtkg.app import coverage_report
from prtkg.store import Store

LIST = Path(__file__).parent / "fixtures" / "rules" / "powers-small.csv"


@pytest.fixture(scope="module")
def matrix():
    store = Store(None)
    store.load_ontology()
    store.replace_records(loaders.load_paths([LIST]).records)
    return coverage_report.coverage_matrix(store)


def cell(matrix, trade, industry, stage, region):
    [c] = [c for c in matrix["cells"] if (c["tradeType"], c["industry"], c["stage"], c["region"]) ==
           (trade, industry, stage, region)]
    return c


def test_axes(matrix):
    assert matrix["stages"] == sorted(["tender", "bid", "opening", "evaluation", "award", "contract"])
    # SUP-GAP reads "every trade type (and, for works, industry)": `other` is one of them.
    assert {"works", "other"} <= set(matrix["tradeTypes"]) and "other" in matrix["industries"]
    assert [r["code"] for r in matrix["regions"]] == ["530000"]


def test_overlap_cell_lists_both_departments_with_rows(matrix):
    c = cell(matrix, "works", "housing-municipal", "tender", "530000")
    assert c["overlap"] and not c["gap"]
    rows = {d["name"]: d["rows"] for d in c["departments"]}
    assert rows["省住建厅"] == ["powers-small.csv#1", "powers-small.csv#8"]
    assert rows["省水利厅"] == ["powers-small.csv#2"]
    [o] = [o for o in matrix["overlaps"] if o["rowA"] == "powers-small.csv#1"]
    assert o["rowB"] == "powers-small.csv#2" and o["matters"] == [
        {"tradeType": "works", "industry": "housing-municipal", "stage": "tender"}]


def test_other_stage_of_same_matter_is_no_overlap(matrix):
    assert not cell(matrix, "works", "housing-municipal", "bid", "530000")["overlap"]


def test_lead_clears_overlap(matrix):
    c = cell(matrix, "works", "transport", "award", "530000")
    assert not c["overlap"] and not c["gap"]
    assert [d["lead"] for d in c["departments"]] == [True, False] or [d["lead"] for d in c["departments"]] == [False, True]


def test_gap(matrix):
    c = cell(matrix, "works", "water", "contract", "530000")
    assert c["gap"] and c["departments"] == []
    assert {"tradeType": "works", "industry": "water", "stage": "contract", "region": "530000",
            "t": "matter", "supervisors": 0} in [dict(g) for g in matrix["gaps"]]


def test_other_trade_type_and_other_works_industry_must_be_covered(matrix):
    gaps = {(g["tradeType"], g["industry"], g["stage"]) for g in matrix["gaps"] if g["region"] == "530000"}
    assert {("other", None, s) for s in matrix["stages"]} <= gaps
    assert {("works", "other", s) for s in matrix["stages"]} <= gaps
    # the covered neighbours of the same axes are no gap
    assert ("government-procurement", None, "tender") not in gaps and ("works", "transport", "tender") not in gaps


def test_trading_centre_alone_is_still_a_gap_for_supervision():
    # opening of housing works is covered by A (全过程), so no gap; a matter held only by a
    # trading centre would be, since only supervision departments count
    store = Store(None)
    store.load_ontology()
    store.replace_records(loaders.load_paths([LIST]).records)
    g = coverage.grid(store)
    only_centre = [m for m, rows in g.cover.items() if rows and all(r.department_type != "supervision" for r in rows)]
    from prtkg.rules import supervision
    gaps = {(x.m["tradeType"], x.m["industry"], x.m["stage"], x.m["region"])
            for x in supervision.evaluate(g) if x.rule == "SUP-GAP"}
    assert all((m.trade_type, m.industry, m.stage, m.region) in gaps for m in only_centre)
