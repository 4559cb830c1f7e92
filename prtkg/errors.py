"""Errors by kind. Each is caught at the edge and shown as one clear line: the CLI prints it, the API
answers with the status of its kind (prtkg.api.app.ERROR_STATUS, the one place that maps them).

Who is to blame decides the kind: the caller (bad input, 4xx), the server's own configuration (500),
or the store behind the server (down: 503; answering garbage or refusing: 502).
"""
from __future__ import annotations


class PrtkgError(Exception):
    """A problem prtkg can explain in one line; str() is that line. Raised as is, it is the caller's
    input (a 400); the subclasses below name other culprits."""


class InputError(PrtkgError):
    """A file or body that cannot be used as a whole (not JSON, unknown CSV header, wrong encoding...)."""

    def __init__(self, source: str, reason: str):
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class ConfigError(PrtkgError):
    """A configuration value (environment, override file, parameters) that cannot be used: the
    operator's to fix, not the caller's."""


class StoreError(PrtkgError):
    """The store cannot be opened, or it failed or answered something that is not a SPARQL answer."""


class StoreUnavailable(StoreError):
    """The store did not answer at all (unreachable, timed out): worth retrying later."""


class CheckFailed(PrtkgError):
    """Checking records failed inside prtkg (a defect, not the input): nothing was stored."""
