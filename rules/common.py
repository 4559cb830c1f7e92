"""What every rule family shares: parameters from the catalogue, scoping to the records under check,
day numbers for facts, and deadlines on the working-day calendar."""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any, Iterable, Iterator, Sequence

from prtkg import applicability, codes, rdf, workdays
from prtkg.catalogue import rule as catalogue_rule
from prtkg.context import record_count
from prtkg.rdf import group_concat as concat, split_group as split  # noqa: F401 (for the rule families)
from prtkg.rdf import LATERAL_SHARE, in_dialect, lateral_optionals  # noqa: F401 (for the rule families)
from prtkg.store import python_rows


def param(rule_id: str, name: str) -> Any:
    return catalogue_rule(rule_id).param(name)


def day(d: dt.date | None) -> int:
    """A date as a number durable-rules can compare; 0 for 'no date' (before every real day)."""
    return d.toordinal() if d is not None else 0


def code(iri: str | None) -> str | None:
    """The code of a concept IRI (its last segment)."""
    return iri.rsplit("/", 1)[-1] if iri else None


def org_key(value: str | None) -> str | None:
    """An organisation as findings name it: its credit code, `SCHEME/id` for another identifier,
    `ocid/party/id` for a party without one -- never a node IRI (rules group on the query's
    COALESCE(UCASE(uscc), STR(node)), which this turns into text)."""
    from urllib.parse import unquote

    from prtkg.rdf import ID
    if value is None or not value.startswith(ID):
        return value
    rest = value[len(ID):]
    return unquote(rest.removeprefix("entity/").removeprefix("project/"))


def records(ctx, *kinds: str) -> list:
    return [r for r in ctx.records if r.kind in kinds]


def graphs_values(recs: Iterable) -> str:
    return "VALUES ?g { " + " ".join(f"<{r.graph.graph.value}>" for r in recs) + " }"


# Records per page of a paged fact query: a query's text, its result rows and the facts made of them
# stay this size whatever the store's, and a page still amortises the query's fixed cost. The
# applicability gate pages its field query by the same number.
PAGE = applicability.PAGE


def pages(recs: Sequence) -> Iterator[Sequence]:
    """The records in pages of PAGE (read when called, so a test can make pages small)."""
    for i in range(0, len(recs), PAGE):
        yield recs[i:i + PAGE]


def paged_select(store, query: str, recs: Sequence) -> Iterator[dict]:
    """Rows of `query` (one %s: where the page's VALUES ?g goes) over the records, a page at a time.
    Every row of such a query belongs to one record's graph, so the pages partition the rows."""
    for page in pages(recs):
        yield from store.select(page_query(store, query, page))


def fact_rows(ctx, query: str, recs: Sequence) -> Iterator[dict]:
    """Rows of `query` (one %s: where a page's VALUES ?g goes) over the records: in a check of the
    whole store, one streamed query with no VALUES (the store joins nothing it need not, and memory
    holds a row, not the answer); otherwise a page at a time. Only for a query whose own patterns
    select the records of `recs` (their kind, their main node): whole, it reads every record's graph."""
    if ctx.covers_store():
        # The plain text: LATERAL evaluates each OPTIONAL row by row, which a whole store pays for
        # (see page_query).
        yield from ctx.store.stream(query % "")
    else:
        yield from paged_select(ctx.store, query, recs)


def named_predicates(*queries: str) -> set[str]:
    """Every IRI the queries name, prefixed (rdf:type) or written out: a superset of their
    predicates, for reading only those triples into memory (prtkg.packed.subset). For queries whose
    every predicate is named: a variable predicate matches what was not read."""
    out = set()
    for query in queries:
        out |= set(_IRI.findall(query))
        out |= {rdf.PREFIXES[prefix] + local for prefix, local in _PREFIXED.findall(query) if prefix in rdf.PREFIXES}
        if _A.search(query):
            out.add(rdf.RDF_TYPE.value)
    return out


_IRI = re.compile(r"<([^<>\s\"]+)>")
_PREFIXED = re.compile(r"(?<![\w?$:<])([A-Za-z][\w-]*):([\w-]+)")
_A = re.compile(r"(?<![\w?$:\"])a(?=\s)")


