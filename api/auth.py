"""Bearer tokens with roles. Tokens come from Settings (the environment), never from code."""
from __future__ import annotations

import hashlib
import hmac

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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


def require(*roles: str):
    """A dependency that admits a token of one of `roles` (or admin), 401 without a valid token, 403 otherwise."""
    needed = " or ".join(repr(r) for r in roles)

    def check(request: Request, cred: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:
        if cred is None:
            raise HTTPException(401, f"this resource needs a bearer token with role {needed}",
                                headers={"WWW-Authenticate": "Bearer"})
        found = role_of(request.app.state.settings.tokens, cred.credentials)
        if found is None:
            raise HTTPException(401, "unknown bearer token", headers={"WWW-Authenticate": "Bearer"})
        if found not in (*roles, "admin"):
            raise HTTPException(403, f"this resource needs role {needed}; the token has role {found!r}")
        return found
    return check
