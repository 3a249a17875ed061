"""Working-time deadlines on the official Chinese calendar (no app, no database).

Calendar facts (chinese_calendar 1.11.0, 2026):
- Spring Festival holiday Sun 2026-02-15 .. Mon 2026-02-23; make-up working days Sat 02-14, Sat 02-28.
- Mid-Autumn holiday Fri 2026-09-25 .. Sun 09-27.
- National Day holiday Thu 2026-10-01 .. Wed 10-07; make-up working days Sun 09-20, Sat 10-10.
- 2026 has 248 working days. The package has no data for 2027 (weekday fallback).
"""

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from civicreport.worktime import OfficeHours, WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
HOURS = OfficeHours.parse("08:30-12:00,14:00-17:30")


@pytest.fixture(autouse=True)
def _clean_state():
    """Override conftest's per-test database reset: these tests need no app."""
    yield


@pytest.fixture
def cal():
    return WorkCalendar(HOURS, SH)


def at(y, mo, d, h=0, mi=0, s=0):
    return datetime(y, mo, d, h, mi, s, tzinfo=SH)


# --- OfficeHours ---------------------------------------------------------------------------


def test_parse_office_hours():
    assert HOURS.periods == ((time(8, 30), time(12)), (time(14), time(17, 30)))
    assert HOURS.minutes_per_day == 420
    assert OfficeHours.parse(" 14:00-17:30 , 08:30 - 12:00 ") == HOURS
    assert OfficeHours.parse("08:00-12:00,12:00-13:00").minutes_per_day == 300


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ,  ",
        None,
        "8-12",
        "08:30-12:00;14:00-17:30",
        "08:30-12:00,11:00-13:00",
        "12:00-08:30",
        "08:30-08:30",
        "25:00-26:00",
        "08:60-09:00",
        "08:30-12:00,08:30-12:00",
    ],
)
def test_parse_office_hours_errors(text):
    with pytest.raises(ValueError):
        OfficeHours.parse(text)


def test_office_hours_constructor_validates():
    with pytest.raises(ValueError):
        OfficeHours(())
    with pytest.raises(ValueError):
        OfficeHours(((time(14), time(17)), (time(8), time(12))))
    with pytest.raises(ValueError):
        OfficeHours(((time(8, 0, 30), time(12)),))


# --- calendar facts -------------------------------------------------------------------------


def test_national_day_2026(cal):
    for day in range(1, 8):
        assert not cal.is_working_day(date(2026, 10, day))
    assert cal.is_working_day(date(2026, 9, 30))
    assert cal.is_working_day(date(2026, 10, 8))
    assert cal.source(date(2026, 10, 3)) == "official"


def test_make_up_weekend_days_are_working_days(cal):
    for day in (date(2026, 9, 20), date(2026, 10, 10), date(2026, 2, 14), date(2026, 2, 28)):
        assert day.weekday() >= 5
        assert cal.is_working_day(day)


def test_ordinary_saturday_is_not_a_working_day(cal):
    assert date(2026, 10, 17).weekday() == 5
    assert not cal.is_working_day(date(2026, 10, 17))


def test_deadline_across_national_day(cal):
    # Wed 09-30 14:00 + 8 h: 3.5 h that afternoon, holiday 10-01..10-07, 3.5 h Thu morning, 1 h after lunch.
    assert cal.add(at(2026, 9, 30, 14), 480) == at(2026, 10, 8, 15)
    assert cal.between(at(2026, 9, 30, 14), at(2026, 10, 8, 15)) == 480


def test_deadline_runs_into_make_up_saturday(cal):
    assert cal.add(at(2026, 10, 9, 17), 60) == at(2026, 10, 10, 9)


def test_deadline_across_spring_festival(cal):
    # Fri 02-13 16:30 + 2 days: 1 h Fri, 7 h on make-up Sat 02-14, holiday 02-15..02-23, 6 h Tue 02-24.
    assert cal.add(at(2026, 2, 13, 16, 30), 840) == at(2026, 2, 24, 16, 30)
    assert cal.between(at(2026, 2, 14), at(2026, 2, 24)) == 420


def test_mid_autumn_2026(cal):
    assert cal.between(at(2026, 9, 24), at(2026, 9, 29)) == 840  # Thu + Mon; Fri 09-25 is a holiday


def test_year_2026_total(cal):
    assert len(chinese_calendar.get_workdays(date(2026, 1, 1), date(2026, 12, 31))) == 248
    assert cal.between(at(2026, 1, 1), at(2027, 1, 1)) == 248 * 420


# --- outside the package's range -----------------------------------------------------------


def test_2027_falls_back_to_weekdays(cal):
    assert cal.source(date(2026, 12, 31)) == "official"
    assert cal.source(date(2027, 1, 1)) == "weekday-fallback"
    assert cal.source(date(2003, 6, 2)) == "weekday-fallback"
    assert cal.is_working_day(date(2027, 1, 1))  # Friday; 2027 holidays need overrides
    assert not cal.is_working_day(date(2027, 1, 2))
    assert cal.is_working_day(date(2003, 6, 2))
    assert cal.add(at(2026, 12, 31, 17), 60) == at(2027, 1, 1, 9)
    assert cal.between(at(2027, 1, 4), at(2027, 1, 11)) == 5 * 420


def test_overrides_take_effect_in_2027():
    cal = WorkCalendar(HOURS, SH, {date(2027, 1, 1): "holiday", date(2027, 1, 9): "workday"})
    assert cal.source(date(2027, 1, 1)) == "override"
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.is_working_day(date(2027, 1, 9))
    assert cal.add(at(2026, 12, 31, 17), 60) == at(2027, 1, 4, 9)
    assert cal.add(at(2027, 1, 8, 17), 60) == at(2027, 1, 9, 9)


