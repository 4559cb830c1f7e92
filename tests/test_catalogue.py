"""The catalogue, the code and the docs stay in step."""
import re
import string
from pathlib import Path

import pytest

from prtkg import findings
from prtkg.applicability import gates
from prtkg.catalogue import catalogue

REGULATIONS = Path(__file__).resolve().parents[1] / "docs" / "regulations.md"


def test_every_rule_of_the_regulations_is_in_the_catalogue():
    ids = set(re.findall(r"^\| ([A-Z]+(?:-[A-Z0-9]+)+) \|", REGULATIONS.read_text(encoding="utf-8"), re.M))
    assert ids, "no rule ids found in regulations.md"
    assert ids == set(catalogue())


def test_every_entry_is_complete():
    for rule in catalogue().values():
        assert rule.basis and set(rule.message) == {"zh", "en"}, rule.id
        for name, param in rule.params.items():
            assert {"value", "basis", "policy"} <= set(param), (rule.id, name)
            assert isinstance(param["policy"], bool), (rule.id, name)


def test_messages_only_use_fields_a_finding_can_fill():
    for rule in catalogue().values():
        for text in rule.message.values():
            names = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) for n in names), (rule.id, names)


def test_gates_name_known_fields():
    assert "BID-PERIOD-20D" in gates()
    assert gates()["BID-PERIOD-20D"].when == {"tender.tradeType": ("works",)}


def test_finding_is_built_from_the_catalogue():
    f = findings.make("BID-PERIOD-20D", "ocds-x-1", "https://w3id.org/prtkg/id/project/ocds-x-1",
                      {"tenderPeriodStart": "2026-03-02", "tenderPeriodEnd": "2026-03-12", "days": 10})
    d = f.as_dict()
    assert d["severity"] == "violation" and d["basis"] == "招标投标法 第二十四条"
    assert "10" in d["message"]["zh"] and "20" in d["message"]["zh"]
    assert "fewer than 20" in d["message"]["en"]
    assert set(d) == {"rule", "severity", "record", "focus", "message", "basis", "evidence"}


def test_report_counts_and_dedupes():
    f = findings.make("CRD-CODE-INVALID", "r1", "urn:x", {"code": "X", "problem": "length"})
    doc = findings.report(3, [f, f], [])
    assert doc["summary"] == {"records": 3, "rejected": 0, "violations": 1, "warnings": 0, "info": 0}
    assert len(doc["findings"]) == 1


def _with_params(monkeypatch, tmp_path, text):
    f = tmp_path / "params.yaml"
    f.write_text(text, encoding="utf-8")
    monkeypatch.setenv("PRTKG_PARAMS", str(f))
    catalogue.cache_clear()


def test_policy_parameters_are_configurable(monkeypatch, tmp_path):
    _with_params(monkeypatch, tmp_path, "CLU-FEEDBACK: {max_days: 20}\n")
    try:
        assert catalogue()["CLU-FEEDBACK"].param("max_days") == 20
    finally:
        monkeypatch.delenv("PRTKG_PARAMS")
        catalogue.cache_clear()
    assert catalogue()["CLU-FEEDBACK"].param("max_days") == 30


@pytest.mark.parametrize("text,needle", [
    ("BID-PERIOD-20D: {min_days: 10}\n", "statutory"),
    ("NO-SUCH-RULE: {x: 1}\n", "unknown rule"),
    ("CLU-FEEDBACK: {max_dayz: 1}\n", "no parameter"),
    ("CLU-FEEDBACK: {max_days: soon}\n", "must be like"),
])
def test_bad_parameter_overrides_are_refused(monkeypatch, tmp_path, text, needle):
    from prtkg.errors import ConfigError
    _with_params(monkeypatch, tmp_path, text)
    try:
        with pytest.raises(ConfigError, match=needle):
            catalogue()
    finally:
        monkeypatch.delenv("PRTKG_PARAMS")
        catalogue.cache_clear()
