"""The day nodes the shapes compute deadlines on, for both validation paths.

A day node `urn:prtkg:day:YYYY-MM-DD` carries prtkg:date and prtkg:dayNumber (calendar day count)
and, where the official calendar knows its year, prtkg:workdayOrdinal (working days since the
calendar's epoch; a day off shares the ordinal of the working day before it) and
prtkg:workdayOrdinalNext (the ordinal of the first working day on or after it). A day in a year no
calendar knows has no ordinals, which the shapes turn into DATA-INSUFFICIENT naming the year.

For calendar-day periods (民法典 第二百零三条: a period whose last day is a rest day or holiday ends
on the next working day) a day node also carries prtkg:periodEnd and prtkg:periodEndNumber: the
first working day on or after it (itself when it is one). A shape reaches the last day X+N of a
period by its day number, so every data graph also holds the day nodes X+N of each date X it
mentions, for each period length N of the catalogue (`period: within | minimum` parameters).

Per record (pySHACL) only the days the record mentions are built; for bulk validation the whole
known calendar is materialised once in the store, in graph urn:prtkg:calendar.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator

import pyoxigraph as ox

from prtkg import rdf
from prtkg.workdays import CalendarUnknown, default_calendar

DAY = "urn:prtkg:day:"
CALENDAR_GRAPH = "urn:prtkg:calendar"
_P = rdf.PRTKG
_XSD_DATE = ox.NamedNode(rdf.XSD + "date")
_DIGEST = ox.NamedNode(_P + "contentDigest")


@dataclass(frozen=True)
class Day:
    date: dt.date
    ordinal: int | None = None        # None: the calendar does not know the year
    ordinal_next: int | None = None
    period_end: dt.date | None = None   # first working day on or after the date; None: not known

    @property
    def node(self) -> str:
        return DAY + self.date.isoformat()

    @property
    def number(self) -> int:
        return self.date.toordinal()


def day(d: dt.date) -> Day:
    cal = default_calendar()
    try:
        o = cal.ordinal(d)
    except CalendarUnknown:
        return Day(d)
    try:
        end = cal.add_days(d, 0, extend_to_workday=True)
    except CalendarUnknown:     # the rest days run into a year no calendar knows
        end = None
    return Day(d, o, o if cal.is_workday(d) else o + 1, end)


def period_lengths() -> tuple[int, ...]:
    """The calendar-day period lengths of the shapes' rules (catalogue parameters marked `period`),
    whose last days the shapes look up; read from the catalogue each time, as configuration may change a
    policy period."""
    from prtkg.catalogue import catalogue
    rules = catalogue()
    # Keyed by the catalogue object: catalogue.cache_clear() (new parameters) recomputes it.
    if _LENGTHS.get("of") is not rules:
        _LENGTHS.update(of=rules, value=tuple(sorted(
            {int(spec["value"]) for rule in rules.values() if rule.is_shape for spec in rule.params.values()
             if spec.get("period") in ("within", "minimum")})))
    return _LENGTHS["value"]


_LENGTHS: dict = {}


def with_period_ends(dates: Iterable[dt.date]) -> set[dt.date]:
    """The dates plus the last day of every catalogue period starting on one of them."""
    dates = set(dates)
    return dates | {d + dt.timedelta(days=n) for d in dates for n in period_lengths()}


def known_days() -> Iterator[Day]:
    """Every day of every year the calendar knows (chinesecalendar plus the override file)."""
    years = sorted(default_calendar().known_years())
    if not years:
        return
    # Known years may have gaps (an override for a far year): walk each contiguous run.
    runs, start = [], years[0]
    for a, b in zip(years, years[1:] + [None]):
        if b != a + 1:
            runs.append((start, a))
            start = b
    for first, last in runs:
        table = list(default_calendar().ordinal_table(dt.date(first, 1, 1), dt.date(last, 12, 31)))
        # Walk back so each day knows the first working day on or after it; the days after the
        # run's last working day have none known (the next year may be unknown).
        ends, nxt = [], None
        for d, workday, _ in reversed(table):
            nxt = d if workday else nxt
            ends.append(nxt)
        for (d, workday, o), end in zip(table, reversed(ends)):
            yield Day(d, o, o if workday else o + 1, end)


def quads(days: Iterable[Day], graph: ox.NamedNode | None = None) -> list[ox.Quad]:
    out = []
    g = graph or ox.DefaultGraph()
    for x in days:
        node = ox.NamedNode(x.node)
        out.append(ox.Quad(node, ox.NamedNode(_P + "date"), ox.Literal(x.date.isoformat(), datatype=_XSD_DATE), g))
        out.append(ox.Quad(node, ox.NamedNode(_P + "dayNumber"), ox.Literal(x.number), g))
        if x.ordinal is not None:
            out.append(ox.Quad(node, ox.NamedNode(_P + "workdayOrdinal"), ox.Literal(x.ordinal), g))
            out.append(ox.Quad(node, ox.NamedNode(_P + "workdayOrdinalNext"), ox.Literal(x.ordinal_next), g))
        if x.period_end is not None:
            out.append(ox.Quad(node, ox.NamedNode(_P + "periodEnd"),
                               ox.Literal(x.period_end.isoformat(), datatype=_XSD_DATE), g))
            out.append(ox.Quad(node, ox.NamedNode(_P + "periodEndNumber"), ox.Literal(x.period_end.toordinal()), g))
    return out


@lru_cache(maxsize=2)
def _calendar(cal) -> tuple[tuple[Day, ...], str]:
    # Keyed by the calendar object: default_calendar.cache_clear() (a new override) rebuilds it.
    days = tuple(known_days())
    h = hashlib.sha256()
    for x in days:
        h.update(f"{x.date}:{x.ordinal}:{x.ordinal_next}:{x.period_end}\n".encode())
    return days, h.hexdigest()


def ensure_calendar(store) -> None:
    """(Re)write urn:prtkg:calendar unless it already holds exactly the current calendar."""
    days, digest = _calendar(default_calendar())
    g = ox.NamedNode(CALENDAR_GRAPH)
    if store.ask(f'ASK {{ GRAPH {g} {{ {g} {_DIGEST} "{digest}" }} }}'):
        return
    # Bulk insert rather than one INSERT DATA text: some 10^4 days would be parsed as SPARQL.
    store.remove_graph(CALENDAR_GRAPH)
    store.add_quads(quads(days, g) + [ox.Quad(g, _DIGEST, ox.Literal(digest), g)])
