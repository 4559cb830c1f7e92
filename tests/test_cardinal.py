"""The red flags at parity with OCP Cardinal, on the edge cases its documentation names: bid statuses,
award statuses, cancelled tenders, joint and shuffled tenderer lists, currencies, outlier fences.
Fixtures: tests/fixtures/cardinal/ (make_fixtures.py); population flags on synthetic processes."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from prtkg.app import checking
from prtkg.rules import cardinal

HERE = Path(__file__).parent / "fixtures" / "cardinal"
AS_OF = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def processes():
    r = checking.check([HERE / "processes.json"], reference=None, as_of=AS_OF)
    assert not r.loaded.rejected
    return r.findings


@pytest.fixture(scope="module")
def margins():
    r = checking.check([HERE / "margins.json"], reference=None, as_of=AS_OF)
    assert not r.loaded.rejected
    return r.findings


def flagged(found, rule):
    return {f.record.removeprefix("ocds-fxcar-") for f in found if f.rule == rule}


def test_short_period(processes):
    assert flagged(processes, "RISK-SHORT-PERIOD") == {"short-14"}   # 15 days, works, limited, cancelled: not


def test_late_winning_bid(processes):
    assert flagged(processes, "RISK-LATE-WINNING-BID") == {"late-won"}  # a loser's or a pending bid: not
    [f] = [f for f in processes if f.rule == "RISK-LATE-WINNING-BID"]
    assert f.evidence["received"].endswith("10:15:00+08:00") and f.evidence["deadline"].endswith("09:30:00+08:00")


def test_all_but_winner_disqualified(processes):
    got = flagged(processes, "RISK-ALL-BUT-WINNER-DISQUALIFIED")
    assert {"allbut", "allbut-shuffled"} <= got
    assert not got & {"allbut-valid", "allbut-pending", "allbut-invited"}
    [f] = [f for f in processes if f.rule == "RISK-ALL-BUT-WINNER-DISQUALIFIED" and f.record.endswith("-allbut")]
    assert f.evidence["disqualified_tenderers"] == 2


def test_lowest_disqualified(processes):
    got = flagged(processes, "RISK-LOWEST-DISQUALIFIED")
    assert "lowest" in got and not got & {"lowest-rated", "lowest-usd", "lowest-noaward"}


def test_margin_fences_name_the_population(margins):
    assert flagged(margins, "RISK-WINNING-MARGIN-LOW") == {"m-low"}
    assert flagged(margins, "RISK-HEAVY-DISCOUNT") == {"m-high"}
    [f] = [f for f in margins if f.rule == "RISK-HEAVY-DISCOUNT"]
    fences = f.evidence["fences"]
    # 10 ordinary processes + the low and the high one; not-lowest winner, joint bid, USD, cancelled left out
    assert fences["size"] == 12 and fences["population"] == "winning-margins"
    assert fences["upperFence"] == f.evidence["fence"] and f.evidence["margin"] == 0.5
    assert f.evidence["winningBid"]["amount"] == "1000" and f.evidence["secondBid"]["amount"] == "1500"


def test_small_population_or_no_spread_has_no_fence_and_says_why():
    skipped = {}
    assert cardinal.fences([0.1] * 7, "RISK-HEAVY-DISCOUNT", skipped, "p") is None
    assert skipped["RISK-HEAVY-DISCOUNT"]["reason"] == "population-below-minimum"
    assert (skipped["RISK-HEAVY-DISCOUNT"]["size"], skipped["RISK-HEAVY-DISCOUNT"]["minimum"]) == (7, 8)
    # IQR 0: the fence would be 0.0 and flag any non-zero value as abnormally high
    assert cardinal.fences([0.0] * 9 + [0.2], "RISK-DISQUALIFICATION-RATE", skipped, "p") is None
    assert skipped["RISK-DISQUALIFICATION-RATE"]["reason"] == "no-spread"
    assert cardinal.fences([0.0] * 9 + [0.2], "RISK-LOW-WIN-RATE", skipped, "p", concerned=False) is None
    assert "RISK-LOW-WIN-RATE" not in skipped  # nothing under check had a value: nothing to say
    f = cardinal.fences([1, 2, 3, 4, 5, 6, 7, 8], "RISK-HEAVY-DISCOUNT")
    assert (f.q1, f.q3) == (2.75, 6.25) and f.upper == 6.25 + 1.5 * 3.5


def proc(n, bids, winner=None, buyer="B", award_status="active", items=(), cancelled=False):
    """A synthetic process: bids as (tenderer, status); winner a tenderer or None."""
    p = cardinal.Process(f"r{n}", f"urn:p{n}", {"tstatus": "cancelled" if cancelled else "complete", "buyer": buyer,
                                                 "pe": None, "method": "open", "criteria": "priceOnly"})
    p.bids = [{"b": f"urn:p{n}/bid/{i}", "status": st, "tenderers": [t], "amount": None, "currency": "CNY",
               "date": None, "dateTime": None} for i, (t, st) in enumerate(bids)]
    if winner:
        p.awards = [{"a": f"urn:p{n}/award/1", "status": award_status, "suppliers": [winner]}]
        if items:
            p.items[f"urn:p{n}/award/1"] = set(items)
    return p


@pytest.mark.parametrize("status, counted", [("pending", False), ("invalid", False),
                                           ("unsuccessful", True), ("cancelled", True)])
def test_an_undecided_award_leaves_the_process_out(status, counted):
    """Cardinal leaves out a process with a pending award, and reads "invalid" (no OCDS award status
    code) as pending: the catalogue's undecided_award_statuses, alike in every award-based flag."""
    p = proc(1, [("X", "valid"), ("Y", "disqualified")], "X")
    p.awards.append({"a": "urn:p1/award/2", "status": status, "suppliers": ["Y"]})
    assert bool(list(cardinal._disqualification_facts(p))) is counted
    assert (cardinal.Tallies.of([p]).bids.get("X", 0) == 1) is counted


