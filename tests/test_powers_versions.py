"""Versioned powers lists: a project is judged by the lists in force on its date, a replaced or expired
list's rows neither cover nor overlap, and `who-supervises` answers for a day.

Fixtures: tests/fixtures/powers-versions/ (its README tables what each list holds and when).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from prtkg import coverage, saved_queries
from prtkg.app import checking, coverage_report
from prtkg.loaders import load_paths

HERE = Path(__file__).parent / "fixtures" / "powers-versions"
A, B, C = "11530000000000019N", "11530000000000027H", "11530000000000035C"
PUBLISHER = "11530000000000908M"
LISTS = ("yn-2023.csv", "yn-2025.csv", "joint-2025.csv")
DAYS = {"early": "2022-12-31", "before": "2025-02-28", "issue": "2025-03-01", "last": "2025-12-31", "after": "2026-01-01"}


@pytest.fixture(scope="module")
def result():
    r = checking.check([HERE / n for n in (*LISTS, "ocds.json")], reference=None, as_of=dt.date(2026, 11, 25))
    assert not r.loaded.rejected
    return r


def unsupervised(result) -> set[str]:
    return {f.record for f in result.findings if f.rule == "SUP-PROJECT-UNSUPERVISED"}


def test_list_version_is_loaded_as_a_document():
    [record] = load_paths([HERE / "yn-2025.csv"]).records
    triples = {(s.value, p.value, getattr(o, "value", o)) for s, p, o in record.graph.triples}
    the_list = record.focus.value
    assert (the_list, "http://purl.org/dc/terms/issued", "2025-03-01") in triples
    assert (the_list, "https://w3id.org/prtkg/ontology#validFrom", "2025-03-01") in triples   # = issue date
    assert (the_list, "https://w3id.org/prtkg/ontology#validUntil", "2025-12-31") in triples
    [publisher] = [o for s, p, o in triples if s == the_list and p == "http://purl.org/dc/terms/publisher"]
    assert (publisher, "https://w3id.org/prtkg/ontology#uscc", PUBLISHER) in triples


def test_periods_in_force_cut_a_replaced_list_short(result):
    periods = {Path(v.iri).name: p for v, p in
               ((v, coverage.in_force_periods(coverage.list_versions(result.store))[v.iri])
                for v in coverage.list_versions(result.store))}
    d = dt.date.fromisoformat
    assert periods["yn-2023"] == (d("2023-01-01"), d("2025-02-28"))     # the day before its successor
    assert periods["yn-2025"] == (d("2025-03-01"), d("2025-12-31"))
    assert periods["joint-2025"] == (d("2025-06-01"), None)              # another publisher: not replaced


REPLACED_BY = "http://purl.org/dc/terms/isReplacedBy"


def _replacements(store) -> set[tuple[str, str]]:
    """The dcterms:isReplacedBy links of the derived graphs, by list file name."""
    from prtkg import inference
    return {(Path(q.subject.value).name, Path(q.object.value).name) for g in inference.DERIVED_GRAPHS
            for q in store.graph_quads(g) if q.predicate.value == REPLACED_BY}


def test_a_later_list_of_the_publisher_is_written_as_replacing_the_earlier(result):
    # yn-2025 is yn-2023's publisher's new version; joint-2025 is another publisher's: no link. The
    # link is in the shared derived graph, which every division reads.
    from prtkg import inference
    assert _replacements(result.store) == {("yn-2023", "yn-2025")}
    assert {q.subject.value for q in result.store.graph_quads(inference.INFERRED_GRAPH)
            if q.predicate.value == REPLACED_BY}


def test_the_replacement_follows_the_lists_loaded_one_by_one(tmp_path):
    # A load of a few records refreshes the derived graphs instead of deriving them whole: the new
    # list links the old one (which the refresh does not touch), and the link goes with the list.
    from prtkg import derived
    from prtkg.store import Store
    store = Store(None)
    store.load_ontology()
    [old], [new] = (load_paths([HERE / n]).records for n in ("yn-2023.csv", "yn-2025.csv"))
    store.replace_records([old])
    store.replace_records([new])          # each a refresh (prtkg.derived.kept_up_to_date)
    assert _replacements(store) == {("yn-2023", "yn-2025")}
    with derived.kept_up_to_date(store, [new.graph.graph.value]):
        store.remove_graph(new.graph.graph.value)
    assert _replacements(store) == set()


@pytest.mark.parametrize("day, holder_in_force, other", [
    ("before", "a", "b"),    # the day before yn-2025 is issued: yn-2023 (A) holds, B not yet
    ("issue", "b", "a"),     # its issue day: B holds, A's list is replaced
    ("last", "b", "a"),      # its last valid day: B still holds
])
def test_project_judged_by_the_list_in_force_on_its_date(result, day, holder_in_force, other):
    found = unsupervised(result)
    assert f"ocds-pv-{day}-{holder_in_force}" not in found
    assert f"ocds-pv-{day}-{other}" in found


def test_day_after_the_list_expires_neither_old_nor_expired_list_counts(result):
    # 2026-01-01: yn-2025 has expired and yn-2023 stays replaced; only C's joint list is in force.
    assert {"ocds-pv-after-a", "ocds-pv-after-b"} <= unsupervised(result)


def test_project_before_any_list_is_data_insufficient_not_unsupervised(result):
    assert "ocds-pv-early-a" not in unsupervised(result)
    [f] = [f for f in result.findings if f.rule == "DATA-INSUFFICIENT" and f.record == "ocds-pv-early-a"]
    assert f.evidence["byRule"]["SUP-PROJECT-UNSUPERVISED"] == ["powers-and-duties list (530100, works, 2022-12-31)"]


def test_undated_project_under_dated_lists_names_the_missing_date(tmp_path):
    import json
    data = json.loads((HERE / "ocds.json").read_text(encoding="utf-8"))
    [rel] = [r for r in data["releases"] if r["ocid"] == "ocds-pv-issue-b"]
    del rel["tender"]["tenderPeriod"]
    data["releases"] = [rel]
    (tmp_path / "undated.json").write_text(json.dumps(data), encoding="utf-8")
    r = checking.check([HERE / "yn-2025.csv", tmp_path / "undated.json"], reference=None, as_of=dt.date(2026, 11, 25))
    [f] = [f for f in r.findings if f.rule == "DATA-INSUFFICIENT" and f.record == "ocds-pv-issue-b"]
    assert f.evidence["byRule"]["SUP-PROJECT-UNSUPERVISED"] == ["tender.tenderPeriod.startDate"]


def test_rows_overlap_only_while_both_lists_are_in_force(result):
    pairs = {frozenset((f.evidence["departmentA"], f.evidence["departmentB"]))
             for f in result.findings if f.rule == "SUP-OVERLAP"}
    assert pairs == {frozenset((B, C))}     # A's list ended before C's began; A and B never in force together


def test_gaps_are_judged_per_span_of_lists_in_force(result):
    gaps = [f.evidence for f in result.findings if f.rule == "SUP-GAP"]
    water = sorted((g["inForceFrom"], g["inForceUntil"]) for g in gaps if g["industry"] == "water")
    assert water == [("2023-01-01", "2025-02-28"), ("2025-03-01", "2025-05-31"),
                     ("2025-06-01", "2025-12-31"), ("2026-01-01", None)]
    assert not [g for g in gaps if g["industry"] == "housing-municipal"]   # someone holds it in every span


def test_one_list_names_no_period_in_its_gaps():
    r = checking.check([HERE / "joint-2025.csv"], reference=None, as_of=dt.date(2026, 11, 25))
    gaps = [f.evidence for f in r.findings if f.rule == "SUP-GAP"]
    assert gaps and not [g for g in gaps if "inForceFrom" in g]


def _who(store, **params) -> set[str]:
    query = saved_queries.get("who-supervises").bind({"tradeType": "works", "stage": "tender", "region": "530100", **params})
    # As GET /queries runs it: the default graph is the union of the record graphs.
    return {row["department"].value.rsplit("/", 1)[-1]
            for row in store.raw_query(query, use_default_graph_as_union=True)}


@pytest.mark.parametrize("day, holders", [
    ("early", set()), ("before", {A}), ("issue", {B}), ("last", {B, C}), ("after", {C})])
def test_who_supervises_on_a_day_agrees_with_the_rules(result, day, holders):
    on = dt.date.fromisoformat(DAYS[day])
    assert _who(result.store, date=DAYS[day]) == holders
    # the saved question and the rules' in-force test are one definition
    assert {row.department for row in coverage.power_rows(result.store) if row.on(on)} == holders


def test_who_supervises_filters_by_industry_and_defaults_to_today(result):
    assert _who(result.store, date="2025-12-31", industry="water") == set()
    assert _who(result.store, date="2025-12-31", industry="housing-municipal") == {B, C}
    assert _who(result.store) == {C}       # today (after 2026-01-01): only the open-ended joint list


def test_list_version_cells_must_agree_and_be_valid(tmp_path):
    text = (HERE / "yn-2025.csv").read_text(encoding="utf-8").splitlines()
    second = text[1].replace("B-CF", "B-JC").replace("2025-03-01", "2025-04-01")
    third = text[1].replace("B-CF", "B-QZ").replace(PUBLISHER, "11530000000000908X")
    (tmp_path / "bad.csv").write_text("\n".join([*text, second, third]) + "\n", encoding="utf-8")
    loaded = load_paths([tmp_path / "bad.csv"])
    errors = {r.record: [(e.field, e.error) for e in r.errors] for r in loaded.rejected}
    assert set(errors) == {"bad.csv#2", "bad.csv#3"}
    assert errors["bad.csv#2"][0][0] == "发布日期" and "differs from '2025-03-01' on row 1" in errors["bad.csv#2"][0][1]
    assert errors["bad.csv#3"][0][0] == "发布机关"


def test_valid_until_before_the_list_takes_effect_is_rejected(tmp_path):
    text = (HERE / "yn-2025.csv").read_text(encoding="utf-8").replace("2025-12-31", "2025-02-01")
    (tmp_path / "early-end.csv").write_text(text, encoding="utf-8")
    [rej] = load_paths([tmp_path / "early-end.csv"]).rejected
    assert [e.field for e in rej.errors] == ["有效期止"] and "before the list takes effect" in rej.errors[0].error


def test_in_force_periods_edge_cases():
    d = dt.date.fromisoformat
    V = coverage.ListVersion
    lists = [V("old", "P", d("2024-01-01")),
             V("same-day", "P", d("2024-01-01")),                       # same publisher, same day: neither replaces
             V("early", "Q", d("2024-06-01"), d("2024-07-01")),         # issued 06-01, in force from 07-01
             V("earlier-start", "Q", d("2024-06-15"), d("2024-06-20")),  # later issue, earlier start: replaces all of it
             V("named", None, d("2023-01-01"), replaced_by=frozenset({"elsewhere"})),  # successor not loaded
             V("undated")]
    got = coverage.in_force_periods(lists)
    assert got["old"] == got["same-day"] == (d("2024-01-01"), None)
    assert got["early"] == coverage.NEVER                              # replaced before it took effect
    assert got["earlier-start"] == (d("2024-06-20"), None)
    assert got["named"] == coverage.NEVER
    assert got["undated"] == coverage.ALWAYS
    assert not coverage.covers_day(coverage.NEVER, d("2024-07-02"))
    assert coverage.covers_day(coverage.ALWAYS, None) and not coverage.covers_day(got["old"], None)


@pytest.mark.parametrize("day, departments, overlap", [
    ("early", None, False), ("before", {A}, False), ("issue", {B}, False), ("last", {B, C}, True), ("after", {C}, False)])
def test_coverage_matrix_shows_the_lists_in_force_on_a_day(result, day, departments, overlap):
    m = coverage_report.coverage_matrix(result.store, dt.date.fromisoformat(DAYS[day]))
    cells = [c for c in m["cells"] if (c["tradeType"], c["industry"], c["stage"], c["region"])
             == ("works", "housing-municipal", "tender", "530000")]
    if departments is None:                  # no list in force: the division is not on the map at all
        assert not cells and not m["regions"]
        return
    [cell] = cells
    assert {d["code"] for d in cell["departments"]} == departments and cell["overlap"] is overlap


def test_coverage_api_takes_the_day_whose_lists_count():
    from fastapi.testclient import TestClient

    from prtkg.api.app import create_app
    from prtkg.api.settings import Settings
    from prtkg.store import Store

    app = create_app(Store(None), Settings(tokens={"s": "staff", "i": "ingest"}))
    with TestClient(app) as client:
        for name in LISTS:
            r = client.post(f"/records?name={name}", content=(HERE / name).read_bytes(),
                            headers={"Content-Type": "text/csv", "Authorization": "Bearer i"})
            assert r.status_code == 200, r.text

        def holders(day):
            m = client.get("/supervision/coverage", params={"asOf": day}, headers={"Authorization": "Bearer s"}).json()
            return {d["code"] for c in m["cells"] if (c["tradeType"], c["industry"], c["stage"])
                    == ("works", "housing-municipal", "award") for d in c["departments"]}
        assert holders(DAYS["before"]) == {A} and holders(DAYS["last"]) == {B, C} and holders(DAYS["after"]) == {C}
