"""The bundled reference list and the seeded demo dataset (tools/demo/, data/demo, data/reference)."""
import csv
import datetime as dt
import io
import itertools
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from prtkg import catalogue, uscc
from prtkg.workdays import Calendar

ROOT = Path(__file__).resolve().parent.parent
# The generator is a development tool of the repository (tools/demo/), not part of the installed package.
sys.path.insert(0, str(ROOT))
import tools.demo as demo  # noqa: E402
from tools.demo import world  # noqa: E402
DEMO = ROOT / "data" / "demo"
REFERENCE = ROOT / "data" / "reference" / "powers-yunnan.csv"
STAGES = ["招标", "投标", "开标", "评标", "定标", "合同"]
ENFORCEMENT = {"行政处罚", "行政检查", "行政强制"}


def _rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (DEMO / name).read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def planted() -> list[dict]:
    return json.loads((DEMO.parent / "demo-planted.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def projects() -> dict[str, dict]:
    """Releases folded per ocid (later stages add to earlier ones; enough for these checks)."""
    out: dict[str, dict] = defaultdict(lambda: {"tender": {}, "parties": {}})
    for rel in _jsonl("releases.jsonl"):
        p = out[rel["ocid"]]
        p["tender"].update(rel.get("tender", {}))
        for party in rel.get("parties", []):
            p["parties"][party["id"]] = party
        for key in ("awards", "contracts", "bids", "buyer"):
            if key in rel:
                p[key] = rel[key]
    return dict(out)


def _day(value: str) -> dt.date:
    return dt.date.fromisoformat(value[:10])


def _planted_records(planted, rule):
    return {p["record"] for p in planted if p["rule"] == rule}


# -- the demo dataset ---------------------------------------------------------------------------

def test_regenerating_with_the_default_seed_gives_the_committed_bytes(tmp_path):
    written = demo.generate(tmp_path / "demo", demo.DEFAULT_SEED, demo.DEFAULT_PROJECTS)
    committed = sorted(p.name for p in DEMO.iterdir() if p.is_file()) + ["../demo-planted.json"]
    assert sorted(committed) == sorted(written)
    for name, path in written.items():
        assert path.read_bytes() == (DEMO / name).read_bytes(), f"data/demo/{name} differs from the generator's output"


def test_another_seed_gives_other_data(tmp_path):
    demo.generate(tmp_path, 7, 200)
    assert (tmp_path / "releases.jsonl").read_bytes() != (DEMO / "releases.jsonl").read_bytes()


def test_too_few_projects_is_a_clear_error(capsys):
    with pytest.raises(SystemExit) as e:
        demo.main(["--projects", "10", "--out", "unused"])
    assert e.value.code == 2
    assert "--projects 10" in capsys.readouterr().err


def test_size_stays_small():
    assert sum(p.stat().st_size for p in DEMO.iterdir()) < 5_000_000


def test_counts(projects):
    assert len(projects) >= 300
    trades = {p["tender"].get("tradeType") for p in projects.values()}
    assert set(world.TRADE_TYPES) <= trades
    regions = {p["tender"].get("regionCode") for p in projects.values()} - {None}
    assert any(r.endswith("00") for r in regions) and any(not r.endswith("00") for r in regions)
    assert len(regions) >= 40
    entities = {pid for p in projects.values() for pid in p["parties"] if pid.startswith("91") and uscc.is_valid(pid)}
    assert len(entities) >= 200
    events = _jsonl("events.jsonl")
    assert {e["recordType"] for e in events} == {"complaint", "clue", "inspection", "plan", "sanctionExecution"}
    credit = _rows(DEMO / "credit-records.csv")
    assert {r["记录类型"] for r in credit} == {"serious-dishonesty", "administrative-penalty", "good-credit"}


def test_project_dates_stay_in_the_known_calendar(projects):
    for ocid, p in projects.items():
        days = [_day(a["date"]) for a in p.get("awards", [])] + [_day(c["dateSigned"]) for c in p.get("contracts", [])]
        period = p["tender"].get("tenderPeriod")
        if period:
            days += [_day(period["startDate"]), _day(period["endDate"])]
        assert all(world.FIRST_DAY <= d <= world.LAST_DAY for d in days), ocid


def test_codes_are_valid_except_the_planted_ones(projects, planted):
    seen = set()
    for p in projects.values():
        for party in p["parties"].values():
            seen |= {party["id"], party["identifier"]["id"]}
    for e in _jsonl("events.jsonl"):
        for key in ("handler", "target", "department"):
            if key in e:
                seen.add(e[key])
        seen |= set(e.get("departments", []))
        seen |= {t["to"] for t in e.get("transfers", [])}
    for r in _rows(DEMO / "credit-records.csv"):
        seen |= {r["统一社会信用代码"], r["认定部门"]}
    invalid = {c for c in seen if not uscc.is_valid(c)}
    expected = {code for p in planted if p["rule"] == "CRD-CODE-INVALID" for code in p["related"]}
    assert invalid == expected and len(expected) == 3
    assert all(uscc.problem(c).kind == "check" for c in invalid)


def test_departments_in_the_demo_come_from_the_reference_list(projects):
    departments = {r["部门编码"] for r in _rows(REFERENCE)}
    for p in projects.values():
        for s in p["tender"].get("supervisors", []):
            assert s["id"] in departments
    for e in _jsonl("events.jsonl"):
        named = [e.get("handler"), e.get("department"), *e.get("departments", []), *(t["to"] for t in e.get("transfers", []))]
        assert all(c in departments for c in named if c), e["id"]


def test_every_planted_rule_is_in_the_catalogue_and_every_record_exists(projects, planted):
    rules = catalogue.catalogue()
    events = {e["id"] for e in _jsonl("events.jsonl")}
    credit = {r["记录编号"] for r in _rows(DEMO / "credit-records.csv")}
    overlay = {f"powers-demo-overlay.csv#{n}" for n in range(1, len(_rows(DEMO / "powers-demo-overlay.csv")) + 1)}
    # a gap belongs to the set of lists that leave it open
    lists = {"+".join(sorted([p.name for p in DEMO.glob("powers-*.csv")] + [REFERENCE.name]))}
    codes = {pid for p in projects.values() for pid in p["parties"]} | {r["部门编码"] for r in _rows(REFERENCE)}
    for entry in planted:
        assert entry["rule"] in rules, entry
        assert entry["record"] in set(projects) | events | credit | overlay | codes | lists, entry
        assert entry["note"]
    families = {rules[e["rule"]].family for e in planted}
    assert families >= {r.family for r in rules.values()} - {"data"} | {"data"}


def test_planted_periods_break_the_law_and_the_rest_comply(projects, planted):
    short = (_planted_records(planted, "BID-PERIOD-20D") | _planted_records(planted, "GP-PERIOD-20D"))
    assert short
    for ocid, p in projects.items():
        t = p["tender"]
        if t.get("procurementMethod") != "open" or t.get("tradeType") not in ("works", "government-procurement"):
            continue
        days = (_day(t["tenderPeriod"]["endDate"]) - _day(t["tenderPeriod"]["startDate"])).days
        assert (days < 20) == (ocid in short), (ocid, days)


def test_planted_late_contracts_and_notices_and_the_rest_comply(projects, planted):
    cal = Calendar()
    late_contract = _planted_records(planted, "BID-CONTRACT-30D") | _planted_records(planted, "GP-CONTRACT-30D")
    late_notice = _planted_records(planted, "GP-RESULT-2WD")
    no_notice = _planted_records(planted, "DIS-RESULT-NOTICE")
    for ocid, p in projects.items():
        for award in p.get("awards", []):
            awarded = _day(award["date"])
            signed = [_day(c["dateSigned"]) for c in p.get("contracts", [])]
            assert ((signed[0] - awarded).days > 30) == (ocid in late_contract), ocid
            notices = [_day(d["datePublished"]) for d in award.get("documents", [])
                       if d["documentType"] == "awardNotice"]
            assert (not notices) == (ocid in no_notice), ocid
            if notices and p["tender"].get("tradeType") == "government-procurement":
                assert (cal.workdays_between(awarded, notices[0]) > 2) == (ocid in late_notice), ocid


def test_planted_complaint_acceptance_and_the_rest_comply(projects, planted):
    cal = Calendar()
    late = _planted_records(planted, "CMP-ACCEPT")
    for e in _jsonl("events.jsonl"):
        if e["recordType"] != "complaint":
            continue
        limit = 3 if projects[e["project"]]["tender"]["tradeType"] == "works" else 5
        decided = e.get("acceptedDate") or e.get("rejectedDate")
        overdue = decided is None or cal.workdays_between(_day(e["receivedDate"]), _day(decided)) > limit
        assert overdue == (e["id"] in late), e["id"]


def test_restricted_entities_trade_only_where_planted(projects, planted):
    flagged = _planted_records(planted, "CRD-RESTRICTED-BID")
    restricted = [r for r in _rows(DEMO / "credit-records.csv") if r["记录类型"] == "serious-dishonesty"]
    for ocid, p in projects.items():
        trade = p["tender"].get("tradeType")
        for bid in p.get("bids", {}).get("details", []):
            day = _day(bid["date"])
            for r in restricted:
                hit = (any(t["id"] == r["统一社会信用代码"] for t in bid["tenderers"])
                       and trade in r["适用交易类型"].split(";")
                       and _day(r["有效期起"]) <= day <= _day(r["有效期止"]))
                assert not hit or ocid in flagged, (ocid, r["记录编号"])


# -- the reference list ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def reference() -> list[dict]:
    return _rows(REFERENCE)


def _matters(row: dict):
    """(trade type, industry, stage) cells a row covers; an empty works industry means all of them."""
    stages = STAGES if row["环节"] == "全过程" else row["环节"].split(";")
    for trade in row["交易类型"].split(";"):
        industries = row["行业"].split(";") if row["行业"] else (
            ["housing-municipal", "transport", "water", "energy", "other"] if trade == "works" else [""])
        for industry in industries:
            for stage in stages:
                yield trade, industry, stage


def test_reference_has_no_overlap_without_a_lead(reference):
    holders = defaultdict(set)
    leads = set()
    for row in reference:
        for trade, industry, stage in _matters(row):
            key = (row["权力类型"], trade, industry, stage, row["区划"])
            holders[key].add(row["部门编码"])
            if row["牵头"] == "是":
                leads.add(key)
    overlaps = [k for k, depts in holders.items() if len(depts) > 1 and k not in leads]
    assert not overlaps


def test_reference_separates_service_and_management_from_enforcement(reference):
    for row in reference:
        if row["部门类型"] in ("trading-centre", "management"):
            assert row["权力类型"] not in ENFORCEMENT, row["权力编码"]


def test_reference_rows_are_complete(reference):
    for row in reference:
        for column in ("实施依据", "责任事项", "追责情形", "部门名称", "权力名称", "权力编码"):
            assert row[column].strip(), (row["权力编码"], column)


def test_reference_covers_every_trade_and_stage_in_every_division(reference):
    regions = {"530000", "530100", "530300", "530400", "530500", "530600", "530700", "530800", "530900",
               "532300", "532500", "532600", "532800", "532900", "533100", "533300", "533400"}
    assert {r["区划"] for r in reference} == regions
    covered = defaultdict(set)
    for row in reference:
        if row["部门类型"] == "supervision":
            for matter in _matters(row):
                covered[row["区划"]].add(matter)
    wanted = {(t, i, s) for t in world.TRADE_TYPES
              for i in (world.INDUSTRIES if t == "works" else [""]) for s in STAGES}
    for region in regions:
        assert wanted <= covered[region], region


def test_reference_departments_have_valid_codes_of_their_division(reference):
    kinds = defaultdict(set)
    for row in reference:
        code = row["部门编码"]
        assert uscc.is_valid(code), code
        assert code[2:8] == row["区划"]
        assert code[:2] == ("12" if row["部门类型"] == "trading-centre" else "11")
        kinds[row["区划"]].add(row["部门类型"])
    assert all(k == {"supervision", "management", "trading-centre", "discipline", "audit"} for k in kinds.values())


def test_overlay_plants_one_problem_per_row(planted):
    rows = _rows(DEMO / "powers-demo-overlay.csv")
    assert rows[1]["部门类型"] == "trading-centre" and rows[1]["权力类型"] == "行政处罚"
    assert not rows[2]["责任事项"]
    assert _planted_records(planted, "SUP-OVERLAP") == {"powers-demo-overlay.csv#1"}


def _winner(p: dict) -> str:
    return p["awards"][0]["suppliers"][0]["id"]


def test_planted_patterns_across_projects(projects, planted):
    by_rule = {e["rule"]: e for e in planted}
    ring = by_rule["RISK-BID-ROTATION"]["related"]
    groups = [frozenset(t["id"] for b in projects[o]["bids"]["details"] for t in b["tenderers"]) for o in ring]
    assert len(ring) >= 3 and len(set(groups)) == 1 and len(groups[0]) >= 3
    assert len({_winner(projects[o]) for o in ring}) == len(ring)
    conc = by_rule["RISK-WINNER-CONCENTRATION"]
    wins = [_winner(projects[o]) == conc["record"] for o in conc["related"]]
    assert len(wins) >= 5 and sum(wins) * 2 > len(wins)
    assert len({projects[o]["buyer"]["id"] for o in conc["related"]}) == 1
    split = [projects[o] for o in by_rule["RISK-SPLIT-CONTRACTS"]["related"]]
    values = [p["awards"][0]["value"]["amount"] for p in split]
    assert all(v < 4_000_000 for v in values) and sum(values) >= 4_000_000
    assert len({_winner(p) for p in split}) == 1 and len({p["buyer"]["id"] for p in split}) == 1
    # By chance, no buyer's awards concentrate and no group of three meets three times.
    awards = defaultdict(list)
    meetings = defaultdict(int)
    for ocid, p in projects.items():
        if p.get("awards"):
            awards[p["buyer"]["id"]].append(_winner(p))
        bidders = sorted({t["id"] for b in p.get("bids", {}).get("details", []) for t in b["tenderers"]})
        for group in itertools.combinations(bidders, 3):
            meetings[group] += 1
    concentrated = {b for b, w in awards.items() if len(w) >= 5 and max(map(w.count, w)) * 2 > len(w)}
    assert concentrated == {projects[conc["related"][0]]["buyer"]["id"]}
    assert {k for k, n in meetings.items() if n >= 3} <= set(itertools.combinations(sorted(groups[0]), 3))


def test_partner_list_covers_everything_but_drug_procurement(planted):
    rows = _rows(DEMO / world.PARTNER_FILE)
    assert {r["区划"] for r in rows} == {world.PARTNER} and {r["部门类型"] for r in rows} == {"supervision"}
    trades = {t for r in rows for t in r["交易类型"].split(";")}
    assert trades == set(world.TRADE_TYPES) - {"drug-procurement"}
    assert all(uscc.is_valid(r["部门编码"]) and r["部门编码"][2:8] == world.PARTNER for r in rows)
    assert len(_planted_records(planted, "SUP-GAP")) == 1


def test_winning_margins_cluster_a_few_percent_apart(projects, planted):
    margins = {}
    for ocid, p in projects.items():
        valid = sorted(b["value"]["amount"] for b in p.get("bids", {}).get("details", []) if b["status"] == "valid")
        if p.get("awards") and len(valid) >= 2 and p["awards"][0]["value"]["amount"] == valid[0]:
            margins[ocid] = (valid[1] - valid[0]) / valid[0]
    tiny = _planted_records(planted, "RISK-WINNING-MARGIN-LOW")
    assert len(tiny) >= 3 and all(margins[o] < 0.002 for o in tiny)
    ordinary = sorted(m for o, m in margins.items() if o not in tiny)
    q1, q3 = ordinary[len(ordinary) // 4], ordinary[3 * len(ordinary) // 4]
    assert 0.02 < q1 < q3 < 0.04 and q1 - 1.5 * (q3 - q1) > 0.002


def test_cover_bidders_bid_often_and_never_win(projects, planted):
    covers = _planted_records(planted, "RISK-LOW-WIN-RATE")
    assert len(covers) >= 2
    bids, wins = Counter(), Counter()
    for p in projects.values():
        for b in p.get("bids", {}).get("details", []):
            bids[b["tenderers"][0]["id"]] += 1
        for a in p.get("awards", []):
            wins[a["suppliers"][0]["id"]] += 1
    typical = sorted(bids.values())[len(bids) // 2]
    assert all(bids[c] >= 2 * typical and wins[c] == 0 for c in covers)
    # most bidders win a normal share: few never win
    assert sum(1 for t in bids if not wins[t]) < len(bids) // 4