def test_overrides_win_over_official_data():
    cal = WorkCalendar(HOURS, SH, {date(2026, 10, 7): "workday", date(2026, 10, 8): "holiday"})
    assert cal.is_working_day(date(2026, 10, 7))
    assert not cal.is_working_day(date(2026, 10, 8))
    assert cal.source(date(2026, 10, 8)) == "override"


@pytest.mark.parametrize(
    "overrides",
    [
        {date(2027, 1, 1): "day-off"},
        {datetime(2027, 1, 1): "holiday"},
        {"2027-01-01": "holiday"},
    ],
)
def test_bad_overrides(overrides):
    with pytest.raises(ValueError):
        WorkCalendar(HOURS, SH, overrides)


# --- starts outside office hours, boundaries ---------------------------------------------------


@pytest.mark.parametrize(
    "start, minutes, expected",
    [
        (at(2026, 10, 8, 12, 30), 30, at(2026, 10, 8, 14, 30)),  # lunch break
        (at(2026, 10, 8, 20), 30, at(2026, 10, 9, 9)),  # evening
        (at(2026, 10, 8, 7), 1, at(2026, 10, 8, 8, 31)),  # before opening
        (at(2026, 10, 3, 10), 30, at(2026, 10, 8, 9)),  # holiday
        (at(2026, 10, 17, 10), 30, at(2026, 10, 19, 9)),  # ordinary Saturday
        (at(2026, 10, 8, 11), 60, at(2026, 10, 8, 12)),  # ends exactly at closing: stays there
        (at(2026, 10, 8, 10), 0, at(2026, 10, 8, 10)),  # zero inside office hours: start itself
        (at(2026, 10, 8, 12), 0, at(2026, 10, 8, 14)),  # zero at closing: next opening
        (at(2026, 9, 30, 18), 0, at(2026, 10, 8, 8, 30)),  # zero before a holiday block
        (at(2026, 10, 8, 10, 0, 30), 1, at(2026, 10, 8, 10, 1, 30)),  # seconds are kept
    ],
)
def test_add_cases(cal, start, minutes, expected):
    assert cal.add(start, minutes) == expected
    assert cal.between(start, expected) == minutes


def test_result_keeps_start_time_zone(cal):
    start = datetime(2026, 9, 30, 6, tzinfo=UTC)  # 14:00 in Shanghai
    result = cal.add(start, 480)
    assert result.tzinfo is UTC
    assert result == datetime(2026, 10, 8, 7, tzinfo=UTC)


def test_between_edge_cases(cal):
    assert cal.between(at(2026, 10, 8, 12), at(2026, 10, 8, 10)) == 0
    assert cal.between(at(2026, 10, 8, 10), at(2026, 10, 8, 10)) == 0
    assert cal.between(at(2026, 10, 8, 12, 5), at(2026, 10, 8, 13, 55)) == 0
    assert cal.between(at(2026, 10, 8, 10, 0, 30), at(2026, 10, 8, 10, 1, 29)) == 0
    assert cal.between(at(2026, 10, 8), at(2026, 10, 9)) == 420


def test_naive_datetimes_and_bad_minutes(cal):
    naive = datetime(2026, 10, 8, 10)
    with pytest.raises(ValueError):
        cal.add(naive, 10)
    with pytest.raises(ValueError):
        cal.between(naive, at(2026, 10, 9))
    with pytest.raises(ValueError):
        cal.between(at(2026, 10, 8), naive)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError):
            cal.add(at(2026, 10, 8), bad)


# --- properties ----------------------------------------------------------------------------------


def _random_start(rng):
    """A random instant between 2026-01-01 and 2027-12-31 in Shanghai, sometimes with seconds."""
    start = at(2026, 1, 1) + timedelta(minutes=rng.randrange(730 * 24 * 60))
    return start + timedelta(seconds=rng.randrange(60)) if rng.random() < 0.2 else start


def _working_minute(cal, instant):
    """Oracle: is the minute starting at ``instant`` a working minute? (independent of add/between)"""
    local = instant.astimezone(SH)
    return cal.is_working_day(local.date()) and any(
        opening <= local.time() < closing for opening, closing in HOURS.periods
    )


def test_between_inverts_add(cal):
    rng = random.Random(20261001)
    for _ in range(400):
        start, minutes = _random_start(rng), rng.randrange(20000)
        end = cal.add(start, minutes)
        assert cal.between(start, end) == minutes, (start, minutes, end)
        if minutes:
            assert _working_minute(cal, end - timedelta(minutes=1)), (start, minutes, end)
            assert cal.between(start, end - timedelta(seconds=1)) == minutes - 1


def test_add_matches_minute_by_minute_oracle():
    cal = WorkCalendar(HOURS, SH, {date(2027, 1, 1): "holiday", date(2027, 1, 9): "workday"})
    rng = random.Random(7)
    for _ in range(40):
        start = at(2026, 9, 15) + timedelta(minutes=rng.randrange(150 * 24 * 60))
        minutes = rng.randrange(1, 2500)
        instant, counted = start, 0
        while counted < minutes:
            counted += _working_minute(cal, instant)
            instant += timedelta(minutes=1)
        assert cal.add(start, minutes) == instant, (start, minutes)


def test_long_spans(cal):
    end = cal.add(at(2026, 12, 20, 9), 10_000 * 420)
    assert cal.between(at(2026, 12, 20, 9), end) == 10_000 * 420
    assert cal.between(at(2026, 1, 1), at(2036, 1, 1)) > 2500 * 420
