"""The rule catalogue (rules/catalogue.yaml): ids, severities, bases, messages and parameters."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import os

import yaml

from .errors import ConfigError

SEVERITIES = ("violation", "warning", "info")


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    family: str
    basis: str
    message: dict[str, str]
    params: dict[str, dict[str, Any]]
    implementation: tuple[str, ...] = ()   # repository paths: shapes/*.ttl or a module producing it
    # The evidence entries that make a finding's identity; empty = the default (prtkg.casework).
    identity: tuple[str, ...] = ()

    @property
    def is_shape(self) -> bool:
        return any(path.endswith(".ttl") for path in self.implementation)

    def param(self, name: str) -> Any:
        return self.params[name]["value"]

    def param_values(self) -> dict[str, Any]:
        return {k: v["value"] for k, v in self.params.items()}


# The section of PRTKG_PARAMS that sets rules/casework.yaml's policy values (handling time per
# severity) rather than a rule's; no rule id can be lower-case, so it never shadows one.
CASEWORK = "casework"


def policy_overrides() -> dict:
    """PRTKG_PARAMS as read: {RULE-ID: {param: value}, "casework": {"handling": {severity: days}}}."""
    path = os.environ.get("PRTKG_PARAMS")
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"PRTKG_PARAMS {path}: cannot read: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"PRTKG_PARAMS {path}: expected a mapping of rule ids to parameters")
    return data


def apply_policy(specs: dict, values: Any, where: str) -> None:
    """Set policy values `{name: value}` into `specs` ({name: {value, basis, policy}}), in place.

    Only policy targets may be changed: a statutory number is the law's, not configuration's.
    Unknown names are refused, so a typo never silently leaves the default in force.
    """
    path = os.environ.get("PRTKG_PARAMS")
    if not isinstance(values, dict):
        raise ConfigError(f"PRTKG_PARAMS {path}: {where} must be a mapping of names to values")
    for name, value in values.items():
        spec = specs.get(name)
        if spec is None:
            raise ConfigError(f"PRTKG_PARAMS {path}: {where} has no parameter {name!r}")
        if not spec.get("policy"):
            raise ConfigError(f"PRTKG_PARAMS {path}: {where}.{name} is statutory ({spec['basis']}), "
                              "not a policy target; it cannot be configured")
        if type(value) is not type(spec["value"]) and not (
                isinstance(value, (int, float)) and isinstance(spec["value"], (int, float))):
            raise ConfigError(f"PRTKG_PARAMS {path}: {where}.{name} must be like {spec['value']!r}")
        spec["value"] = value


def _overrides(raw: dict) -> None:
    """Apply PRTKG_PARAMS's rule sections to the catalogue's policy parameters."""
    path = os.environ.get("PRTKG_PARAMS")
    for rule_id, params in policy_overrides().items():
        if rule_id == CASEWORK:
            continue    # prtkg.casework applies it (and refuses what it does not know)
        entry = raw.get(rule_id)
        if entry is None:
            raise ConfigError(f"PRTKG_PARAMS {path}: unknown rule {rule_id!r}")
        apply_policy(entry.get("params") or {}, params or {}, rule_id)


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Rule]:
    text = resources.files("prtkg.rules").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    _overrides(raw)
    rules = {}
    for rule_id, entry in raw.items():
        if entry["severity"] not in SEVERITIES:
            raise ValueError(f"catalogue: {rule_id} has unknown severity {entry['severity']!r}")
        impl = entry.get("implementation") or ()
        rules[rule_id] = Rule(rule_id, entry["severity"], entry["family"], entry["basis"],
                              entry["message"], entry.get("params") or {},
                              (impl,) if isinstance(impl, str) else tuple(impl), tuple(entry.get("identity") or ()))
    return rules


def rule(rule_id: str) -> Rule:
    return catalogue()[rule_id]
