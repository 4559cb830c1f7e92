"""rules/casework.yaml as read. Its own module because findings (which evidence grows with 'today')
and jurisdiction (the shared kinds and graphs) read it too, below the case handling built on both."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml


@lru_cache(maxsize=1)
def config() -> dict:
    """rules/casework.yaml as read."""
    return yaml.safe_load(resources.files("prtkg.rules").joinpath("casework.yaml").read_text(encoding="utf-8"))


def volatile_evidence() -> frozenset[str]:
    """Evidence entries that grow with 'today' (days overdue, ...): left out of a finding's identity."""
    return frozenset(config().get("volatile_evidence") or ())
