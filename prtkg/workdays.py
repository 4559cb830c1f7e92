"""The working-day calendar and deadline arithmetic.

Working days follow the official calendar of holidays and adjusted working weekends, as published
in PyPI ``chinesecalendar``; years it does not know come from an override file (PRTKG_CALENDAR_OVERRIDE,
format in docs/calendar.md). A date no source knows raises CalendarUnknown -- never a guess.

Counting follows 民法典 art. 201: the day of the event is not counted, so "within N days of X" ends
on X+N. Whether a period ending on a day off runs on to the next working day (art. 203) is the
caller's choice (``extend_to_workday``); the rules decide which of them it applies to.
"""
from __future__ import annotations

import os
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import chinese_calendar
import yaml

from .errors import ConfigError, PrtkgError

ENV_OVERRIDE = "PRTKG_CALENDAR_OVERRIDE"
# Ordinals count working days from here; fixed so that materialised ordinals stay comparable.
EPOCH = date(2004, 1, 1)

MET, MISSED, RUNNING = "met", "missed", "running"

_ONE_DAY = timedelta(days=1)
_OVERRIDE_KEYS = {"holidays", "workdays"}


def _package_years() -> range:
    # The same bounds chinese_calendar checks before answering (it raises NotImplementedError outside).
    years = {d.year for d in chinese_calendar.holidays}
    return range(min(years), max(years) + 1)


_PACKAGE_YEARS = _package_years()


