"""Supervision coverage: which department holds which power over which matter, where.

A matter is a trade type (and, for works, an industry) at a stage in a region. A row of a
powers-and-duties list covers the matters of its trade types, industries (none named: every
industry; "all" every one), stages (全过程 covers all six) and every division at or below its region, as
the derived graph says (prtkg/inference.py). The same grid
feeds SUP-OVERLAP / SUP-GAP (rules/supervision.py), the API and the HTML report.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePath

from . import codes
from .catalogue import rule as catalogue_rule

# One answer per row: two rows of a list that name one department differently (name or type) give
# its node two values, which must not make the row twice (a duplicate fact stops the rules engine).
_ROWS = """
SELECT ?row ?n ?source ?dept ?deptCode ?kind ?region ?lead ?powerCode ?powerName ?basis ?duty ?acc
       (MIN(?name) AS ?deptName) (MIN(?type) AS ?deptType)
       (GROUP_CONCAT(DISTINCT STR(?tt); separator=" ") AS ?tts)
       (GROUP_CONCAT(DISTINCT STR(?ind); separator=" ") AS ?inds)
       (GROUP_CONCAT(DISTINCT STR(?stage); separator=" ") AS ?stages)
WHERE {
  GRAPH ?g {
    ?g prtkg:recordKind "powers-list" ; prtkg:source ?source .
    ?row a prtkg:SupervisoryPower ; prtkg:listRow ?n ; prtkg:heldBy ?dept ; prtkg:powerKind ?kind ;
         prtkg:region ?region .
    ?dept prtkg:uscc ?deptCode .
    OPTIONAL { ?dept prtkg:name ?name }
    # The function the row registers the power under, not any type the body has elsewhere: a 住建局 may
    # manage in one row and supervise in another (rows loaded before heldAs existed fall back).
    OPTIONAL { ?row prtkg:heldAs ?heldAs }
    OPTIONAL { ?dept prtkg:departmentType ?anyType }
    BIND(COALESCE(?heldAs, ?anyType) AS ?type)
    OPTIONAL { ?row prtkg:isLead ?lead }
    OPTIONAL { ?row prtkg:powerCode ?powerCode }
    OPTIONAL { ?row prtkg:powerName ?powerName }
    BIND(EXISTS { ?row prtkg:hasLegalBasis ?b0 } AS ?basis)
    BIND(EXISTS { ?row prtkg:hasDuty ?d0 } AS ?duty)
    BIND(EXISTS { ?row prtkg:hasAccountability ?a0 } AS ?acc)
  }
  # What the row reaches (prtkg/inference.py): 全过程 and "all" stand for the codes they cover, and
  # only those codes are matters.
  GRAPH <urn:prtkg:inferred> {
    ?row prtkg:scopeTradeType ?tt ; prtkg:scopeStage ?stage .
    OPTIONAL { ?row prtkg:scopeIndustry ?ind FILTER NOT EXISTS { GRAPH <urn:prtkg:ontology> { ?ind prtkg:covers ?i1 } } }
  }
  FILTER NOT EXISTS { GRAPH <urn:prtkg:ontology> { ?tt prtkg:covers ?t1 } }
  FILTER NOT EXISTS { GRAPH <urn:prtkg:ontology> { ?stage prtkg:covers ?s1 } }
} GROUP BY ?row ?n ?source ?dept ?deptCode ?kind ?region ?lead ?powerCode ?powerName ?basis ?duty ?acc
ORDER BY ?source ?n
"""

# The codes of a scheme that are matters: every one but those standing for others (全过程, "all").
_LEAVES = """
SELECT ?c WHERE { GRAPH <urn:prtkg:ontology> {
  ?c skos:inScheme <https://w3id.org/prtkg/code/%s> .
  FILTER NOT EXISTS { ?c prtkg:covers ?x }
} }"""


def _code(iri: str | None) -> str | None:
    return iri.rsplit("/", 1)[-1] if iri else None


def _codes(joined: str | None) -> frozenset[str]:
    return frozenset(_code(v) for v in (joined or "").split() if v)


@dataclass(frozen=True)
class PowerRow:
    iri: str
    ref: str                    # "file.csv#N": how findings and people name the row
    row: int
    department: str             # the department's credit code
    department_name: str
    department_type: str | None
    kind: str
    trade_types: frozenset[str]
    industries: frozenset[str]  # empty: every industry
    stages: frozenset[str]      # 全过程 already expanded
    region: str
    lead: bool
    power_code: str | None
    power_name: str | None
    has_basis: bool
    has_duty: bool
    has_accountability: bool


def power_rows(store) -> list[PowerRow]:
    out = []
    for r in store.select(_ROWS):
        out.append(PowerRow(
            iri=r["row"], ref=f"{PurePath(r['source']).name}#{r['n']}", row=int(r["n"]), department=r["deptCode"],
            department_name=r["deptName"] or r["deptCode"], department_type=_code(r["deptType"]),
            kind=_code(r["kind"]), trade_types=_codes(r["tts"]), industries=_codes(r["inds"]),
            stages=_codes(r["stages"]), region=_code(r["region"]), lead=bool(r["lead"]),
            power_code=r["powerCode"], power_name=r["powerName"], has_basis=bool(r["basis"]),
            has_duty=bool(r["duty"]), has_accountability=bool(r["acc"])))
    return out


@lru_cache(maxsize=4096)
def region_chain(region: str) -> tuple[str, ...]:
    try:
        return tuple(codes.region_chain(region)) or (region,)
    except KeyError:  # no division list loaded: the region stands alone
        return (region,)


def region_level(region: str) -> str | None:
    try:
        c = codes.scheme("region").concepts.get(region)
    except KeyError:
        return None
    return c.level if c else None


def region_label(region: str) -> str:
    try:
        c = codes.scheme("region").concepts.get(region)
    except KeyError:
        return region
    return f"{c.label('zh')}（{region}）" if c else region


def region_names(region: str) -> dict[str, str]:
    """A division's name by language, for messages (the code stays in the evidence)."""
    try:
        return codes.labels("region", region)
    except KeyError:
        return {"zh": region, "en": region}


