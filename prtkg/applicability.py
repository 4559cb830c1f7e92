"""Which rules apply to which records, and which cannot run for lack of data: one decision per rule,
used by the shapes (shapes/validate.py) and the engine (rules/*.py) alike.

The catalogue says, per rule, the record kind it reads (`applies.kind`), the field values that make
it apply (`when`), the fields it needs (`needs`), by the names of rules/fields.yaml, and:

- `jurisdiction: CN`: a rule of Chinese law runs only on records known to be within it (the fields
  of rules/fields.yaml `jurisdictions.CN`: a trade type and a GB/T 2260 region). A record without
  them (e.g. another country's OCDS) is DATA-INSUFFICIENT for the rule, never assumed Chinese.
- `must_tender: RULE`: the rule binds only projects that must be tendered by law, measured by the
  thresholds of RULE (BID-MUST-TENDER: NDRC Order 16 art. 5). A tender known to be below them is
  voluntary and not held to the rule; where the data cannot show it (value, category or currency
  unknown) the rule runs and its findings say it assumed tendering was mandatory.

A record whose `when` field is absent, or which the rule applies to but lacks a needed field, goes
to DATA-INSUFFICIENT for that rule instead of being guessed about.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from itertools import groupby
from importlib import resources
from typing import Iterable

import yaml

from .catalogue import catalogue
from .findings import Insufficiency
from .rdf import LATERAL_SHARE, group_concat, in_dialect, split_group

_KINDLESS = {"jurisdictions"}     # top-level keys of fields.yaml that are not record kinds


@lru_cache(maxsize=1)
def _fields_yaml() -> dict:
    text = resources.files("prtkg.rules").joinpath("fields.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def field_paths() -> dict[str, dict[str, str]]:
    return {k: v for k, v in _fields_yaml().items() if k not in _KINDLESS}


def jurisdiction_fields(name: str, kind: str) -> tuple[str, ...]:
    try:
        return tuple(_fields_yaml()["jurisdictions"][name][kind])
    except KeyError:
        raise ValueError(f"rules/fields.yaml: no jurisdiction {name!r} for record kind {kind!r}") from None


@dataclass(frozen=True)
class MustTender:
    """The thresholds of a must-tender rule, read from its catalogue parameters."""
    rule: str
    thresholds: dict[str, Decimal]     # mainProcurementCategory -> threshold
    currency: str
    fields: tuple[str, ...] = ("tender.mainProcurementCategory", "tender.value", "tender.value.currency")

    @classmethod
    def of(cls, rule_id: str) -> MustTender:
        entry = catalogue()[rule_id]
        names = entry.param("category_thresholds")
        return cls(rule_id, {cat: Decimal(str(entry.param(p))) for cat, p in names.items()}, entry.param("currency"))

    def decide(self, have: dict[str, set[str]]) -> tuple[bool, list[str]]:
        """(applies, unknown): False when the data shows the tender below the threshold (voluntary);
        True otherwise, with the fields whose absence made it an assumption."""
        categories = have["tender.mainProcurementCategory"] & set(self.thresholds)
        amounts = []
        for text in have["tender.value"]:
            try:
                amounts.append(Decimal(text))
            except InvalidOperation:
                pass
        currencies = have["tender.value.currency"]
        unknown = []
        if not categories:
            unknown.append("tender.mainProcurementCategory")
        if not amounts:
            unknown.append("tender.value")
        if currencies and currencies != {self.currency}:
            unknown.append("tender.value.currency")
        if unknown:
            return True, unknown
        below = all(a < self.thresholds[c] for a in amounts for c in categories)
        return (not below), []


@dataclass(frozen=True)
class Gate:
    rule: str
    kind: str
    when: dict[str, tuple[str, ...]]
    needs: tuple[str, ...]
    # `when` fields whose absence means "does not apply" rather than "cannot tell" (e.g. an
    # evaluation block: a project without one was not evaluated remotely by any account we have).
    absent_means_not_applicable: frozenset = frozenset()
    jurisdiction: tuple[str, ...] = ()      # fields that must be known for the rule's law to reach the record
    must_tender: MustTender | None = None
    # A narrower scope for some values of one field (`by: {field: {value: {when, must_tender}}}`),
    # e.g. a disclosure rule whose works half binds only tenders of projects that must be tendered.
    by: tuple[str, dict[str, Gate]] | None = None

    def fields(self) -> set[str]:
        out = {*self.when, *self.needs, *self.jurisdiction}
        if self.must_tender:
            out |= set(self.must_tender.fields)
        if self.by:
            out.add(self.by[0])
            for sub in self.by[1].values():
                out |= sub.fields()
        return out


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
        place = tuple(jurisdiction_fields(applies["jurisdiction"], kind)) if applies.get("jurisdiction") else ()
        must = MustTender.of(applies["must_tender"]) if applies.get("must_tender") else None
        optional = frozenset(applies.get("absent_means_not_applicable") or ())
        if not optional <= set(when):
            raise ValueError(f"catalogue: {rule_id}: absent_means_not_applicable names fields not in `when`")
        by = None
        if applies.get("by"):
            (field, scopes), = applies["by"].items()
            by = (field, {value: _sub_gate(rule_id, kind, scope) for value, scope in scopes.items()})
        out[rule_id] = Gate(rule_id, kind, when, needs, optional, place, must, by)
        for name in out[rule_id].fields():
            if name not in paths.get(kind, {}):
                raise ValueError(f"catalogue: {rule_id} names field {name!r}, not in rules/fields.yaml[{kind}]")
    assert set(out) <= set(catalogue())
    return out


def _sub_gate(rule_id: str, kind: str, scope: dict) -> Gate:
    unknown = set(scope) - {"when", "must_tender"}
    if unknown:
        raise ValueError(f"catalogue: {rule_id}: applies.by allows when and must_tender, not {sorted(unknown)}")
    when = {k: tuple(v) for k, v in (scope.get("when") or {}).items()}
    must = MustTender.of(scope["must_tender"]) if scope.get("must_tender") else None
    return Gate(rule_id, kind, when, (), frozenset(), (), must)


def _values_query(kind: str, fields: list[str]) -> str:
    """A page's records (one %s before the GRAPH block: the page's VALUES ?g) with every field's
    values, one row per record."""
    paths = field_paths()[kind]
    selects, optionals = [], []
    for i, name in enumerate(fields):
        # Codes are concept IRIs, OCDS codes are literals: compare both by their last segment.
        selects.append(group_concat(f'REPLACE(STR(?v{i}), "^.*/", "")', f"f{i}"))
        optionals.append(f"OPTIONAL {{ ?main {paths[name]} ?v{i} }}")
    return (f"SELECT ?record ?main {' '.join(selects)} WHERE {{\n%s "
            f"GRAPH ?g {{ ?g prtkg:recordKind \"{kind}\" ; prtkg:recordId ?record ; prtkg:mainNode ?main .\n"
            + "\n".join(optionals) + "\n} } GROUP BY ?record ?main")


def _rows_query(kind: str, fields: list[str]) -> str:
    """Every stored record of the kind with its fields' values, one row per combination of values
    (one row for most: the gated fields are a tender's), a record's rows together (ORDER BY).

    Measured at 10^5 projects: paged by 25,000 graphs, _values_query took ~29 min (each page's
    VALUES joined after the graph pattern, then grouped). Whole, without VALUES, its GROUP BY held
    every record's nine GROUP_CONCAT sets at once: 25 s CPU, peak RSS 0.66 GiB. These rows, grouped
    here a record at a time: 32 s CPU, 0.51 GiB. Without the ORDER BY Oxigraph happens to emit a
    record's rows together too (24 s, 0.33 GiB), but SPARQL promises no order, and a record split
    in two would be decided twice on half its data, so the order is asked for."""
    paths = field_paths()[kind]
    selects = " ".join(f'(REPLACE(STR(?v{i}), "^.*/", "") AS ?f{i})' for i in range(len(fields)))
    optionals = "\n".join(f"OPTIONAL {{ ?main {paths[name]} ?v{i} }}" for i, name in enumerate(fields))
    return (f"SELECT ?record ?main {selects} WHERE {{\n"
            f"GRAPH ?g {{ ?g prtkg:recordKind \"{kind}\" ; prtkg:recordId ?record ; prtkg:mainNode ?main .\n"
            f"{optionals}\n}} }} ORDER BY ?record ?main")


def _paged_values(store, kind: str, fields: list[str], graphs: list[str]):
    """(record, main node, {field: values}) of the records in these graphs, a page at a time: row by
    row (LATERAL) where the store parses it and a page is at most half its records (as the rule
    families' pages, rules/common.py page_query); else the plain text, which pays a scan of the store
    once per page."""
    query = _values_query(kind, fields)
    lateral = in_dialect(store, query)
    count = record_count(store) if lateral != query else 0
    for page in _pages(graphs):
        # One record of 10^5 projects: 21.6 s CPU in the plain text (a scan of the store), 0.14 s row by row.
        text = lateral if len(page) * LATERAL_SHARE <= count else query
        values = "VALUES ?g { " + " ".join(f"<{g}>" for g in page) + " }"
        for row in store.select(text % values):
            yield row["record"], row["main"], {name: set(split_group(row[f"f{i}"])) for i, name in enumerate(fields)}


def _whole_values(store, kind: str, fields: list[str]):
    """(record, main node, {field: values}) of every stored record of the kind, streamed: memory
    holds one record's rows. An empty value is no value, as split_group reads _values_query's."""
    rows = store.stream(_rows_query(kind, fields))
    for (record, main), group in groupby(rows, key=lambda row: (row["record"], row["main"])):
        have: dict[str, set[str]] = {name: set() for name in fields}
        for row in group:
            for i, name in enumerate(fields):
                if row[f"f{i}"]:
                    have[name].add(row[f"f{i}"])
        yield record, main, have


def decide(gate: Gate, have: dict[str, set[str]]) -> tuple[str, list[str]]:
    """One record against one gate: ("applies", assumed-unknown fields), ("insufficient", missing
    fields) or ("not-applicable", [])."""
    if any(not have[f] for f in gate.absent_means_not_applicable):
        return "not-applicable", []
    if any(have[f] and not have[f] & set(allowed) for f, allowed in gate.when.items()):
        return "not-applicable", []     # a known value excludes it
    missing = [f for f in gate.jurisdiction if not have[f]]
    missing += [f for f in gate.when if not have[f] and f not in missing]
    if missing:
        return "insufficient", missing
    missing = [f for f in gate.needs if not have[f]]
    if missing:
        return "insufficient", missing
    unknown: list[str] = []
    if gate.must_tender is not None:
        applies, unknown = gate.must_tender.decide(have)
        if not applies:
            return "not-applicable", []
    if gate.by is not None:
        field, scopes = gate.by
        for value in sorted(have[field] & set(scopes)):
            outcome, names = decide(scopes[value], have)
            if outcome != "applies":
                return outcome, names
            unknown += names
    return "applies", unknown


# Records per query: the query's VALUES and its rows (a few dozen fields each) stay this size
# whatever the number of records under check. Large, because a page is not yet a page's cost:
# Oxigraph 0.5 evaluates an OPTIONAL's right side over the whole store and joins it to the page
# (measured at 1,000 projects: 10 graphs 0.9 s, all 1,000 graphs 1.7 s), so every page costs a scan
# of the store. LATERAL would bound it by the page (10 graphs: 0.03 s) but is not standard SPARQL.
PAGE = 25000


def _pages(graphs: list[str]):
    for i in range(0, len(graphs), PAGE):
        yield graphs[i:i + PAGE]


def record_count(store) -> int:
    """How many record graphs the store holds (one scan of a property every record has). Here, not
    in prtkg.context, because the gate asks it too (whether its graphs are the whole store)."""
    rows = store.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?g prtkg:recordKind ?kind } }")
    return int(rows[0]["n"]) if rows else 0


class Applicability:
    """For one check run: per rule, the records it applies to (and can run on)."""

    def __init__(self, store, graphs: list[str] | None, insufficient: Insufficiency, whole: bool | None = None):
        """`graphs`: the record graphs under check, None for every stored record. `whole`: whether
        they are every record of the store (Context.covers_store), which is then asked whole, with
        no VALUES; None: counted here."""
        self._applicable: dict[str, set[str]] = {}
        self._assumed: dict[tuple[str, str], dict] = {}
        by_kind: dict[str, list[Gate]] = {}
        for gate in gates().values():
            by_kind.setdefault(gate.kind, []).append(gate)
        if whole is None:
            whole = graphs is None or len(graphs) >= record_count(store)
        for kind, kind_gates in by_kind.items():
            fields = sorted({f for g in kind_gates for f in g.fields()})
            found = _whole_values(store, kind, fields) if whole else _paged_values(store, kind, fields, graphs)
            for record, main, have in found:
                for gate in kind_gates:
                    outcome, names = decide(gate, have)
                    if outcome == "insufficient":
                        insufficient.add(record, main, gate.rule, names)
                    elif outcome == "applies":
                        self._applicable.setdefault(gate.rule, set()).add(record)
                        if names:
                            self._assumed[(gate.rule, record)] = {
                                "mustTender": "assumed", "mustTenderUnknown": names}

    def records(self, rule_id: str) -> set[str]:
        """Records (ids) the gated rule applies to and has its data for."""
        if rule_id not in gates():
            raise KeyError(f"{rule_id} has no applies/needs block in the catalogue")
        return self._applicable.get(rule_id, set())

    def assumed(self, rule_id: str, record_id: str) -> dict:
        """What the rule's findings on the record assumed (evidence), e.g. that tendering was mandatory."""
        return dict(self._assumed.get((rule_id, record_id), {}))