class CalendarUnknown(PrtkgError):
    """No source knows the working days of ``year``; the caller reports DATA-INSUFFICIENT."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            f"working-day calendar unknown for {year}: chinesecalendar "
            f"{getattr(chinese_calendar, '__version__', '?')} covers "
            f"{_PACKAGE_YEARS.start}-{_PACKAGE_YEARS.stop - 1}; add {year} to the override file "
            f"named by {ENV_OVERRIDE} (see docs/calendar.md)"
        )


@dataclass(frozen=True)
class _Year:
    """One year, precomputed so that each lookup is an index, not a search."""

    year: int
    first: int          # date.toordinal() of 1 January
    flags: bytes        # flags[i] == 1 if day i of the year is a working day
    cum: array          # cum[i] = working days from 1 January up to and including day i
    days: array         # day-of-year index of each working day, in order

    @property
    def count(self) -> int:
        return len(self.days)


def _build_year(year: int, is_workday) -> _Year:
    first = date(year, 1, 1).toordinal()
    n = date(year + 1, 1, 1).toordinal() - first
    flags = bytes(1 if is_workday(date.fromordinal(first + i)) else 0 for i in range(n))
    cum = array("H")
    days = array("H")
    total = 0
    for i, f in enumerate(flags):
        if f:
            total += 1
            days.append(i)
        cum.append(total)
    return _Year(year, first, flags, cum, days)


def _as_date(d) -> date:
    if isinstance(d, datetime):
        return d.date()
    if isinstance(d, date):
        return d
    raise TypeError(f"expected a date, got {type(d).__name__}: {d!r}")


def _parse_day(value, year: int, where: str, source: str) -> date:
    if isinstance(value, datetime):
        raise ConfigError(f"{source}: {where}: {value!r} has a time; give a date (YYYY-MM-DD)")
    if isinstance(value, date):
        d = value
    else:
        try:
            d = date.fromisoformat(str(value).strip())
        except ValueError:
            raise ConfigError(f"{source}: {where}: {value!r} is not a date (YYYY-MM-DD)") from None
    if d.year != year:
        raise ConfigError(f"{source}: {where}: {d.isoformat()} is not in {year}")
    return d


def parse_override(data, source: str = "calendar override") -> dict[int, tuple[frozenset, frozenset]]:
    """Validate an override mapping ``{year: {holidays: [...], workdays: [...]}}``.

    Returns ``{year: (holidays, workdays)}``; anything malformed raises ConfigError naming
    ``source`` and the entry.
    """
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected a mapping of year -> {{holidays: [...], workdays: [...]}}, "
                          f"got {type(data).__name__}")
    out: dict[int, tuple[frozenset, frozenset]] = {}
    for key, entry in data.items():
        if isinstance(key, bool) or not str(key).strip().isdigit() or not 1 <= int(key) <= 9998:
            raise ConfigError(f"{source}: {key!r}: expected a year such as 2027")
        year = int(key)
        if year in out:
            raise ConfigError(f"{source}: {year}: listed twice")
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{source}: {year}: expected {{holidays: [...], workdays: [...]}}")
        unknown = set(map(str, entry)) - _OVERRIDE_KEYS
        if unknown:
            raise ConfigError(f"{source}: {year}: unknown key(s) {', '.join(sorted(unknown))} "
                              f"(allowed: holidays, workdays)")
        # A year without its holidays would pass for "every weekday works": refuse rather than guess.
        if "holidays" not in entry:
            raise ConfigError(f"{source}: {year}: 'holidays' is missing (write 'holidays: []' if there are none)")
        lists = {}
        for name in ("holidays", "workdays"):
            values = entry.get(name) or []
            if not isinstance(values, list):
                raise ConfigError(f"{source}: {year}.{name}: expected a list of dates")
            lists[name] = frozenset(
                _parse_day(v, year, f"{year}.{name}[{i}]", source) for i, v in enumerate(values)
            )
        for d in sorted(lists["workdays"]):
            # Adjusted working days are weekend days by definition; a weekday here is a typo that
            # would otherwise change nothing and go unnoticed.
            if d.weekday() < 5:
                raise ConfigError(f"{source}: {year}.workdays: {d.isoformat()} is a "
                                  f"{d.strftime('%A')}; list only adjusted working weekend days")
        both = lists["holidays"] & lists["workdays"]
        if both:
            raise ConfigError(f"{source}: {year}: {min(both).isoformat()} is both a holiday and a workday")
        out[year] = (lists["holidays"], lists["workdays"])
    return out


def _read_yaml(path: str | os.PathLike):
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{p}: cannot read calendar override ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: calendar override is not UTF-8") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{p}: not valid YAML{where}: {getattr(e, 'problem', None) or e}") from None


class Calendar:
    """Working days from chinesecalendar, with an optional override that adds or replaces whole years.

    A year in the override is defined by it alone: its holidays are off, its workdays (adjusted
    weekend days) are worked, every other Monday-Friday is worked and Saturday/Sunday are off.
    """

    def __init__(self, override: Mapping | None = None, *, source: str = "calendar override"):
        self._override = parse_override(override, source)
        self._years: dict[int, _Year] = {}
        self._offsets: dict[int, int] = {EPOCH.year: 0}

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> Calendar:
        """A calendar with the override file at ``path`` (ConfigError if unreadable or malformed)."""
        return cls(_read_yaml(path), source=str(path))

    # -- per-year precomputation ---------------------------------------------------------------

    def _year(self, year: int) -> _Year:
        yd = self._years.get(year)
        if yd is None:
            yd = self._years[year] = self._compute_year(year)
        return yd

    def _compute_year(self, year: int) -> _Year:
        if year in self._override:
            holidays, workdays = self._override[year]
        elif year in _PACKAGE_YEARS:
            # chinese_calendar.is_workday rescans its whole table per call to check the year; its
            # two public tables under the same rule build a year ~100x faster (a test pins equality).
            holidays, workdays = chinese_calendar.holidays, chinese_calendar.workdays
        else:
            raise CalendarUnknown(year)
        return _build_year(year, lambda d: d in workdays or (d.weekday() < 5 and d not in holidays))

    def _offset(self, year: int) -> int:
        """Ordinal of the last day before 1 January of ``year`` (needs every year back to EPOCH)."""
        off = self._offsets.get(year)
        if off is not None:
            return off
        step = 1 if year > EPOCH.year else -1
        y = year
        while y not in self._offsets:
            y -= step
        while y != year:
            if step == 1:
                self._offsets[y + 1] = self._offsets[y] + self._year(y).count
            else:
                self._offsets[y - 1] = self._offsets[y] - self._year(y - 1).count
            y += step
        return self._offsets[year]

    # -- queries -------------------------------------------------------------------------------

    def known_years(self) -> frozenset[int]:
        return frozenset(_PACKAGE_YEARS) | frozenset(self._override)

    def is_workday(self, d: date) -> bool:
        d = _as_date(d)
        yd = self._year(d.year)
        return bool(yd.flags[d.toordinal() - yd.first])

    @staticmethod
    def days_between(a: date, b: date) -> int:
        """Calendar days after ``a`` up to and including ``b`` (negative if b is before a)."""
        return (_as_date(b) - _as_date(a)).days

    def add_days(self, d: date, n: int, extend_to_workday: bool = False) -> date:
        """Last day of a period of ``n`` calendar days after ``d`` (d not counted: the result is d+n).

        With ``extend_to_workday`` a last day that is not a working day moves to the next working
        day (民法典 art. 203); only then is the calendar consulted.
        """
        end = _as_date(d) + timedelta(days=n)
        if extend_to_workday:
            if n < 0:
                raise ValueError("extend_to_workday applies to periods running forward (n >= 0)")
            while not self.is_workday(end):
                end += _ONE_DAY
        return end

    def add_workdays(self, d: date, n: int) -> date:
        """The n-th working day after ``d`` (d not counted); n < 0 counts back; n == 0 gives d."""
        d = _as_date(d)
        if n == 0:
            return d
        yd = self._year(d.year)
        i = d.toordinal() - yd.first
        if n > 0:
            done = yd.cum[i]            # working days of the year up to and including d
            while n > yd.count - done:
                n -= yd.count - done
                yd = self._year(yd.year + 1)
                done = 0
            return date.fromordinal(yd.first + yd.days[done + n - 1])
        k = -n
        before = yd.cum[i] - yd.flags[i]    # working days of the year strictly before d
        while k > before:
            k -= before
            yd = self._year(yd.year - 1)
            before = yd.count
        return date.fromordinal(yd.first + yd.days[before - k])

    def workdays_between(self, a: date, b: date) -> int:
        """Working days after ``a`` up to and including ``b`` (negative if b is before a)."""
        a, b = _as_date(a), _as_date(b)
        if b < a:
            return -self.workdays_between(b, a)
        ya, yb = self._year(a.year), self._year(b.year)
        ca, cb = ya.cum[a.toordinal() - ya.first], yb.cum[b.toordinal() - yb.first]
        if ya is yb:
            return cb - ca
        middle = sum(self._year(y).count for y in range(a.year + 1, b.year))
        return (ya.count - ca) + middle + cb

    def ordinal(self, d: date) -> int:
        """Working days from EPOCH up to and including ``d``; a day off shares the ordinal of the
        working day before it, so ``ordinal(b) - ordinal(a) == workdays_between(a, b)``."""
        d = _as_date(d)
        yd = self._year(d.year)
        return self._offset(d.year) + yd.cum[d.toordinal() - yd.first]

    def ordinal_table(self, start: date, end: date) -> Iterator[tuple[date, bool, int]]:
        """(date, is_workday, ordinal) for every day from ``start`` to ``end`` inclusive."""
        start, end = _as_date(start), _as_date(end)
        o = start.toordinal()
        while o <= end.toordinal():
            d = date.fromordinal(o)
            yd = self._year(d.year)
            off = self._offset(d.year)
            stop = min(end.toordinal(), yd.first + len(yd.flags) - 1)
            for x in range(o, stop + 1):
                i = x - yd.first
                yield date.fromordinal(x), bool(yd.flags[i]), off + yd.cum[i]
            o = stop + 1


@dataclass(frozen=True)
class Period:
    """A period "within N days of X": its last day X+N, and the day it really ends -- the first
    working day on or after the last day (民法典 art. 203)."""

    last_day: date
    end: date

    @property
    def extended(self) -> bool:
        return self.end != self.last_day

    def evidence(self, basis: str) -> dict:
        """What a finding shows of the reading it took: the end, and whether and why it moved."""
        if not self.extended:
            return {}
        return {"extendedFrom": self.last_day.isoformat(), "basis": basis}


def period_within(start: date, n: int, calendar: Calendar | None = None) -> Period:
    """The period of ``n`` calendar days after ``start``, extended past rest days (CalendarUnknown
    when the calendar does not know the year the last day falls in)."""
    cal = calendar or default_calendar()
    last = cal.add_days(start, n)
    return Period(last, cal.add_days(start, n, extend_to_workday=True))


@lru_cache(maxsize=1)
def default_calendar() -> Calendar:
    """The process-wide calendar: chinesecalendar plus the file named by PRTKG_CALENDAR_OVERRIDE
    (read once; ``default_calendar.cache_clear()`` re-reads it)."""
    path = os.environ.get(ENV_OVERRIDE, "").strip()
    return Calendar.from_file(path) if path else Calendar()


def deadline_status(event_date: date | None, deadline: date, as_of: date | None) -> str:
    """"met" if the event happened on or before the deadline, "missed" if after it or if it has
    not happened and the deadline has passed, "running" if it has not happened yet and still may."""
    deadline = _as_date(deadline)
    if event_date is not None:
        return MET if _as_date(event_date) <= deadline else MISSED
    if as_of is None:
        raise ValueError("deadline_status: no event date and no as-of date")
    return MISSED if _as_date(as_of) > deadline else RUNNING
