"""Bearer tokens with roles. Tokens come from Settings (the environment), never from code."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .settings import split_role

bearer = HTTPBearer(auto_error=False, description="A token from PRTKG_TOKENS / PRTKG_TOKENS_FILE")


def role_of(tokens: dict[str, str], given: str) -> str | None:
    """The role of a token, comparing in constant time against every configured token."""
    found = None
    given_b = given.encode()
    for token, role in tokens.items():
        # No early exit: the time taken must not tell how many tokens exist or which one matched.
        if hmac.compare_digest(token.encode(), given_b):
            found = role
    return found


def fingerprint(token: str) -> str:
    """How a caller is named in provenance: never the token itself."""
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:12]


def caller(request: Request, cred: HTTPAuthorizationCredentials | None) -> str:
    if cred is not None and role_of(request.app.state.settings.tokens, cred.credentials):
        return fingerprint(cred.credentials)
    host = request.client.host if request.client else "unknown"
    return f"anonymous@{host}"


@dataclass(frozen=True)
class Principal:
    """Who calls: the token's role, its division (None = province-wide) and its name in provenance."""
    role: str
    division: str | None
    agent: str


def require(*roles: str):
    """A dependency that admits a token of one of `roles` (or admin), 401 without a valid token, 403 otherwise.
    It returns the caller as a Principal: routes that scope by division read `.division`."""
    needed = " or ".join(repr(r) for r in roles)

    # async: a sync dependency is run in the thread pool, a hop that cost /sparql about a tenth of a
    # millisecond per request (its fixed cost is compared with `oxigraph serve`'s); this one only compares.
    async def check(request: Request, cred: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
        if cred is None:
            raise HTTPException(401, f"this resource needs a bearer token with role {needed}",
                                headers={"WWW-Authenticate": "Bearer"})
        found = role_of(request.app.state.settings.tokens, cred.credentials)
        if found is None:
            raise HTTPException(401, "unknown bearer token", headers={"WWW-Authenticate": "Bearer"})
        found_role, division = split_role(found)
        if found_role not in (*roles, "admin"):
            raise HTTPException(403, f"this resource needs role {needed}; the token has role {found_role!r}")
        return Principal(found_role, division, fingerprint(cred.credentials))
    return check