def test_low_win_rate_needs_a_top_tenderer():
    procs, n = {}, 0

    def add(*args, **kw):
        nonlocal n
        n += 1
        procs[f"urn:p{n}"] = proc(n, *args, **kw)

    # Ten ordinary tenderers: T_i bids 4+i times and wins about 30-66% of them; X bids 20 times, never wins.
    for i in range(10):
        bids = 4 + i
        wins = round((0.3 + 0.04 * i) * bids)
        for k in range(bids):
            add([(f"T{i}", "valid")], f"T{i}" if k < wins else "Z")
    for _ in range(20):
        add([("X", "valid"), ("W", "withdrawn")], "Z")
    add([("X", "valid")], "X", award_status="pending")  # left out: a pending award
    facts = {f["tenderer"]: f for f in cardinal.Tallies.of(procs.values()).win_rate_facts({"X", "T3", "T9"})}
    assert facts["X"]["top"] == 1 and facts["X"]["low"] == 1 and facts["X"]["validBids"] == 20
    assert facts["T3"]["top"] == 0 and facts["T9"]["top"] == 1 and facts["T9"]["low"] == 0
    assert "W" not in facts and facts["X"]["fences"]["population"] == "tenderers-valid-bids"


def test_disqualification_rate_per_role():
    procs = {}
    for n in range(16):
        procs[f"urn:p{n}"] = proc(n, [(f"T{n % 8}", "valid"), (f"U{n % 8}", "valid"),
                                      ("D", "disqualified" if n < 3 else "valid")], f"T{n % 8}", buyer=f"B{n % 8}")
    for n in range(20, 24):
        procs[f"urn:p{n}"] = proc(n, [("Y", "disqualified"), (f"V{n}", "valid")], f"V{n}", buyer="BX")
    procs["urn:p99"] = proc(99, [("Y", "disqualified"), ("V99", "valid")], "V99", buyer="BX", cancelled=True)
    skipped = {}
    facts = {(f["role"], f["party"]): f
             for f in cardinal.Tallies.of(procs.values()).disq_rate_facts({"Y", "T1", "V20", "BX", "B1"}, skipped)}
    assert facts[("buyer", "BX")]["high"] == 1 and facts[("buyer", "B1")]["high"] == 0
    # 16 of the 18 tenderers have rate 0: no spread, so no fence and no tenderer flag; said why
    assert not [k for k in facts if k[0] == "tenderer"]
    assert skipped["RISK-DISQUALIFICATION-RATE"]["reason"] == "no-spread"
    assert skipped["RISK-DISQUALIFICATION-RATE"]["population"] == "tenderer"


