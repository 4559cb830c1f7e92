"""BID-RELATED-BIDDERS and BID-COLLUSION-PRESUMED on their boundaries, and the entity relation
loaders (CSV and OCDS beneficialOwners). Fixtures: tests/fixtures/collusion/ (make_fixtures.py)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from prtkg.app import checking
from prtkg.errors import InputError
from prtkg.loaders import csvlists

HERE = Path(__file__).parent / "fixtures" / "collusion"
AS_OF = dt.date(2026, 11, 25)
C = json.loads((HERE / "codes.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def result():
    return checking.check([HERE / "relations.csv", HERE / "ocds.json"], reference=None, as_of=AS_OF)


def of(result, rule, record=None):
    return [f for f in result.findings if f.rule == rule and (record is None or f.record == record)]


def test_chain_of_two_levels_is_shown(result):
    [f] = of(result, "BID-RELATED-BIDDERS", "ocds-fxcol-1")
    chain = f.evidence["chain"]
    assert [(h["holder"], h["held"]) for h in chain] == [(C["B"], C["H1"]), (C["H1"], C["A"])]
    assert [h["share"] for h in chain] == [80, 55]
    assert {b["tenderer"] for b in f.evidence["bidders"]} == {C["A"], C["B"]}
    assert f.severity == "violation" and "2级" in f.message["zh"] and C["H1"] in f.message["en"]


@pytest.mark.parametrize("record,fires", [("ocds-fxcol-2", False),   # exactly 50%: not control
                                          ("ocds-fxcol-3", True),    # 50.01%
                                          ("ocds-fxcol-4", False),   # holding ended 2026-02-28, bids 03-10
                                          ("ocds-fxcol-5", True),    # same holding, bids 02-20/21
                                          ("ocds-fxcol-7", False),   # same representative, other lots
                                          ("ocds-fxcol-8", True),    # management relation
                                          ("ocds-fxcol-9", False)])  # sisters under one parent
def test_related_boundaries(result, record, fires):
    assert bool(of(result, "BID-RELATED-BIDDERS", record)) is fires


def test_same_legal_representative(result):
    [f] = of(result, "BID-RELATED-BIDDERS", "ocds-fxcol-6")
    assert f.evidence["legalRepresentative"] == ["p:7f3a"]
    assert "同一法定代表人" in f.message["zh"]


def test_control_share_is_a_parameter(monkeypatch, tmp_path):
    from prtkg.catalogue import catalogue
    (tmp_path / "p.yaml").write_text("BID-RELATED-BIDDERS: {control_share: 49}\n", encoding="utf-8")
    monkeypatch.setenv("PRTKG_PARAMS", str(tmp_path / "p.yaml"))
    catalogue.cache_clear()
    try:
        r = checking.check([HERE / "relations.csv", HERE / "ocds.json"], reference=None, as_of=AS_OF)
        assert of(r, "BID-RELATED-BIDDERS", "ocds-fxcol-2")
    finally:
        monkeypatch.delenv("PRTKG_PARAMS")
        catalogue.cache_clear()


def test_shared_item_names_both_bids(result):
    [f] = of(result, "BID-COLLUSION-PRESUMED", "ocds-fxcol-10")
    assert f.evidence["bids"] == ["bid-1", "bid-2"] and f.evidence["shared"] == "agent"
    assert f.evidence["value"] == "p:ag1" and "bid-1" in f.message["zh"] and "bid-2" in f.message["zh"]
    [g] = of(result, "BID-COLLUSION-PRESUMED", "ocds-fxcol-11")
    assert g.evidence["shared"] == "documentAuthor"


@pytest.mark.parametrize("record", ["ocds-fxcol-12",   # one tenderer's two bids
                                    "ocds-fxcol-13",   # cancelled tender
                                    "ocds-fxcol-15",   # only two prices
                                    "ocds-fxcol-16",   # gaps 100000 and 100001
                                    "ocds-fxcol-17",   # one price in another currency
                                    "ocds-fxcol-18"])  # the sharing bid was withdrawn
def test_no_collusion(result, record):
    assert not of(result, "BID-COLLUSION-PRESUMED", record)


def test_price_pattern_sorted_whatever_the_order(result):
    [f] = of(result, "BID-COLLUSION-PRESUMED", "ocds-fxcol-14")
    assert [b["amount"] for b in f.evidence["bids"]] == ["1000000", "1100000", "1200000"]
    assert f.evidence["gap"] == "100000" and f.evidence["shared"] == "pricePattern"


def test_relation_rows_rejected_with_clear_errors(result):
    errors = {r.record.rsplit("#", 1)[1]: r.errors for r in result.loaded.rejected}
    raw = errors["11"][0]
    assert raw.field == "关联方" and "raw 18-digit resident ID" in raw.error
    assert "53010219900307451X" not in raw.error
    assert errors["12"][0].field == "持股比例"
    assert "person" in errors["13"][0].error
    ocds = [r for r in result.loaded.rejected if r.record.endswith("ocds.json#18")]
    assert ocds and ocds[0].errors[0].field == "parties[1].beneficialOwners[0].id"


def test_beneficial_owner_is_a_relation(result):
    rows = result.store.select('SELECT ?of ?p WHERE { GRAPH ?g { ?r prtkg:relationType "beneficial-owner" ; '
                               'prtkg:relationOf ?of ; prtkg:relatedParty ?p } }')
    assert [(r["of"].rsplit("/", 1)[1], r["p"].rsplit("/", 1)[1]) for r in rows] == [(C["A"], "p:b0b0")]


def test_english_header_is_recognised():
    data = ("uscc,partyType,party,relation,share,from,until\n"
            f"{C['A']},entity,{C['B']},shareholder,60,2020-01-01,\n").encode()
    loaded = csvlists.load(data, "rel.csv")
    assert not loaded.rejected and loaded.records[0].kind == "entity-relations"
    with pytest.raises(InputError, match="missing columns"):
        csvlists.load("统一社会信用代码,关联方类型,关系\n".encode(), "bad.csv")


@pytest.mark.parametrize("party_type, relation, kind", [
    ("单位", "管理", "manager"), ("企业", "股东", "shareholder"), ("自然人", "单位负责人", "legal-representative"),
    ("个人", "受益所有人", "beneficial-owner"), ("Person", "Legal Representative", "legal-representative"),
])
def test_party_and_relation_types_come_from_the_code_lists(party_type, relation, kind):
    other = "p:abc" if party_type in ("自然人", "个人", "Person") else C["B"]
    data = ("uscc,partyType,party,relation,share,from,until\n"
            f"{C['A']},{party_type},{other},{relation},,2020-01-01,\n").encode()
    loaded = csvlists.load(data, "rel.csv")
    assert not loaded.rejected, loaded.rejected
    [stored] = [o.value for _, pred, o in loaded.records[0].graph.triples if pred.value.endswith("#relationType")]
    assert stored == kind   # the code, whatever spelling the list used


def test_unknown_party_or_relation_type_names_the_row_and_field():
    data = ("uscc,partyType,party,relation,share,from,until\n"
            f"{C['A']},robot,{C['B']},cousin,,2020-01-01,\n").encode()
    loaded = csvlists.load(data, "rel.csv")
    [rejected] = loaded.rejected
    fields = {e.field: e.error for e in rejected.errors}
    assert "unknown party-type code 'robot'" in str(fields) and "unknown relation-type code 'cousin'" in str(fields)
    assert "股东" in str(fields) and "个人" in str(fields)   # the accepted values, from ontology/codes.ttl


def test_bids_without_cn_items_are_reported_as_insufficient(tmp_path):
    data = json.loads((HERE / "ocds.json").read_text(encoding="utf-8"))
    bare = data[13]  # ocds-fxcol-14: the price pattern
    for bid in bare["bids"]["details"]:
        del bid["cn"]
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(bare, ensure_ascii=False), encoding="utf-8")
    r = checking.check([path], reference=None, as_of=AS_OF)
    assert of(r, "BID-COLLUSION-PRESUMED", "ocds-fxcol-14")  # the prices still speak
    [info] = of(r, "DATA-INSUFFICIENT", "ocds-fxcol-14")
    assert "BID-COLLUSION-PRESUMED" in info.evidence["rules"] and "bids.details.cn.agent" in info.evidence["fields"]


def test_rules_of_chinese_law_do_not_run_on_foreign_records(tmp_path):
    """A tender with no Chinese trade type or region (another country's OCDS) is outside the Bidding
    Law: neither rule judges it, and DATA-INSUFFICIENT names both instead (prtkg.applicability)."""
    foreign = []
    for rel in json.loads((HERE / "ocds.json").read_text(encoding="utf-8")):
        rel["tender"].pop("tradeType"), rel["tender"].pop("regionCode")
        foreign.append(rel)
    path = tmp_path / "foreign.json"
    path.write_text(json.dumps(foreign, ensure_ascii=False), encoding="utf-8")
    res = checking.check([HERE / "relations.csv", path], reference=None, as_of=AS_OF)
    assert not of(res, "BID-RELATED-BIDDERS") and not of(res, "BID-COLLUSION-PRESUMED")
    named = {r for f in of(res, "DATA-INSUFFICIENT") for r in f.evidence.get("rules", [])}
    assert {"BID-RELATED-BIDDERS", "BID-COLLUSION-PRESUMED"} <= named
