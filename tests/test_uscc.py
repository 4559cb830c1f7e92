"""GB 32100-2015 codes: real published codes pass; each kind of malformed code is named."""
import pytest

from prtkg import uscc

REAL = ["91350100M000100Y43", "91110000600037341L"]


@pytest.mark.parametrize("code", REAL)
def test_real_codes_are_valid(code):
    assert uscc.problem(code) is None


@pytest.mark.parametrize("code,kind", [
    ("91350100M000100Y4", "length"),                # 17 characters
    ("91350100M000100Y433", "length"),              # 19
    ("", "length"),
    ("91350100M000100I43", "charset"),              # I is not in the alphabet
    ("9135O100M000100Y43", "charset"),              # O
    ("91350100M000100S43", "charset"),
    ("91350100M000100V43", "charset"),
    ("91350100M000100Z43", "charset"),
    ("91350100m000100y43", "charset"),              # lower case
    ("91350100M000100Y44", "check"),                # wrong GB 32100 check character
    ("91350100M000100Y53", "org-check"),            # wrong GB 11714 check character at position 17
])
def test_malformed_codes_say_what_is_wrong(code, kind):
    p = uscc.problem(code)
    assert p is not None and p.kind == kind
    assert p.message_en and p.message_zh


def test_complete_makes_valid_codes():
    code = uscc.complete("9153010012345678")
    assert len(code) == 18 and uscc.is_valid(code)
    assert code[:16] == "9153010012345678"