def memory_rows(mem, query: str) -> Iterator[dict]:
    """Rows of a SELECT over an in-memory pyoxigraph store, as a store's (Python values)."""
    return python_rows(mem.query(rdf.sparql_prefixes() + query))


def candidates(ctx, query: str, recs: Sequence) -> list:
    """The records of `recs` (in their order) whose facts can fire a rule. In a check of the whole
    store, those whose graphs `query` (a SELECT of ?g, counts or pairs asked of the store) names,
    where the facts of every record would be read: turning the store's terms into Python rows costs
    ~10 us a row (10^4 projects: 0.5 s for one property of 47,000 bids), a count of them 0.02 s.
    Otherwise every record under check: the facts of a page cost less than asking."""
    if not ctx.covers_store():
        return list(recs)
    named = {r["g"] for r in ctx.store.stream(query)}
    return [r for r in recs if r.graph.graph.value in named]


def scans(graph: str, *patterns: str) -> str:
    """Triple patterns of one graph, joined on their shared variables, each evaluated once over the
    store (a sub-SELECT of its own) and the answers joined by hash. Written as one block, Oxigraph
    looks each row's next pattern up in the store instead: a whole-store query over 47,000 bids
    (?p prtkg:hasBid ?b . ?b prtkg:tenderer ?e) took 0.40 s CPU so, 0.10 s as two scans (10^4
    projects). For a page of records, where a lookup per row is what is wanted, write one block."""
    return " ".join(f"{{ SELECT * WHERE {{ GRAPH {graph} {{ {p} }} }} }}" for p in patterns)


def status_outside(var: str, scheme: str, collection: str, subject: str, graph: str = "?g") -> str:
    """A block of the `subject`s whose prtkg:status is a code outside `collection` of `scheme` (the
    MINUS of a whole-store question): the codes as VALUES, each looked up by value. As a FILTER IN
    over every status of the store (bids', tenders', awards': 770,000 at 10^5 projects) the same block
    costs 2.3x the question it is in (risk's winner concentration, 10^4: 0.23 -> 0.10 s CPU)."""
    terms = " ".join(json.dumps(c, ensure_ascii=False) for c in sorted(codes.non_members(scheme, collection)))
    return f"{{ VALUES {var} {{ {terms} }} GRAPH {graph} {{ {subject} prtkg:status {var} }} }}"


def page_query(store, query: str, page: Sequence) -> str:
    """`query` (one %s: where the page's VALUES ?g goes) for one page of records, in the store's
    dialect (in_dialect) unless the page holds most of the store's records, which the SPARQL 1.1 text
    reads faster whole: row by row, the OPTIONALs cost 0.8 ms per record where the plain text pays once
    for the store (measured at 10^4 projects)."""
    lateral = in_dialect(store, query)
    if lateral != query and len(page) * LATERAL_SHARE > record_count(store):
        lateral = query
    return lateral % graphs_values(page)


def iri_values(var: str, iris: Iterable[str]) -> str:
    return f"VALUES ?{var} {{ " + " ".join(f"<{i}>" for i in sorted(set(iris))) + " }"


def literal_values(var: str, values: Iterable[str]) -> str:
    import json
    return f"VALUES ?{var} {{ " + " ".join(json.dumps(v, ensure_ascii=False) for v in sorted(set(values))) + " }"


def workday_deadline(start: dt.date, n: int) -> dt.date | None:
    """The n-th working day after start, or None when the calendar does not know the year."""
    try:
        return workdays.default_calendar().add_workdays(start, n)
    except workdays.CalendarUnknown:
        return None


def period_deadline(rule_id: str, start: dt.date, n: int, done: dt.date | None) -> tuple[dt.date, dict] | None:
    """The deadline of a rule's period of n calendar days after start, with the evidence of its
    reading: the last day runs on past rest days (民法典 art. 203) for a rule whose catalogue entry
    cites it (`extension_basis`). None when the calendar does not know the last day's year and the
    event `done` does not settle it (on or before the last day is in time whatever the calendar)."""
    rule = catalogue_rule(rule_id)
    if "extension_basis" not in rule.params:
        due = start + dt.timedelta(days=n)
        return due, {}
    try:
        period = workdays.period_within(start, n)
    except workdays.CalendarUnknown:
        last = start + dt.timedelta(days=n)
        if done is not None and done <= last:
            return last, {}
        return None
    return period.end, period.evidence(rule.param("extension_basis"))