def test_heterogeneous_supplier():
    procs = {}
    for n in range(9):  # one or two first-level classes each: a population with spread
        procs[f"urn:p{n}"] = proc(n, [(f"S{n}", "valid")], f"S{n}", items=["A0201", "A0202"] + ["B0101"] * (n % 2))
    for n, cls in enumerate(["A0201", "B0101", "C1600", "C2104", "A0601", "A0202"], 20):
        procs[f"urn:p{n}"] = proc(n, [("H", "valid")], "H", items=[cls])
    facts = {f["tenderer"]: f for f in cardinal.Tallies.of(procs.values()).variety_facts({"H", "S1"})}
    assert facts["H"]["high"] == 1 and facts["H"]["count"] == 5   # A02 twice is one first-level class
    assert facts["S1"]["high"] == 0 and facts["S1"]["classes"] == ["A02", "B01"]


def test_names_by_code_are_the_names_read_of_every_organisation(backend):
    """Findings name an organisation looked up by its credit code as published; a code published in
    lower case, or a party without one, is found among the names of every organisation: either way the
    name the whole reading gives, and only for organisations taking part in a process."""
    store = backend()
    ent = "https://w3id.org/prtkg/id/entity/"
    parties = {"91530000MA1YNXTY8F": ("prtkg:buyer", "<%s91530000MA1YNXTY8F>" % ent, '"91530000MA1YNXTY8F"', "甲公司"),
               "91530000MA1YNXTY9G": ("prtkg:hasBid/prtkg:tenderer", "<%sx1>" % ent, '"91530000ma1ynxty9g"', "乙公司"),
               "ocds-x/party/p3": ("prtkg:hasAward/prtkg:supplier", "<%socds-x/party/p3>" % ent, None, "丙公司"),
               "91530000MA1YNXTY0H": ("prtkg:supervisor", "<%s91530000MA1YNXTY0H>" % ent, '"91530000MA1YNXTY0H"', "丁部门")}
    triples = []
    for n, (role, node, code, name) in enumerate(parties.values()):
        link = f"<urn:t:p> prtkg:hasBid <urn:t:b{n}> . <urn:t:b{n}> prtkg:tenderer {node} ." if "hasBid" in role else \
            f"<urn:t:p> prtkg:hasAward <urn:t:a{n}> . <urn:t:a{n}> prtkg:supplier {node} ." if "hasAward" in role else \
            f"<urn:t:p> {role} {node} ."
        triples.append(link + f' {node} prtkg:name "{name}" .' + (f" {node} prtkg:uscc {code} ." if code else ""))
    store.update('INSERT DATA { GRAPH <urn:t:g> { <urn:t:g> prtkg:recordKind "ocds" ; prtkg:mainNode <urn:t:p> . '
                 + " ".join(triples) + " } }")
    every = {cardinal.org_key(r["who"]): r["name"] for r in store.select(cardinal._NAMES)}
    assert every == {"91530000MA1YNXTY8F": "甲公司", "91530000MA1YNXTY9G": "乙公司", "ocds-x/party/p3": "丙公司"}
    assert cardinal.names(store, parties) == every                  # a supervisor only is not named
    assert cardinal.names(store, ["91530000MA1YNXTY8F"]) == {"91530000MA1YNXTY8F": "甲公司"}
    assert cardinal.names(store, []) == {}
