"""Supervision coverage: which department holds which power over which matter, where.

A matter is a trade type (and, for works, an industry) at a stage in a region. A row of a
powers-and-duties list covers the matters of its trade types, industries (none named: every
industry; "all" every one), stages (全过程 covers all six) and every division at or below its region, as
the derived graph says (prtkg/inference.py), while its list is in force (in_force_periods: a list is a
versioned document, replaced by a later one of the same publisher). The same grid feeds SUP-OVERLAP /
SUP-GAP (rules/supervision.py) and the coverage report (app/coverage_report.py);
SUP-PROJECT-UNSUPERVISED reads the same rows on each project's date.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePath

from . import codes
from .catalogue import rule as catalogue_rule

# One answer per row: two rows of a list that name one department differently (name or type) give
# its node two values, which must not make the row twice (a duplicate fact stops the rules engine).
_ROWS = """
SELECT ?row ?list ?n ?source ?dept ?deptCode ?kind ?region ?lead ?powerCode ?powerName ?basis ?duty ?acc
       (MIN(?name) AS ?deptName) (MIN(?type) AS ?deptType)
       (GROUP_CONCAT(DISTINCT STR(?tt); separator=" ") AS ?tts)
       (GROUP_CONCAT(DISTINCT STR(?ind); separator=" ") AS ?inds)
       (GROUP_CONCAT(DISTINCT STR(?stage); separator=" ") AS ?stages)
