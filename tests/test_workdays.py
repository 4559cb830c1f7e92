"""The working-day calendar: official dates, day-not-counted arithmetic, overrides, ordinals."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from prtkg.errors import ConfigError, PrtkgError
from prtkg.workdays import (
    ENV_OVERRIDE, MET, MISSED, RUNNING, Calendar, CalendarUnknown, deadline_status, default_calendar,
)

D = date.fromisoformat
DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture
def cal():
    return Calendar()


@pytest.fixture
def fresh_default(monkeypatch):
    monkeypatch.delenv(ENV_OVERRIDE, raising=False)
    default_calendar.cache_clear()
    yield monkeypatch
    default_calendar.cache_clear()


def days(start: str, end: str):
    d = D(start)
    while d <= D(end):
        yield d
        d += timedelta(days=1)


# -- the official calendar as chinesecalendar 1.11 has it -------------------------------------------

def test_national_day_2026(cal):
    assert [d for d in days("2026-09-28", "2026-10-12") if not cal.is_workday(d)] == [
        *days("2026-10-01", "2026-10-07"), D("2026-10-11")]
    assert cal.is_workday(D("2026-09-20"))      # Sunday, adjusted working day
    assert cal.is_workday(D("2026-10-10"))      # Saturday, adjusted working day
    assert not cal.is_workday(D("2026-09-19"))  # ordinary Saturday
    assert not cal.is_workday(D("2026-09-25"))  # Friday, Mid-autumn


def test_spring_festival_2026(cal):
    off = [d for d in days("2026-02-09", "2026-03-01") if not cal.is_workday(d)]
    assert off == [*days("2026-02-15", "2026-02-23"), D("2026-03-01")]
    assert cal.is_workday(D("2026-02-14")) and cal.is_workday(D("2026-02-28"))   # Saturdays worked


def test_matches_chinese_calendar_every_day(cal):
    for d in days("2004-01-01", "2026-12-31"):
        assert cal.is_workday(d) == chinese_calendar.is_workday(d), d


def test_accepts_datetime(cal):
    assert cal.is_workday(datetime(2026, 10, 10, 9, 30))
    assert cal.add_days(datetime(2026, 3, 2, 23, 59), 1) == D("2026-03-03")


# -- calendar days ---------------------------------------------------------------------------------

def test_add_days_does_not_count_the_first_day(cal):
    assert cal.add_days(D("2026-03-02"), 30) == D("2026-04-01")
    assert cal.add_days(D("2026-03-02"), 0) == D("2026-03-02")
    assert cal.add_days(D("2026-03-20"), -15) == D("2026-03-05")
    assert cal.days_between(D("2026-03-02"), D("2026-04-01")) == 30
    assert cal.days_between(D("2026-04-01"), D("2026-03-02")) == -30


def test_extend_to_workday_across_national_day(cal):
    assert cal.add_days(D("2026-09-01"), 30) == D("2026-10-01")
    assert cal.add_days(D("2026-09-01"), 30, extend_to_workday=True) == D("2026-10-08")
    # an ordinary weekend moves to Monday
    assert cal.add_days(D("2026-02-25"), 10, extend_to_workday=True) == D("2026-03-09")
    # a working day stays
    assert cal.add_days(D("2026-03-02"), 30, extend_to_workday=True) == D("2026-04-01")


def test_deadline_on_adjusted_working_saturday_does_not_move(cal):
    assert cal.add_days(D("2026-09-10"), 30, extend_to_workday=True) == D("2026-10-10")
    assert cal.add_days(D("2026-01-29"), 30, extend_to_workday=True) == D("2026-02-28")
    assert cal.add_workdays(D("2026-10-09"), 1) == D("2026-10-10")


def test_extend_backwards_is_refused(cal):
    with pytest.raises(ValueError):
        cal.add_days(D("2026-10-20"), -10, extend_to_workday=True)


def test_calendar_days_need_no_calendar(cal):
    assert cal.add_days(D("2027-06-01"), 20) == D("2027-06-21")


# -- working days ----------------------------------------------------------------------------------

def test_two_working_days_after_a_friday(cal):
    assert cal.add_workdays(D("2026-03-06"), 2) == D("2026-03-10")
    assert cal.add_workdays(D("2026-03-06"), 1) == D("2026-03-09")


def test_working_days_across_a_holiday(cal):
    assert cal.add_workdays(D("2026-09-30"), 1) == D("2026-10-08")
    assert cal.add_workdays(D("2026-09-30"), 2) == D("2026-10-09")
    assert cal.add_workdays(D("2026-09-30"), 3) == D("2026-10-10")     # the adjusted Saturday
    assert cal.add_workdays(D("2026-09-30"), 4) == D("2026-10-12")
    assert cal.add_workdays(D("2026-02-13"), 1) == D("2026-02-14")
    assert cal.add_workdays(D("2026-02-13"), 2) == D("2026-02-24")
    # starting on a day off: the next working day is the first
    assert cal.add_workdays(D("2026-10-03"), 1) == D("2026-10-08")
    assert cal.workdays_between(D("2026-09-30"), D("2026-10-09")) == 2
    assert cal.workdays_between(D("2026-09-30"), D("2026-10-07")) == 0


def test_working_days_across_new_year(cal):
    assert cal.add_workdays(D("2025-12-31"), 1) == D("2026-01-04")      # Sunday worked
    assert cal.add_workdays(D("2025-12-31"), 2) == D("2026-01-05")
    assert cal.workdays_between(D("2025-12-31"), D("2026-01-04")) == 1


def test_working_days_backwards(cal):
    assert cal.add_workdays(D("2026-10-08"), -1) == D("2026-09-30")
    assert cal.add_workdays(D("2026-10-04"), -1) == D("2026-09-30")
    assert cal.add_workdays(D("2026-01-04"), -1) == D("2025-12-31")
    assert cal.add_workdays(D("2026-03-10"), 0) == D("2026-03-10")
    assert cal.workdays_between(D("2026-10-09"), D("2026-09-30")) == -2


def _brute_add(d: date, n: int) -> date:
    step = 1 if n > 0 else -1
    k = abs(n)
    while k:
        d += timedelta(days=step)
        k -= chinese_calendar.is_workday(d)
    return d


def test_add_workdays_and_between_agree_with_day_by_day_count(cal):
    rnd = random.Random(20261001)
    for _ in range(250):
        d = D("2005-01-01") + timedelta(days=rnd.randrange(0, 365 * 20))
        n = rnd.choice([1, 2, 3, 5, 15, 20, 30, 300, -1, -2, -30])
        got = cal.add_workdays(d, n)
        assert got == _brute_add(d, n), (d, n)
        assert cal.is_workday(got)
        if n > 0:
            assert cal.workdays_between(d, got) == n
            assert cal.workdays_between(d, got - timedelta(days=1)) == n - 1


# -- years nobody knows, and the override ----------------------------------------------------------

def test_2027_without_override_is_unknown(cal, fresh_default):
    with pytest.raises(CalendarUnknown) as e:
        cal.is_workday(D("2027-01-04"))
    assert e.value.year == 2027 and "2027" in str(e.value) and ENV_OVERRIDE in str(e.value)
    assert isinstance(e.value, PrtkgError)
    with pytest.raises(CalendarUnknown) as e:
        cal.add_workdays(D("2026-12-29"), 5)                # runs out of 2026
    assert e.value.year == 2027
    with pytest.raises(CalendarUnknown):
        cal.add_days(D("2026-12-20"), 20, extend_to_workday=True)
    with pytest.raises(CalendarUnknown) as e:
        cal.is_workday(D("2003-12-31"))
    assert e.value.year == 2003
    assert 2027 not in default_calendar().known_years()
    assert cal.known_years() == frozenset(range(2004, 2027))


OVERRIDE_2027 = """\
2027:
  holidays: [2027-01-01, 2027-02-08, 2027-02-09, 2027-02-10, 2027-02-11, 2027-02-12]
  workdays: [2027-02-20]