def matter_names(trade_type: str, industry: str | None) -> dict[str, str]:
    """A trade type (and, for works, industry) by language: 工程建设项目招标投标（水利）."""
    t = codes.labels("trade-type", trade_type)
    if not industry:
        return t
    i = codes.labels("industry", industry)
    return {"zh": f"{t['zh']}（{i['zh']}）", "en": f"{t['en']} ({i['en']})"}


def listed_matters(rows: list[PowerRow]) -> frozenset[tuple[str, str]]:
    """(region, trade type) that a supervision department's row of a loaded list speaks to: what a
    project can be judged against."""
    return frozenset((row.region, t) for row in rows if row.department_type == "supervision"
                     for t in row.trade_types)


def has_list(region: str, trade_type: str, listed: frozenset[tuple[str, str]]) -> bool:
    """Whether a loaded powers list speaks to a project's trade type: a supervision department's row
    for it in the project's division or one above. Where none does, the store lacks that list (or that
    part of it, which SUP-GAP reports as the list's gap): the project is not judged, it is
    DATA-INSUFFICIENT. Within a trade type the list does speak to, a missing industry or stage is a
    finding about the project."""
    return any((r, trade_type) in listed for r in region_chain(region))


@dataclass(frozen=True)
class Matter:
    trade_type: str
    industry: str | None
    stage: str
    region: str

    def label(self) -> str:
        parts = [self.trade_type] + ([self.industry] if self.industry else []) + [self.stage, self.region]
        return "/".join(parts)

    def as_dict(self) -> dict:
        return {"tradeType": self.trade_type, "industry": self.industry, "stage": self.stage,
                "region": self.region}


