"""The rule catalogue (rules/catalogue.yaml): ids, severities, bases, messages and parameters."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

SEVERITIES = ("violation", "warning", "info")


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    family: str
    basis: str
    message: dict[str, str]
    params: dict[str, dict[str, Any]]

    def param(self, name: str) -> Any:
        return self.params[name]["value"]

    def param_values(self) -> dict[str, Any]:
        return {k: v["value"] for k, v in self.params.items()}


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Rule]:
    text = resources.files("prtkg.rules").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    rules = {}
    for rule_id, entry in raw.items():
        if entry["severity"] not in SEVERITIES:
            raise ValueError(f"catalogue: {rule_id} has unknown severity {entry['severity']!r}")
        rules[rule_id] = Rule(rule_id, entry["severity"], entry["family"], entry["basis"],
                              entry["message"], entry.get("params") or {})
    return rules


def rule(rule_id: str) -> Rule:
    return catalogue()[rule_id]
