"""OCDS as real publishers publish it (tests/fixtures/ocds-real, sources in its SOURCES.md)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prtkg.app.checking import check
from prtkg.app.cli import app
from prtkg.loaders import load_inputs, load_paths

REAL = Path(__file__).parent / "fixtures" / "ocds-real"


def rules_of(result) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in result.findings:
        out[f.rule] = out.get(f.rule, 0) + 1
    return out


def test_ocds_1_0_is_upgraded_so_inline_organisations_become_parties():
    # Paraguay DNCP's 1.0 record package names its buyer inline, as 1.0 did: upgraded, it loads.
    loaded = load_paths([REAL / "py-dncp-1.0" / "record-package_1.0.json"])
    assert loaded.rejected == [] and [r.id for r in loaded.records] == ["ocds-03ad3f-193399"]
    # CDMX's unversioned package (1.0): both processes load, JSON Lines of the same releases too.
    assert len(load_paths([REAL / "mx-cdmx"]).records) == 2
    assert len(load_paths([REAL / "mx-cdmx-jsonl"]).records) == 1


def test_a_package_declaring_1_1_is_not_upgraded():
    pkg = json.loads((REAL / "py-dncp-1.0" / "record-package_1.0.json").read_text())
    pkg["version"] = "1.1"  # declared 1.1: an inline organisation is then a reference without id
    result = load_inputs([("p.json", ".json", json.dumps(pkg).encode())])
    assert result.records == [] and ("buyer.id", "missing party id") in {
        (e.field, e.error) for r in result.rejected for e in r.errors}


def test_an_award_id_naming_no_award_is_a_finding_on_the_contract_not_a_rejection():
    result = check([REAL / "py-dncp-1.1"], reference=None)
    assert result.loaded.rejected == [] and len(result.loaded.records) == 1
    dq = [f for f in result.findings if f.rule == "DATA-QUALITY"]
    assert [(f.record, f.evidence["field"]) for f in dq] == [("ocds-03ad3f-246807", "contracts[0].awardID")]
    assert "246807-adqusicion-guantes-otros-insumos-medicos" in dq[0].message["en"]


def release(**extra) -> bytes:
    rel = {"ocid": "ocds-x-1", "id": "1", "date": "2024-01-02T00:00:00Z", "parties": [], **extra}
    return json.dumps(rel).encode()


@pytest.mark.parametrize("key,value,field,kind", [
    ("awards", {"id": "a1"}, "awards", "an array"), ("tender", [], "tender", "an object"),
    ("contracts", "c1", "contracts", "an array"),
    ("awards", [{"id": "a1", "suppliers": {"id": "s"}}], "awards[0].suppliers", "an array"),
    ("parties", [{"id": "p", "roles": "buyer"}], "parties[0].roles", "an array"),
    ("tender", {"id": "t", "tenderPeriod": "2024-01-01"}, "tender.tenderPeriod", "an object")])
def test_a_field_of_the_wrong_json_type_is_rejected_naming_it(key, value, field, kind):
    # the schema's types (OCDS 1.1 + extensions, shipped) say which fields are arrays or objects
    result = load_inputs([("r.json", ".json", release(**{key: value}))])
    assert result.records == []
    assert [(e.field, e.error.split(" but")[0]) for e in result.rejected[0].errors] == [(field, f"not {kind}")]


def test_an_empty_string_amount_is_a_missing_amount_reported(tmp_path):
    (tmp_path / "r.json").write_bytes(release(tender={"id": "t", "value": {"amount": "", "currency": "MXN"}}))
    result = check([tmp_path], reference=None)
    assert len(result.loaded.records) == 1
    assert [f.evidence["field"] for f in result.findings if f.rule == "DATA-QUALITY"] == ["tender.value.amount"]


def test_releases_beside_a_record_package_are_merged_when_newer_and_reported_when_superseded():
    pkg = json.loads((REAL / "mx-datos" / "record-package-1-2.json").read_text())
    rec = pkg["records"][0]
    ocid, date = rec["ocid"], rec["compiledRelease"]["date"]
    old = {"ocid": ocid, "id": "old", "date": "2000-01-01T00:00:00Z", "parties": [], "tender": {"id": "x", "title": "OLD"}}
    new = {"ocid": ocid, "id": "new", "date": "2100-01-01T00:00:00Z", "parties": [], "tender": {"id": "x", "title": "NEW"}}
    result = load_inputs([("pkg.json", ".json", json.dumps(pkg).encode()),
                          ("more.jsonl", ".jsonl", (json.dumps(old) + "\n" + json.dumps(new)).encode())])
    assert [(r.record, r.errors[0].error.split(":")[0]) for r in result.rejected] == [("more.jsonl#1", "superseded")]
    assert date in result.rejected[0].errors[0].error
    record = next(r for r in result.records if r.id == ocid)
    assert "more.jsonl#2" in record.source
    assert any(str(o) == '"NEW"' for _, _, o in record.graph.triples)


def test_one_organisation_is_one_node_across_records_for_every_scheme():
    pkg = json.loads((REAL / "mx-datos" / "record-package-1-2.json").read_text())
    second = json.loads(json.dumps(pkg["records"][0]))
    second["ocid"] = second["compiledRelease"]["ocid"] = "ocds-07smqs-other"
    pkg["records"].append(second)  # the same supplier (RFC GAB0709244G5) in another process
    loaded = load_inputs([("p.json", ".json", json.dumps(pkg).encode())])
    assert loaded.rejected == [] and len(loaded.records) == 3

    def node(record, pred):
        return {s.value for s, p, o in record.graph.triples if p.value.endswith(pred)
                and getattr(o, "value", None) == "GAB0709244G5"}
    first, copy = (r for r in loaded.records if r.id in (pkg["records"][0]["ocid"], "ocds-07smqs-other"))
    assert node(first, "#identifierId") == node(copy, "#identifierId") == {
        "https://w3id.org/prtkg/id/entity/REGISTRO%20FEDERAL%20DE%20CONTRIBUYENTES%20DE%20M%C3%89XICO/GAB0709244G5"}
    # a party without an identifier (the buyer INAH-195) stays local to its record
    buyers = {o.value for r in (first, copy) for s, p, o in r.graph.triples if p.value.endswith("#buyer")}
    assert len(buyers) == 2 and all("/project/" in b for b in buyers)


def test_an_empty_or_unreadable_file_in_a_folder_is_rejected_and_the_others_checked(tmp_path):
    shutil.copy(REAL / "mx-datos" / "record-package-1-2.json", tmp_path)
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "broken.jsonl").write_bytes(b"{not json\n")
    result = check([tmp_path], reference=None)
    assert len(result.loaded.records) == 2
    assert sorted((Path(r.record).name, r.errors[0].field) for r in result.loaded.rejected) == [
        ("broken.jsonl", "(file)"), ("empty.json", "(file)")]


def test_exit_2_when_every_record_is_rejected(tmp_path):
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "r.json").write_bytes(release(awards={"id": "a1"}))
    runner = CliRunner()
    out = runner.invoke(app, ["check", str(tmp_path), "--reference", "none", "--format", "json"])
    assert out.exit_code == 2, out.output
    assert "nothing could be checked" in out.output
    empty = tmp_path / "nothing"
    empty.mkdir()
    out = runner.invoke(app, ["check", str(empty), "--reference", "none"])
    assert out.exit_code == 2 and "no input record" in out.output
    (tmp_path / "ok.json").write_bytes(release(id="2", ocid="ocds-x-2"))
    assert runner.invoke(app, ["check", str(tmp_path), "--reference", "none", "--format", "json"]).exit_code == 0


def test_foreign_dates_keep_their_day_and_offset_chinese_days_are_chinas():
    late = {"tenderPeriod": {"endDate": "2024-03-01T23:30:00-06:00"}, "id": "t"}  # Mexico City evening
    foreign = load_inputs([("f.json", ".json", release(tender=late))]).records[0]
    china = load_inputs([("c.json", ".json", release(tender={**late, "tradeType": "works"}))]).records[0]

    def values(record, pred):
        return [o.value for _, p, o in record.graph.triples if p.value.endswith(pred)]
    assert values(foreign, "#tenderPeriodEnd") == ["2024-03-01"]               # not moved to a UTC+8 day
    assert values(china, "#tenderPeriodEnd") == ["2024-03-02"]                 # China's calendar day
    assert values(foreign, "#tenderPeriodEndDateTime") == values(china, "#tenderPeriodEndDateTime") == [
        "2024-03-01T23:30:00-06:00"]                                          # stored as published
