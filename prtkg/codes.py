"""Closed code lists, read from the ontology's SKOS schemes (ontology/codes.ttl, divisions.ttl).

Loaders resolve an incoming value (English code, or a Chinese label such as 招标 or 行政处罚) to
its concept here; what the lists contain is data, never restated in code.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pyoxigraph as ox


_QUERY = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prtkg: <https://w3id.org/prtkg/ontology#>
SELECT ?c ?scheme ?notation ?label ?alt ?broader ?level WHERE {
  ?c skos:inScheme ?scheme ; skos:notation ?notation .
  OPTIONAL { ?c skos:prefLabel ?label }
  OPTIONAL { ?c skos:altLabel ?alt }
  OPTIONAL { ?c skos:broader ?broader }
  OPTIONAL { ?c prtkg:level ?level }
}"""


@dataclass
class Concept:
    iri: str
    scheme: str
    code: str
    labels: dict[str, str]
    broader: str | None = None
    level: str | None = None

    def label(self, lang: str = "zh") -> str:
        # A division has a Chinese name only: that name, not the number, in every language.
        return self.labels.get(lang) or self.labels.get("en") or self.labels.get("zh") or self.code


@dataclass
class Scheme:
    name: str
    concepts: dict[str, Concept]      # by code
    lookup: dict[str, Concept]        # by code, any label, any alt label (case-folded)

    def resolve(self, value: str) -> Concept | None:
        return self.lookup.get(str(value).strip().casefold())

    def __contains__(self, code: str) -> bool:
        return code in self.concepts


_MEMBERS = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?coll ?notation WHERE { ?coll a skos:Collection ; skos:member/skos:notation ?notation }"""


@lru_cache(maxsize=1)
def _ontology() -> ox.Store:
    store = ox.Store()
    onto = resources.files("prtkg.ontology")
    for name in ("codes.ttl", "divisions.ttl"):
        path = onto.joinpath(name)
        if path.is_file():
            store.load(path.read_bytes(), format=ox.RdfFormat.TURTLE)
    return store


@lru_cache(maxsize=1)
def _schemes() -> dict[str, Scheme]:
    store = _ontology()
    schemes: dict[str, Scheme] = {}
    concepts: dict[str, Concept] = {}
    alts: dict[str, set[str]] = {}
    for row in store.query(_QUERY):
        c_iri = row["c"].value
        scheme_name = row["scheme"].value.rstrip("/").rsplit("/", 1)[-1]
        c = concepts.get(c_iri)
        if c is None:
            c = concepts[c_iri] = Concept(c_iri, scheme_name, row["notation"].value, {})
            alts[c_iri] = set()
        if row["label"] is not None:
            c.labels[row["label"].language or "zh"] = row["label"].value
        if row["alt"] is not None:
            alts[c_iri].add(row["alt"].value)
        if row["broader"] is not None:
            c.broader = row["broader"].value
        if row["level"] is not None:
            c.level = row["level"].value
    for c in concepts.values():
        s = schemes.setdefault(c.scheme, Scheme(c.scheme, {}, {}))
        s.concepts[c.code] = c
        for key in (c.code, *c.labels.values(), *alts[c.iri]):
            s.lookup.setdefault(key.strip().casefold(), c)
    return schemes


def scheme(name: str) -> Scheme:
    try:
        return _schemes()[name]
    except KeyError:
        raise KeyError(f"no code list {name!r} in the ontology's code schemes") from None


@lru_cache(maxsize=1)
def _collections() -> dict[str, frozenset[str]]:
    """Sub-lists of a code list (a skos:Collection <.../code/SCHEME/NAME>), by "SCHEME/NAME"."""
    found: dict[str, set[str]] = {}
    for row in _ontology().query(_MEMBERS):
        key = "/".join(row["coll"].value.rstrip("/").rsplit("/", 2)[-2:])
        found.setdefault(key, set()).add(row["notation"].value)
    return {k: frozenset(v) for k, v in found.items()}


def members(scheme_name: str, collection: str) -> frozenset[str]:
    """The codes of `scheme_name` in its sub-list `collection` (bid-status/submitted: pending, valid, ...)."""
    try:
        return _collections()[f"{scheme_name}/{collection}"]
    except KeyError:
        raise KeyError(f"no sub-list {collection!r} of code list {scheme_name!r} in ontology/codes.ttl") from None


def non_members(scheme_name: str, collection: str) -> frozenset[str]:
    """The codes of `scheme_name` outside its sub-list `collection` (bid-status: invited, withdrawn)."""
    return frozenset(scheme(scheme_name).concepts) - members(scheme_name, collection)


def sparql_list(codes: frozenset[str] | set[str]) -> str:
    """Codes as the terms of a SPARQL IN (...) list, in a stable order."""
    return ", ".join(json.dumps(c, ensure_ascii=False) for c in sorted(codes))


# `{{codes:SCHEME/COLLECTION}}` or `{{codes:SCHEME/not COLLECTION}}` in a query or shape: the IN list.
_PLACEHOLDER = re.compile(r"\{\{\s*codes:([a-z-]+)/(not\s+)?([a-z-]+)\s*\}\}")


def fill(text: str) -> str:
    """Replace each `{{codes:...}}` placeholder in a SPARQL text with its code list."""
    def sub(m: re.Match) -> str:
        pick = non_members if m.group(2) else members
        return sparql_list(pick(m.group(1), m.group(3)))
    return _PLACEHOLDER.sub(sub, text)


# Cardinal's get_submitted_bids: a bid counts unless its status is one of these.
def not_submitted_bid_statuses() -> frozenset[str]:
    return non_members("bid-status", "submitted")


def label(scheme_name: str, code: str, lang: str = "zh") -> str:
    """The label of `code` in code list `scheme_name`, in `lang`; a code the list lacks stays as it is."""
    c = scheme(scheme_name).concepts.get(code)
    return c.label(lang) if c else code


def labels(scheme_name: str, code: str) -> dict[str, str]:
    """The labels of `code` by language (zh and en at least), for text shown in either language."""
    c = scheme(scheme_name).concepts.get(code)
    return {lang: (c.label(lang) if c else code) for lang in ("zh", "en")}


def region_chain(code: str) -> list[str]:
    """A division code and every division above it, nearest first: 530102 -> [530102, 530100, 530000]."""
    regions = scheme("region")
    chain = []
    c = regions.concepts.get(code)
    while c is not None:
        chain.append(c.code)
        c = regions.concepts.get(c.broader.rsplit("/", 1)[-1]) if c.broader else None
    return chain
