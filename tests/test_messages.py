"""What an officer reads: zh messages name code-list values by their labels and organisations by name
(issue 17.1). Every zh message the demo produces is scanned for code-list notations and credit codes."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from prtkg import codes, findings
from prtkg.checking import bundled, check

AS_OF = dt.date(2026, 11, 25)
FIXTURES = Path(__file__).parent / "fixtures" / "rules"
USCC = re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Z])")
# A message about an invalid code must quote it; a control chain still lists its hops by code (rules/collusion.py).
CODES_ALLOWED = {"CRD-CODE-INVALID", "BID-RELATED-BIDDERS"}


def _notations() -> re.Pattern:
    words = {c for name, s in codes._schemes().items() if name != "region" for c in s.concepts
             if re.search("[a-z]", c) and len(c) > 2}
    alternation = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9_.-])({alternation})(?![A-Za-z0-9_.-])")


def _leaks(found: list) -> list[str]:
    pattern = _notations()
    out = []
    for f in found:
        zh = f.message["zh"]
        if pattern.search(zh) or (f.rule not in CODES_ALLOWED and USCC.search(zh)):
            out.append(f"{f.rule} {f.record}: {zh}")
    return out


@pytest.fixture(scope="module")
def demo_findings():
    if not any(bundled("demo").glob("*.jsonl")):
        pytest.skip("no demo dataset")
    return check([], as_of=AS_OF).findings


def test_demo_zh_messages_show_words_not_codes(demo_findings):
    assert len({f.rule for f in demo_findings}) > 40      # the scan sees (nearly) every rule
    assert _leaks(demo_findings) == []


def test_fixture_zh_messages_show_words_not_codes():
    found = check([FIXTURES], as_of=AS_OF).findings
    assert found and _leaks(found) == []


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


def test_organisations_are_named_from_the_store(demo_findings):
    gap = [f for f in demo_findings if f.rule == "CLU-FEEDBACK"]
    assert gap and all(f.evidence["transferredTo"] not in f.message["zh"] for f in gap)
    assert all("局" in f.message["zh"] or "委员会" in f.message["zh"] for f in gap)
