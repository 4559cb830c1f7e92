"""Closed code lists, read from the ontology's SKOS schemes (ontology/codes.ttl, divisions.ttl).

Loaders resolve an incoming value (English code, or a Chinese label such as 招标 or 行政处罚) to
its concept here; what the lists contain is data, never restated in code.
"""
from __future__ import annotations

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


@lru_cache(maxsize=1)
def _schemes() -> dict[str, Scheme]:
    store = ox.Store()
    onto = resources.files("prtkg.ontology")
    for name in ("codes.ttl", "divisions.ttl"):
        path = onto.joinpath(name)
        if path.is_file():
            store.load(path.read_bytes(), format=ox.RdfFormat.TURTLE)
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
