"""Errors a user can cause. Each is caught at the edge (CLI, API) and shown as one clear line."""
from __future__ import annotations


class PrtkgError(Exception):
    """A user-caused problem; str() is the one line to show."""


class InputError(PrtkgError):
    """A file or body that cannot be used as a whole (not JSON, unknown CSV header, wrong encoding...)."""

    def __init__(self, source: str, reason: str):
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class ConfigError(PrtkgError):
    """A configuration value (environment, override file, parameters) that cannot be used."""


class StoreError(PrtkgError):
    """The store cannot be opened or reached."""