"""


def test_override_file_via_env(tmp_path, fresh_default):
    path = tmp_path / "cal.yaml"
    path.write_text(OVERRIDE_2027, encoding="utf-8")
    fresh_default.setenv(ENV_OVERRIDE, str(path))
    cal = default_calendar()
    assert cal is default_calendar()                  # read once
    assert 2027 in cal.known_years() and 2026 in cal.known_years()
    assert not cal.is_workday(D("2027-01-01"))
    assert cal.is_workday(D("2027-01-04"))
    assert cal.is_workday(D("2027-02-20"))            # adjusted Saturday
    assert not cal.is_workday(D("2027-02-27"))        # ordinary Saturday
    assert cal.add_workdays(D("2026-12-31"), 1) == D("2027-01-04")
    assert cal.add_workdays(D("2027-02-05"), 1) == D("2027-02-15")
    assert cal.add_days(D("2026-12-02"), 30, extend_to_workday=True) == D("2027-01-04")
    assert cal.ordinal(D("2027-01-04")) == cal.ordinal(D("2026-12-31")) + 1
    with pytest.raises(CalendarUnknown):
        cal.is_workday(D("2028-01-03"))


def test_override_replaces_a_known_year():
    cal = Calendar({2026: {"holidays": [], "workdays": []}})
    assert cal.is_workday(D("2026-10-01"))
    assert not cal.is_workday(D("2026-10-10"))
    assert cal.is_workday(D("2025-10-01")) is False    # other years still from chinesecalendar


def test_override_year_after_a_gap_works_but_ordinal_needs_the_gap():
    cal = Calendar({"2030": {"holidays": ["2030-01-01"]}})
    assert cal.workdays_between(D("2030-01-01"), D("2030-01-08")) == 5
    with pytest.raises(CalendarUnknown) as e:
        cal.ordinal(D("2030-01-08"))
    assert e.value.year == 2027


def test_example_override_in_docs_is_valid():
    cal = Calendar.from_file(DOCS / "calendar-override.example.yaml")
    assert 2027 in cal.known_years()
    assert not cal.is_workday(D("2027-01-01"))


@pytest.mark.parametrize("text, entry", [
    ("2027: [oops", "not valid YAML"),
    ("- 2027-01-01\n", "expected a mapping"),
    ("twenty: {holidays: []}\n", "'twenty'"),
    ("2027: {holidays: [2027-01-01, 'Feb 8']}\n", "2027.holidays[1]: 'Feb 8' is not a date"),
    ("2027: {holidays: [2028-01-01]}\n", "2027.holidays[0]: 2028-01-01 is not in 2027"),
    ("2027: {holidays: [], workday: [2027-02-20]}\n", "unknown key(s) workday"),
    ("2027: {holidays: [], workdays: [2027-02-22]}\n", "2027.workdays: 2027-02-22 is a Monday"),
    ("2027: {holidays: [2027-02-20], workdays: [2027-02-20]}\n", "2027-02-20 is both"),
    ("2027: {workdays: [2027-02-20]}\n", "'holidays' is missing"),
    ("2027: {holidays: 2027-01-01}\n", "2027.holidays: expected a list"),
    ("2027: [2027-01-01]\n", "2027: expected {holidays"),
    ("2027: {holidays: [2027-01-01 09:00:00]}\n", "2027.holidays[0]: "),
])
def test_malformed_override_names_file_and_entry(tmp_path, fresh_default, text, entry):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    fresh_default.setenv(ENV_OVERRIDE, str(path))
    with pytest.raises(ConfigError) as e:
        default_calendar()
    msg = str(e.value)
    assert msg.startswith(f"{path}: ") and entry in msg, msg
    assert "\n" not in msg


def test_missing_override_file(tmp_path, fresh_default):
    fresh_default.setenv(ENV_OVERRIDE, str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match="nope.yaml: cannot read"):
        default_calendar()


def test_injected_override_is_validated_too():
    with pytest.raises(ConfigError, match=r"calendar override: 2027.holidays\[0\]"):
        Calendar({2027: {"holidays": ["1 Jan"]}})


# -- ordinals --------------------------------------------------------------------------------------

def test_ordinals_monotonic_and_consistent(cal):
    table = list(cal.ordinal_table(D("2004-01-01"), D("2026-12-31")))
    assert table[0] == (D("2004-01-01"), False, 0)       # New Year's Day: no working day yet
    assert len(table) == (D("2026-12-31") - D("2004-01-01")).days + 1
    prev = 0
    for d, work, o in table:
        assert o == prev + work                          # +1 on a working day, flat on a day off
        prev = o
    assert prev == sum(w for _, w, _ in table)
    assert prev == cal.ordinal(D("2026-12-31")) == cal.workdays_between(D("2004-01-01"), D("2026-12-31"))
    rnd = random.Random(7)
    for _ in range(300):
        (a, wa, oa), (b, wb, ob) = sorted(rnd.sample(table, 2))
        assert cal.ordinal(a) == oa and cal.ordinal(b) == ob
        assert cal.is_workday(a) == wa
        assert ob - oa == cal.workdays_between(a, b)


def test_day_off_shares_the_ordinal_of_the_working_day_before(cal):
    o = cal.ordinal(D("2026-09-30"))
    assert [cal.ordinal(d) for d in days("2026-10-01", "2026-10-07")] == [o] * 7
    assert cal.ordinal(D("2026-10-08")) == o + 1
    assert cal.ordinal(D("2026-10-10")) == o + 3


def test_ordinal_table_partial_span_matches_ordinal(cal):
    rows = list(cal.ordinal_table(D("2025-12-30"), D("2026-01-05")))
    assert [r[0] for r in rows] == list(days("2025-12-30", "2026-01-05"))
    assert [r[1] for r in rows] == [True, True, False, False, False, True, True]
    assert [r[2] for r in rows] == [cal.ordinal(r[0]) for r in rows]


# -- deadline status -------------------------------------------------------------------------------

def test_deadline_status_at_n_minus_1_n_n_plus_1(cal):
    received = D("2026-09-29")                       # a Tuesday before National Day
    deadline = cal.add_workdays(received, 3)         # 30 Sep, 8 Oct, 9 Oct
    assert deadline == D("2026-10-09")
    day_before, day_after = D("2026-10-08"), D("2026-10-10")
    assert deadline_status(day_before, deadline, None) == MET
    assert deadline_status(deadline, deadline, None) == MET
    assert deadline_status(day_after, deadline, None) == MISSED
    assert deadline_status(None, deadline, day_before) == RUNNING
    assert deadline_status(None, deadline, deadline) == RUNNING
    assert deadline_status(None, deadline, day_after) == MISSED
    # an event that happened decides, whatever the as-of date
    assert deadline_status(day_after, deadline, day_before) == MISSED
    with pytest.raises(ValueError):
        deadline_status(None, deadline, None)


# -- 民法典 art. 203: a period's last day on a rest day runs on to the next working day -----------------

def test_period_within_runs_past_rest_days():
    from prtkg.workdays import period_within
    p = period_within(date(2026, 9, 1), 30)
    assert (p.last_day, p.end, p.extended) == (date(2026, 10, 1), date(2026, 10, 8), True)
    assert p.evidence("民法典 第二百零三条") == {"extendedFrom": "2026-10-01", "basis": "民法典 第二百零三条"}
    p = period_within(date(2026, 9, 10), 30)            # Sat 2026-10-10 is an adjusted working day
    assert (p.end, p.extended, p.evidence("x")) == (date(2026, 10, 10), False, {})
    assert period_within(date(2026, 4, 2), 30).end == date(2026, 5, 6)      # May Day
    assert period_within(date(2026, 1, 17), 30).end == date(2026, 2, 24)    # Spring Festival


def test_materialised_period_ends_match_the_per_record_day_nodes():
    from prtkg.shapes import calendar_graph
    days = {x.date: x for x in calendar_graph.known_days() if x.date.year == 2026}
    for d in (date(2026, 1, 1), date(2026, 2, 15), date(2026, 5, 2), date(2026, 10, 1), date(2026, 10, 10)):
        assert days[d] == calendar_graph.day(d), d
    assert days[date(2026, 10, 1)].period_end == date(2026, 10, 8)
    # after the last working day of the last known year nothing is known
    last = max(calendar_graph.known_days(), key=lambda x: x.date)
    assert last.period_end is None or last.period_end == last.date
