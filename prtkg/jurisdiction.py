"""Jurisdiction: which records, findings and graphs a division sees.

A division (GB/T 2260 code) sees itself and every division below it, by the region code list's
hierarchy. A record belongs to the divisions it names (any `prtkg:region` in its graph: a project's,
a venue's, a listed power's) and, for an event about a project (a complaint, an inspection), to the
project's. What every division shares (the ontology and code lists, the calendar, the reference
lists) is data: rules/casework.yaml, `jurisdiction`.
"""
from __future__ import annotations

from functools import lru_cache

from . import rdf

NONE = "<urn:prtkg:none>"  # a graph that never exists: an empty dataset, never a fallback to all


def divisions_within(code: str) -> frozenset[str]:
    """A division and every division below it; empty for a code the region code list lacks."""
    return _below().get(code, frozenset())


@lru_cache(maxsize=1)
def _below() -> dict[str, frozenset[str]]:
    from .codes import region_chain, scheme

    out: dict[str, set[str]] = {}
    for code in scheme("region").concepts:
        for up in region_chain(code):
            out.setdefault(up, set()).add(code)
    return {k: frozenset(v) for k, v in out.items()}


def _regions(division: str) -> str:
    return " ".join(str(rdf.code("region", c)) for c in sorted(divisions_within(division))) or NONE


def _graph_in(g: str, division: str) -> str:
    """A group pattern matching when the record graph `g` belongs to the division (or below)."""
    return (f"{{ {{ GRAPH {g} {{ ?_x prtkg:region ?_r }} }} UNION "
            f"{{ GRAPH {g} {{ ?_x prtkg:aboutProject ?_p }} GRAPH ?_h {{ ?_p prtkg:region ?_r }} }} "
            f"VALUES ?_r {{ {_regions(division)} }} }}")


def in_division(var: str, division: str | None) -> str:
    """A FILTER, binding nothing, true when the record whose id is in `var` belongs to `division`."""
    if division is None:
        return ""
    return f"FILTER EXISTS {{ GRAPH ?_g {{ ?_g prtkg:recordId {var} }} {_graph_in('?_g', division)} }}"


def shared() -> dict:
    from .casework_config import config

    return config()["jurisdiction"]


def visible_graphs(store, division: str) -> list[str]:
    """The named graphs a division's SPARQL dataset holds: its records' graphs and the shared ones."""
    s = shared()
    kinds = " ".join(str(rdf.literal(k)) for k in s["shared_kinds"])
    rows = store.select(f"""SELECT DISTINCT ?g WHERE {{
        {{ GRAPH ?g {{ ?g prtkg:recordKind ?k }} VALUES ?k {{ {kinds} }} }}
        UNION {{ GRAPH ?g {{ ?g prtkg:recordKind ?k }} {_graph_in('?g', division)} }} }}""")
    return sorted(set(s["shared_graphs"]) | {r["g"] for r in rows})


def project_regions(store, ocid: str) -> set[str]:
    """The division codes a stored project names (none for a project the store does not hold)."""
    rows = store.select(f"SELECT DISTINCT ?r WHERE {{ GRAPH ?g {{ {rdf.iri('project', ocid)} prtkg:region ?r }} }}")
    return {r["r"].rsplit("/", 1)[-1] for r in rows}
