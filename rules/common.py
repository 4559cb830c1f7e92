"""What every rule family shares: parameters from the catalogue, scoping to the records under check,
day numbers for facts, and deadlines on the working-day calendar."""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Iterator, Sequence

from prtkg import applicability, workdays
from prtkg.catalogue import rule as catalogue_rule
from prtkg.rdf import group_concat as concat, split_group as split  # noqa: F401 (for the rule families)


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
        yield from store.select(query % graphs_values(page))


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
