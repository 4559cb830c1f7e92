"""Which rules apply to which records, and which cannot run for lack of data.

The catalogue says, per rule, the record kind it reads, the field values that make it apply
(`when`) and the fields it needs (`needs`), by the names of rules/fields.yaml. A record whose
`when` field is absent, or which the rule applies to but lacks a needed field, goes to
DATA-INSUFFICIENT for that rule instead of being guessed about.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable

import yaml

from .catalogue import catalogue
from .findings import Insufficiency
from .rdf import group_concat, split_group


@lru_cache(maxsize=1)
def field_paths() -> dict[str, dict[str, str]]:
    text = resources.files("prtkg.rules").joinpath("fields.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@dataclass(frozen=True)
class Gate:
    rule: str
    kind: str
    when: dict[str, tuple[str, ...]]
    needs: tuple[str, ...]
    # `when` fields whose absence means "does not apply" rather than "cannot tell" (e.g. an
    # evaluation block: a project without one was not evaluated remotely by any account we have).
    absent_means_not_applicable: frozenset = frozenset()


@lru_cache(maxsize=1)
def gates() -> dict[str, Gate]:
    raw = yaml.safe_load(resources.files("prtkg.rules").joinpath("catalogue.yaml").read_text(encoding="utf-8"))
    out = {}
    paths = field_paths()
    for rule_id, entry in raw.items():
        applies = entry.get("applies")
        if not applies:
            continue
        kind = applies["kind"]
        when = {k: tuple(v) for k, v in (applies.get("when") or {}).items()}
        needs = tuple(entry.get("needs") or ())
        for name in (*when, *needs):
            if name not in paths.get(kind, {}):
                raise ValueError(f"catalogue: {rule_id} names field {name!r}, not in rules/fields.yaml[{kind}]")
        optional = frozenset(applies.get("absent_means_not_applicable") or ())
        if not optional <= set(when):
            raise ValueError(f"catalogue: {rule_id}: absent_means_not_applicable names fields not in `when`")
        out[rule_id] = Gate(rule_id, kind, when, needs, optional)
    assert set(out) <= set(catalogue())
    return out


def _values_query(kind: str, fields: list[str], graphs: Iterable[str] | None) -> str:
    paths = field_paths()[kind]
    selects, optionals = [], []
    for i, name in enumerate(fields):
        # Codes are concept IRIs, OCDS codes are literals: compare both by their last segment.
        selects.append(group_concat(f'REPLACE(STR(?v{i}), "^.*/", "")', f"f{i}"))
        optionals.append(f"OPTIONAL {{ ?main {paths[name]} ?v{i} }}")
    values = ""
    if graphs is not None:
        values = "VALUES ?g { " + " ".join(f"<{g}>" for g in graphs) + " }\n"
    return (f"SELECT ?record ?main {' '.join(selects)} WHERE {{\n{values}"
            f"GRAPH ?g {{ ?g prtkg:recordKind \"{kind}\" ; prtkg:recordId ?record ; prtkg:mainNode ?main .\n"
            + "\n".join(optionals) + "\n} } GROUP BY ?record ?main")


class Applicability:
    """For one check run: per rule, the records it applies to (and can run on)."""

    def __init__(self, store, graphs: list[str] | None, insufficient: Insufficiency):
        self._applicable: dict[str, set[str]] = {}
        by_kind: dict[str, list[Gate]] = {}
        for gate in gates().values():
            by_kind.setdefault(gate.kind, []).append(gate)
        for kind, kind_gates in by_kind.items():
            fields = sorted({f for g in kind_gates for f in (*g.when, *g.needs)})
            rows = store.select(_values_query(kind, fields, graphs))
            for row in rows:
                have = {name: set(split_group(row[f"f{i}"]))
                        for i, name in enumerate(fields)}
                for gate in kind_gates:
                    if any(not have[f] for f in gate.absent_means_not_applicable):
                        continue
                    missing = [f for f in gate.when if not have[f]]
                    if not missing:
                        if not all(have[f] & set(allowed) for f, allowed in gate.when.items()):
                            continue  # known not to apply
                        missing = [f for f in gate.needs if not have[f]]
                    if missing:
                        insufficient.add(row["record"], row["main"], gate.rule, missing)
                    else:
                        self._applicable.setdefault(gate.rule, set()).add(row["record"])

    def records(self, rule_id: str) -> set[str]:
        """Records (ids) the gated rule applies to and has its data for."""
        if rule_id not in gates():
            raise KeyError(f"{rule_id} has no applies/needs block in the catalogue")
        return self._applicable.get(rule_id, set())
