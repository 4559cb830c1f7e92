"""What an officer reads: zh messages name code-list values by their labels and organisations by name
(issue 17.1). Every zh message the demo produces is scanned for code-list notations and credit codes."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from prtkg import codes, findings
from prtkg.app.checking import bundled, check

AS_OF = dt.date(2026, 11, 25)
FIXTURES = Path(__file__).parent / "fixtures" / "rules"
USCC = re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Z])")
# A message about an invalid code must quote it.
CODES_ALLOWED = {"CRD-CODE-INVALID"}
# Not yet in words (left open in issue 17.1's report): English text built in code, not codes — the
# reason and population of an outlier rule that did not run (rules/cardinal.py), a loader's data problem.
NOT_YET: set[str] = set()


def _notations() -> re.Pattern:
    words = {c for name, s in codes._schemes().items() if name != "region" for c in s.concepts
             if re.search("[a-z]", c) and len(c) > 2}
    alternation = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9_.-])({alternation})(?![A-Za-z0-9_.-])")


def _leaks(found: list, store=None) -> list[str]:
    """Messages naming a code-list value by its code, or an organisation the store has a name for by
    its credit code (one the store knows no name of can only be named by its code)."""
    pattern = _notations()
    out = []
    with findings.naming(store) if store is not None else _no_names() as name:
        for f in found:
            if f.rule in NOT_YET:
                continue
            zh = f.message["zh"]
            named = [c for c in USCC.findall(zh) if name(c)] if f.rule not in CODES_ALLOWED else []
            if pattern.search(zh) or named:
                out.append(f"{f.rule} {f.record}: {zh}")
    return out


class _no_names:
    def __enter__(self):
        return lambda code: code

    def __exit__(self, *exc):
        return False


@pytest.fixture(scope="module")
def demo(demo_check):
    if not any(bundled("demo").glob("*.jsonl")):
        pytest.skip("no demo dataset")
    assert demo_check.as_of == AS_OF
    return demo_check


def test_demo_zh_messages_show_words_not_codes(demo):
    assert len({f.rule for f in demo.findings}) > 40      # the scan sees (nearly) every rule
    assert _leaks(demo.findings, demo.store) == []


def test_fixture_zh_messages_show_words_not_codes():
    result = check([FIXTURES], as_of=AS_OF)
    assert result.findings and _leaks(result.findings, result.store) == []


def test_scan_catches_a_code():
    # The scan itself: a message naming a procurement method by its OCDS code is caught.
    leaky = findings.Finding("X", "warning", "r", "", {"zh": "采购方式为direct"}, "")
    assert _leaks([leaky])


def test_code_list_fields_render_in_each_language():
    text = findings.render("{m:procurement-method}／{k:power-kind}／{r:%}", "zh",
                           {"m": "direct", "k": "administrative-penalty", "r": 0.0667})
    assert text == "直接采购（单一来源、直接发包）／行政处罚／6.67%"
    assert findings.render("{k:power-kind}", "en", {"k": "administrative-penalty"}) == "administrative penalty"
    # a value the list lacks stays readable as it came
    assert findings.render("{m:procurement-method}", "zh", {"m": "auction"}) == "auction"


def test_organisations_are_named_from_the_store(demo):
    gap = [f for f in demo.findings if f.rule == "CLU-FEEDBACK"]
    assert gap and all(f.evidence["transferredTo"] not in f.message["zh"] for f in gap)
    assert all("局" in f.message["zh"] or "委员会" in f.message["zh"] for f in gap)

