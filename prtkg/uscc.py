"""Unified social credit code (统一社会信用代码), GB 32100-2015, with the GB 11714 organisation code inside.

One function decides whether a code is valid; every place a code enters calls it.
"""
from __future__ import annotations

from dataclasses import dataclass

# GB 32100-2015 table 1: the 31 characters a code may use (no I, O, S, V, Z).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 3^(i) mod 31, positions 1..17

# GB 11714: positions 9-17 are the organisation code; 8 body characters (digits or letters) and a check.
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_ORG_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class CodeProblem:
    kind: str  # "length" | "charset" | "check" | "org-check"
    message_en: str
    message_zh: str

    def __str__(self) -> str:
        return self.message_en


def check_character(first17: str) -> str:
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def org_check_character(body8: str) -> str:
    total = sum(_ORG_CHARS.index(c) * w for c, w in zip(body8, _ORG_WEIGHTS))
    c = 11 - total % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def problem(code: str) -> CodeProblem | None:
    """What is wrong with a code, or None when it is valid."""
    if not isinstance(code, str):
        return CodeProblem("charset", "not a string", "不是字符串")
    if len(code) != 18:
        return CodeProblem("length", f"has {len(code)} characters, not 18", f"长度为{len(code)}位，应为18位")
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        shown = "".join(bad)
        return CodeProblem("charset", f"contains characters outside the code's alphabet: {shown!r} "
                           "(I, O, S, V, Z and lower case are not used)",
                           f"含有代码字符集以外的字符：{shown}（不使用I、O、S、V、Z及小写字母）")
    org = code[8:17]
    if any(c not in _ORG_CHARS for c in org[:8]) or not (org[8].isdigit() or org[8] == "X"):
        return CodeProblem("org-check", "positions 9-17 are not a GB 11714 organisation code",
                           "第9-17位不是符合GB 11714的组织机构代码")
    if org_check_character(org[:8]) != org[8]:
        return CodeProblem("org-check", f"organisation code check character is {org[8]!r}, expected "
                           f"{org_check_character(org[:8])!r} (GB 11714)",
                           f"组织机构代码校验码为{org[8]}，应为{org_check_character(org[:8])}（GB 11714）")
    expected = check_character(code[:17])
    if code[17] != expected:
        return CodeProblem("check", f"check character is {code[17]!r}, expected {expected!r} (GB 32100-2015)",
                           f"校验码为{code[17]}，应为{expected}（GB 32100-2015）")
    return None


def is_valid(code: str) -> bool:
    return problem(code) is None


def complete(first16: str) -> str:
    """Make a valid code from a 16-character stem (registration authority, type, region, org body)."""
    org_body = first16[8:16]
    stem = first16 + org_check_character(org_body)
    return stem + check_character(stem)