WHERE {
  GRAPH ?g {
    ?g prtkg:recordKind "powers-list" ; prtkg:source ?source .
    ?row a prtkg:SupervisoryPower ; prtkg:inList ?list ; prtkg:listRow ?n ; prtkg:heldBy ?dept ; prtkg:powerKind ?kind ;
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
} GROUP BY ?row ?list ?n ?source ?dept ?deptCode ?kind ?region ?lead ?powerCode ?powerName ?basis ?duty ?acc
ORDER BY ?source ?n
"""

# Each list as a document: whose, issued when, valid when, replaced by what (from any graph: an RDF
# record may state the replacement outright).
_LISTS = """
SELECT ?list (MIN(?pub) AS ?publisher) (MIN(?iss) AS ?issued) (MIN(?start) AS ?from) (MIN(?end) AS ?until)
       (GROUP_CONCAT(DISTINCT STR(?next); separator=" ") AS ?replacedBy)
WHERE {
  GRAPH ?g { ?g prtkg:recordKind "powers-list" . ?list a prtkg:PowersList .
             OPTIONAL { ?list dcterms:publisher/prtkg:uscc ?pub }
             OPTIONAL { ?list dcterms:issued ?iss }
             OPTIONAL { ?list prtkg:validFrom ?start }
             OPTIONAL { ?list prtkg:validUntil ?end } }
  OPTIONAL { GRAPH ?h { ?list dcterms:isReplacedBy ?next } }
} GROUP BY ?list
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
class ListVersion:
    """A powers list as a document: publisher, issue date, validity as stated, explicit successors."""
    iri: str
    publisher: str | None = None
    issued: dt.date | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    replaced_by: frozenset[str] = frozenset()

    @property
    def start(self) -> dt.date | None:
        return self.valid_from or self.issued


Period = tuple["dt.date | None", "dt.date | None"]   # first and last day in force; None: unbounded
ALWAYS: Period = (None, None)
NEVER: Period = (dt.date.max, dt.date.min)


def in_force_periods(lists: list[ListVersion]) -> dict[str, Period]:
    """Each list's period in force: from its valid-from (or issue date) to its valid-until, cut short
    the day before a list replacing it takes effect. A list is replaced by the lists it names in
    dcterms:isReplacedBy and by any list of the same publisher issued later (a publisher's new 权责清单 is
    the new version of its list, not an addition to it). A replaced list does not come back when its
    successor expires. A list without dates is in force at all times."""
    by_iri = {v.iri: v for v in lists}
    later = later_versions(lists)
    out: dict[str, Period] = {}
    for v in lists:
        # A named successor that is not loaded says nothing of when it took effect: replaced throughout.
        successors = [by_iri.get(i, ListVersion(i)) for i in v.replaced_by | later.get(v.iri, set())]
        end = v.valid_until
        for w in successors:
            if w.start is None:        # replaced, and the successor does not say from when: from the start
                end = dt.date.min
            elif end is None or w.start - dt.timedelta(days=1) < end:
                end = w.start - dt.timedelta(days=1)
        start = v.start
        out[v.iri] = NEVER if (start and end and end < start) or end == dt.date.min else (start, end)
    return out


def later_versions(lists: list[ListVersion]) -> dict[str, set[str]]:
    """Each list's successors by publication: the lists of its publisher issued after it (its new
    versions; one issued the same day is not). prtkg/inference.py writes them as dcterms:isReplacedBy
    into the shared derived graph, where queries read them with the links records state."""
    out: dict[str, set[str]] = {}
    for v in lists:
        if v.publisher and v.issued:
            newer = {w.iri for w in lists if w.publisher == v.publisher and w.issued and w.issued > v.issued}
            if newer:
                out[v.iri] = newer
    return out


def list_versions(store) -> list[ListVersion]:
    return [ListVersion(r["list"], r["publisher"], as_date(r["issued"]), as_date(r["from"]), as_date(r["until"]),
                        frozenset((r["replacedBy"] or "").split()))
            for r in store.select(_LISTS)]


def as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def covers_day(period: Period, day: dt.date | None) -> bool:
    """Whether a period holds on a day. An undated project can be placed only under a list in force at
    all times: any other list might not have been in force when it ran."""
    start, end = period
    if day is None:
        return period == ALWAYS
    return (start is None or start <= day) and (end is None or day <= end)


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
    in_force: Period = ALWAYS   # its list's period in force (in_force_periods)

    def on(self, day: dt.date | None) -> bool:
        return covers_day(self.in_force, day)


def power_rows(store) -> list[PowerRow]:
    out = []
    periods = in_force_periods(list_versions(store))
    for r in store.select(_ROWS):
        out.append(PowerRow(in_force=periods.get(r["list"], ALWAYS),
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


def listed_matters(rows: list[PowerRow]) -> dict[tuple[str, str], list[Period]]:
    """(region, trade type) that a supervision department's row of a loaded list speaks to, with the
    periods its lists are in force: what a project can be judged against, and when."""
    out: dict[tuple[str, str], list[Period]] = {}
    for row in rows:
        if row.department_type == "supervision" and row.in_force != NEVER:
            for t in row.trade_types:
                out.setdefault((row.region, t), []).append(row.in_force)
    return out


def has_list(region: str, trade_type: str, listed: dict[tuple[str, str], list[Period]],
             day: dt.date | None = None, *, any_time: bool = False) -> bool:
    """Whether a list in force on the project's day speaks to its trade type: a supervision
    department's row for it in the project's division or one above. Where none does, the store lacks
    that list (or that part of it, which SUP-GAP reports as the list's gap), or no list was in force
    yet or any longer: the project is not judged, it is DATA-INSUFFICIENT. Within a trade type the
    list does speak to, a missing industry or stage is a finding about the project."""
    return any(any_time or covers_day(period, day)
               for r in region_chain(region) for period in listed.get((r, trade_type), ()))


@dataclass(frozen=True)
class Matter:
    trade_type: str
    industry: str | None
    stage: str
    region: str
    # The span of time the matter is judged for, where the loaded lists are not all in force together
    # (None: one set of lists throughout, so no period to name).
    period: Period | None = None

    def label(self) -> str:
        parts = [self.trade_type] + ([self.industry] if self.industry else []) + [self.stage, self.region]
        return "/".join(parts + ([_iso(d) or "" for d in self.period] if self.period else []))

    def as_dict(self) -> dict:
        d = {"tradeType": self.trade_type, "industry": self.industry, "stage": self.stage, "region": self.region}
        if self.period:
            d["inForceFrom"], d["inForceUntil"] = map(_iso, self.period)
        return d


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def epochs(rows: list[PowerRow]) -> list[Period]:
    """The spans of time over which the same rows are in force, in order; only spans in which some row is."""
    periods = [r.in_force for r in rows if r.in_force != NEVER]
    cuts = sorted({s for s, _ in periods if s} | {e + dt.timedelta(days=1) for _, e in periods if e and e < dt.date.max})
    bounds: list[dt.date | None] = [None, *cuts, None]
    spans = [(a, b - dt.timedelta(days=1) if b else None) for a, b in zip(bounds, bounds[1:])]
    return [span for span in spans if any(_holds_throughout(p, span) for p in periods)]


def _holds_throughout(period: Period, span: Period) -> bool:
    (start, end), (a, b) = period, span
    return (start is None or (a is not None and start <= a)) and (end is None or (b is not None and b <= end))


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


def grid(store, rows: list[PowerRow] | None = None, on: dt.date | None = None) -> Grid:
    """The matters and their cover. With `on`, by the lists in force that day; else, per division, for
    each span of time over which the same lists are in force there (a row of a replaced or expired list
    covers nothing after it ends, nor before its list takes effect)."""
    rows = power_rows(store) if rows is None else rows
    stages = _gap_codes(store, "stage")
    trade_types = _gap_codes(store, "trade-type")
    industries = _gap_codes(store, "industry")
    wanted_levels = set(catalogue_rule("SUP-GAP").param("region_levels"))
    candidates = sorted({row.region for row in rows
                         if region_level(row.region) in wanted_levels or region_level(row.region) is None})
    g = Grid(rows, trade_types, industries, stages, [])
    for region in candidates:
        chain = set(region_chain(region))
        here = [row for row in rows if row.region in chain]
        # Only while the division's own list is in force: a province list alone says nothing of a
        # prefecture's gaps, nor does a list that has not yet taken effect or has ended.
        spans = [span for span in ([(on, on)] if on is not None else epochs(here))
                 if any(row.region == region and _holds_throughout(row.in_force, span) for row in here)]
        if spans:
            g.regions.append(region)
        for span in spans:
            live = [row for row in here if _holds_throughout(row.in_force, span)]
            period = span if len(spans) > 1 else None
            for t in trade_types:
                for i in (industries if t == "works" else [None]):
                    for s in stages:
                        g.cover[Matter(t, i, s, region, period)] = [
                            row for row in live
                            if t in row.trade_types and s in row.stages
                            and (i is None or not row.industries or i in row.industries)]
    return g
