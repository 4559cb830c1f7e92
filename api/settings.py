"""Service settings, read from the environment once at start-up (never from the repository).

PRTKG_TOKENS        "token1:role,token2:role@530100" (roles: ingest, staff, admin; @DIVISION limits the
                    token to that GB/T 2260 division and those below it)
PRTKG_TOKENS_FILE   a file of such entries, one or more a line, '#' starts a comment
PRTKG_QUERY_TIMEOUT seconds a SPARQL query may run (default 10)
PRTKG_BODY_LIMIT    largest accepted request body in bytes (default 20 MB)
PRTKG_CORS_ORIGINS  comma-separated origins allowed by CORS (default: none, CORS off)
PRTKG_MAX_QUERIES   SPARQL queries run at once (default 4); more wait, within their time limit
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from prtkg.errors import ConfigError

ROLES = ("ingest", "staff", "admin")


def parse_tokens(text: str, source: str) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        for entry in filter(None, (e.strip() for e in line.split(","))):
            token, sep, role = entry.rpartition(":")
            if not sep or not token:
                raise ConfigError(f"{source}: entry {entry[:4]}... is not TOKEN:ROLE or TOKEN:ROLE@DIVISION")
            role_only, at, division = role.partition("@")
            if role_only not in ROLES:
                raise ConfigError(f"{source}: role {role_only!r} is not one of {', '.join(ROLES)}")
            if at:
                _check_division(division, source)
            tokens[token] = role
    return tokens


def _check_division(code: str, source: str) -> None:
    from prtkg.jurisdiction import divisions_within

    if not divisions_within(code):
        raise ConfigError(f"{source}: division {code!r} is not a GB/T 2260 code of the region code list")


def split_role(value: str) -> tuple[str, str | None]:
    """'staff@530100' -> ('staff', '530100'); 'staff' -> ('staff', None): a token's role and division."""
    role, _, division = value.partition("@")
    return role, division or None


def _number(name: str, default: float, kind: type = float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a number") from None
    if value <= 0:
        raise ConfigError(f"{name}: must be positive, got {raw!r}")
    return value


@dataclass
class Settings:
    tokens: dict[str, str] = field(default_factory=dict, repr=False)
    query_timeout: float = 10.0
    body_limit: int = 20 * 1024 * 1024
    cors_origins: list[str] = field(default_factory=list)
    max_queries: int = 4

    @classmethod
    def from_env(cls) -> "Settings":
        tokens = parse_tokens(os.environ.get("PRTKG_TOKENS", ""), "PRTKG_TOKENS")
        path = os.environ.get("PRTKG_TOKENS_FILE")
        if path:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as e:
                raise ConfigError(f"PRTKG_TOKENS_FILE: cannot read {path}: {e.strerror or e}") from None
            tokens.update(parse_tokens(text, path))
        origins = [o.strip() for o in os.environ.get("PRTKG_CORS_ORIGINS", "").split(",") if o.strip()]
        return cls(tokens=tokens,
                   query_timeout=_number("PRTKG_QUERY_TIMEOUT", 10.0),
                   body_limit=int(_number("PRTKG_BODY_LIMIT", 20 * 1024 * 1024, int)),
                   cors_origins=origins,
                   max_queries=int(_number("PRTKG_MAX_QUERIES", 4, int)))
