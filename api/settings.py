"""Service settings, read from the environment once at start-up (never from the repository).

PRTKG_TOKENS        "token1:role,token2:role@530100" (roles: ingest, staff, admin; @DIVISION limits the
                    token to that GB/T 2260 division and those below it)
PRTKG_TOKENS_FILE   a file of such entries, one or more a line, '#' starts a comment
PRTKG_QUERY_TIMEOUT seconds a SPARQL query may run (default 10)
PRTKG_BODY_LIMIT    largest accepted request body in bytes (default 20 MB)
PRTKG_CORS_ORIGINS  comma-separated origins allowed by CORS (default: none, CORS off)
PRTKG_MAX_QUERIES   SPARQL queries run at once (default 4); more wait, within their time limit
PRTKG_QUERY_MEMORY_MB memory a SPARQL query may take, per query process (default 1024)
PRTKG_VALIDATE_TIMEOUT  seconds a POST /validate may take (default 60); past it 504
PRTKG_MAX_VALIDATIONS   POST /validate requests checked at once (default 2); more are refused with 503
PRTKG_CREDIT_MAX_CODES  codes in one POST /credit/checks (default 500)
PRTKG_TRUSTED_PROXIES   comma-separated addresses (or networks) of reverse proxies whose X-Forwarded-For
                        names the caller (default: none, the header is ignored)
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


def _list(name: str) -> list[str]:
    return [v.strip() for v in os.environ.get(name, "").split(",") if v.strip()]


@dataclass
class Settings:
    tokens: dict[str, str] = field(default_factory=dict, repr=False)
    query_timeout: float = 10.0
    body_limit: int = 20 * 1024 * 1024
    cors_origins: list[str] = field(default_factory=list)
    max_queries: int = 4
    query_memory_mb: int = 1024
    validate_timeout: float = 60.0
    max_validations: int = 2
    credit_max_codes: int = 500
    trusted_proxies: list[str] = field(default_factory=list)

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
        origins = _list("PRTKG_CORS_ORIGINS")
        return cls(tokens=tokens,
                   query_timeout=_number("PRTKG_QUERY_TIMEOUT", 10.0),
                   body_limit=int(_number("PRTKG_BODY_LIMIT", 20 * 1024 * 1024, int)),
                   cors_origins=origins,
                   max_queries=int(_number("PRTKG_MAX_QUERIES", 4, int)),
                   query_memory_mb=int(_number("PRTKG_QUERY_MEMORY_MB", 1024, int)),
                   validate_timeout=_number("PRTKG_VALIDATE_TIMEOUT", 60.0),
                   max_validations=int(_number("PRTKG_MAX_VALIDATIONS", 2, int)),
                   credit_max_codes=int(_number("PRTKG_CREDIT_MAX_CODES", 500, int)),
                   trusted_proxies=_list("PRTKG_TRUSTED_PROXIES"))
