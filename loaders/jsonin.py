"""Read JSON and JSON Lines input into top-level items, with clear errors for unusable bytes."""
from __future__ import annotations

import json
from typing import Any

from prtkg.errors import InputError
from prtkg.records import FieldError, Rejection


def decode(data: bytes, name: str) -> str:
    """Text of an input that must be UTF-8 (a BOM is tolerated); anything else is named, not guessed."""
    if not data.strip():
        raise InputError(name, "empty input")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or _looks_utf16(data[:64]) or _utf16_text(data[:4096]):
        raise InputError(name, "UTF-16 encoded; re-save it as UTF-8")
    if b"\x00" in data[:4096]:
        raise InputError(name, "binary data, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        hint = ""
        try:
            data.decode("gb18030")
            hint = " (it looks like GBK/GB18030; re-save it as UTF-8)"
        except UnicodeDecodeError:
            pass
        raise InputError(name, f"not valid UTF-8 at byte {e.start}{hint}") from None


def _looks_utf16(head: bytes) -> bool:
    # BOM-less UTF-16 of ASCII-range text: a zero in every other byte, on one side.
    if len(head) < 4:
        return False
    even, odd = head[0::2], head[1::2]
    return (all(b == 0 for b in even) and all(b != 0 for b in odd)) or \
           (all(b == 0 for b in odd) and all(b != 0 for b in even))


def _utf16_text(head: bytes) -> bool:
    # BOM-less UTF-16 of CJK text has no zero-byte pattern; it shows as printable text when decoded so.
    if b"\x00" not in head:
        return False
    head = head[:len(head) - len(head) % 2]
    for enc in ("utf-16-le", "utf-16-be"):
        try:
            text = head.decode(enc)
        except UnicodeDecodeError:
            continue
        if text and all(ch.isprintable() or ch in "\r\n\t" for ch in text):
            return True
    return False


def _parse(text: str) -> Any:
    try:
        return json.loads(text, parse_float=str, parse_int=int)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def read(data: bytes, name: str, lines: bool) -> tuple[list[tuple[str, Any]], list[Rejection]]:
    """Items as (source, object): an object is one item, an array's elements and JSON Lines each one.

    Numbers with a fraction are kept as strings so amounts stay exact (loaders make Decimals).
    A whole-file JSON error raises InputError; a bad line of JSON Lines is rejected on its own.
    """
    text = decode(data, name)
    stripped = text.lstrip()
    if not lines or (stripped[:1] == "[" ) or _single_document(stripped):
        try:
            doc = _parse(text)
        except ValueError as e:
            if not lines:
                raise InputError(name, f"not valid JSON: {e}") from None
        else:
            if isinstance(doc, list):
                return [(f"{name}#{i}", item) for i, item in enumerate(doc)], []
            return [(name, doc)], []
    items, rejected = [], []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append((f"{name}#{n}", _parse(line)))
        except ValueError as e:
            rejected.append(Rejection(f"{name}#{n}", [FieldError("(line)", f"not valid JSON: {e}")]))
    if not items and rejected:
        raise InputError(name, f"no line is valid JSON ({rejected[0].errors[0].error})")
    return items, rejected


def _single_document(text: str) -> bool:
    # A pretty-printed single object in a .jsonl file: one document spanning lines.
    return text.startswith("{") and "\n" in text.strip() and not text.splitlines()[0].rstrip().endswith("}")