@dataclass
class Grid:
    """The matters a set of lists must cover, and per matter the rows that cover it."""
    rows: list[PowerRow]
    trade_types: list[str]
    industries: list[str]
    stages: list[str]
    regions: list[str]
    cover: dict[Matter, list[PowerRow]] = field(default_factory=dict)


def _gap_codes(store, scheme_name: str) -> list[str]:
    # SUP-GAP reads "every trade type (and, for works, industry)": `other` included, no exclusions.
    return sorted(_code(r["c"]) for r in store.select(_LEAVES % scheme_name))


def row_matters(row: PowerRow, works_industries: list[str]) -> list[tuple[str, str | None, str]]:
    """(trade type, industry, stage) a row holds; works rows naming no industry hold every industry."""
    out = []
    for t in sorted(row.trade_types):
        industries = (sorted(row.industries) or works_industries) if t == "works" else [None]
        for i in industries:
            for s in sorted(row.stages):
                out.append((t, i, s))
    return out


def grid(store, rows: list[PowerRow] | None = None) -> Grid:
    rows = power_rows(store) if rows is None else rows
    stages = _gap_codes(store, "stage")
    trade_types = _gap_codes(store, "trade-type")
    industries = _gap_codes(store, "industry")
    wanted_levels = set(catalogue_rule("SUP-GAP").param("region_levels"))
    # Only divisions whose own list is loaded: a county list alone says nothing of its province's gaps.
    regions = sorted({row.region for row in rows
                      if region_level(row.region) in wanted_levels or region_level(row.region) is None})
    g = Grid(rows, trade_types, industries, stages, regions)
    for region in regions:
        chain = set(region_chain(region))
        for t in trade_types:
            for i in (industries if t == "works" else [None]):
                for s in stages:
                    g.cover[Matter(t, i, s, region)] = [
                        row for row in rows
                        if row.region in chain and t in row.trade_types and s in row.stages
                        and (i is None or not row.industries or i in row.industries)]
    return g


def coverage_matrix(store) -> dict:
    """Trade type x (industry) x stage x region -> departments with their list rows; overlaps and gaps.

    JSON-ready, for GET /supervision/coverage and the HTML report. Overlaps and gaps are the
    SUP-OVERLAP and SUP-GAP firings of the rules engine, so the matrix and the findings agree.
    """
    from prtkg.rules import supervision

    g = grid(store)
    fired = supervision.evaluate(g)
    overlaps = [supervision.overlap_evidence(pair) for pair in supervision.overlap_pairs(fired)]
    gaps = [f.m for f in fired if f.rule == "SUP-GAP"]
    overlap_cells = {(o["region"], m["tradeType"], m["industry"], m["stage"])
                     for o in overlaps for m in o["matters"]}
    gap_cells = {(x["region"], x["tradeType"], x["industry"], x["stage"]) for x in gaps}
    cells = []
    for matter, rows in g.cover.items():
        by_dept: dict[str, dict] = {}
        for row in rows:
            d = by_dept.setdefault(row.department, {
                "code": row.department, "name": row.department_name, "type": row.department_type,
                "rows": [], "kinds": set(), "lead": False})
            d["rows"].append(row.ref)
            d["kinds"].add(row.kind)
            d["lead"] = d["lead"] or row.lead
        key = (matter.region, matter.trade_type, matter.industry, matter.stage)
        cells.append({**matter.as_dict(),
                      "departments": [{**d, "kinds": sorted(d["kinds"])} for _, d in sorted(by_dept.items())],
                      "overlap": key in overlap_cells,
                      "gap": key in gap_cells})
    return {"tradeTypes": g.trade_types, "industries": g.industries, "stages": g.stages,
            "regions": [{"code": r, "label": region_label(r), "level": region_level(r)} for r in g.regions],
            "cells": cells, "overlaps": [{k: v for k, v in o.items() if k != "_focus"} for o in overlaps],
            "gaps": [{k: v for k, v in x.items() if k != "id"} for x in gaps]}
