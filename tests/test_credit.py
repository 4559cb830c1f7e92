"""Credit status across a restriction's first and last day; malformed and unknown codes; the CLI."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from prtkg import credit, loaders
from prtkg.app.cli import app
from prtkg.store import Store

HERE = Path(__file__).parent / "fixtures" / "rules"


_CODES = yaml.safe_load((HERE / "codes.yaml").read_text(encoding="utf-8"))
D, E = _CODES["departments"], _CODES["entities"]


def _fill(store: Store) -> Store:
    store.load_ontology()
    store.replace_records(loaders.load_paths([HERE / "credit.csv", HERE / "ocds.json"]).records)
    return store


@pytest.fixture(scope="module")
def store():
    return _fill(Store(None))


@pytest.mark.parametrize("day, restricted", [("2026-02-28", False), ("2026-03-01", True),
                                             ("2026-06-30", True), ("2026-07-01", False)])
def test_restriction_covers_first_and_last_day(store, day, restricted):
    s = credit.credit_status(store, E["X"], dt.date.fromisoformat(day))
    assert s["status"] == ("restricted" if restricted else "no-record-in-force")
    assert bool(s["restrictions"]) is restricted
    assert [h["record"] for h in s["history"]] == ["CR-X-1"]
    if restricted:
        [r] = s["restrictions"]
        assert (r["tradeType"], r["from"], r["until"], r["record"]) == ("works", "2026-03-01", "2026-06-30", "CR-X-1")
        assert r["basis"] == "招标投标法实施条例 第六十八条"
        assert [m["code"] for m in r["measures"]] == ["bid-restriction", "public-disclosure"]
        assert s["recordsInForce"][0]["record"] == "CR-X-1"


def test_trade_type_filter(store):
    on = dt.date(2026, 4, 1)
    assert credit.credit_status(store, E["X"], on, "works")["restrictions"]
    assert not credit.credit_status(store, E["X"], on, "government-procurement")["restrictions"]


def test_penalty_is_not_a_restriction(store):
    s = credit.credit_status(store, E["Y"], dt.date(2026, 4, 1))
    assert s["status"] == "penalised" and s["restrictions"] == []


def test_known_entity_without_records_and_unknown_code(store):
    assert credit.credit_status(store, E["G"], dt.date(2026, 4, 1))["status"] == "no-record-in-force"  # a bidder
    assert credit.credit_status(store, "91530100MA6K123497", dt.date(2026, 4, 1)) is None


def test_malformed_code_is_typed_and_says_what(store):
    with pytest.raises(credit.MalformedCode, match="18"):
        credit.credit_status(store, "9153010000000", dt.date(2026, 4, 1))
    bad_check = E["X"][:17] + ("0" if E["X"][17] != "0" else "1")
    with pytest.raises(credit.MalformedCode) as e:
        credit.credit_status(store, bad_check, dt.date(2026, 4, 1))
    assert e.value.problem.kind == "check"


def test_cli(tmp_path, monkeypatch):
    store_path = tmp_path / "store"
    s = Store(store_path)
    _fill(s)
    s.flush()
    del s
    monkeypatch.setenv("PRTKG_STORE", str(store_path))
    runner = CliRunner()
    r = runner.invoke(app, ["credit", E["X"], "91530100MA6K123497", "--as-of", "2026-06-30", "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc[0]["status"] == "restricted" and doc[1]["status"] == "unknown"
    # an unknown code is said in words, with what the store holds
    assert "91530100MA6K123497" in doc[1]["note"] and "记录" in doc[1]["note"]
    r = runner.invoke(app, ["credit", E["X"], "--as-of", "2026-07-01"], env={"COLUMNS": "100"})
    assert r.exit_code == 0 and "无生效记录" in r.stdout
    r = runner.invoke(app, ["credit", E["X"], "--as-of", "2026-07-01", "--lang", "en"], env={"COLUMNS": "100"})
    assert r.exit_code == 0 and "Credit status" in r.stdout
    r = runner.invoke(app, ["credit", "9153010000000"])
    assert r.exit_code == 2 and "9153010000000" in r.output


def test_cli_with_nothing_loaded(tmp_path, monkeypatch):
    monkeypatch.delenv("PRTKG_SPARQL_ENDPOINT", raising=False)
    monkeypatch.setenv("PRTKG_STORE", str(tmp_path / "none"))
    r = CliRunner().invoke(app, ["credit", E["X"], "--lang", "en"])
    assert r.exit_code == 2 and "nothing is loaded" in r.output
    assert not (tmp_path / "none").exists()         # asking did not create a store
    Store(tmp_path / "empty").flush()
    monkeypatch.setenv("PRTKG_STORE", str(tmp_path / "empty"))
    r = CliRunner().invoke(app, ["credit", E["X"]])
    assert r.exit_code == 2 and "尚未载入任何数据" in r.output


def test_all_trade_types_restrict_each_of_them(tmp_path):
    # "全部交易类型" is the code "all", which covers every trade type (one way in every dimension).
    rows = (HERE / "credit.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "credit.csv").write_text("\n".join([rows[0], rows[1].replace(",works,", ",全部交易类型,")]) + "\n",
                                          encoding="utf-8")
    store = Store(None)
    store.load_ontology()
    store.replace_records(loaders.load_paths([tmp_path / "credit.csv"]).records)
    on = dt.date(2026, 4, 1)
    for trade_type in ("works", "government-procurement", "land-use-right"):
        assert credit.credit_status(store, E["X"], on, trade_type)["restrictions"], trade_type
