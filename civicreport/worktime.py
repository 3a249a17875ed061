"""Working time: deadlines that run only during office hours on working days.

Working days follow the official Chinese calendar (public holidays and 调休
make-up working days) from the ``chinese_calendar`` package. Outside the years
the package knows (it raises ``NotImplementedError`` there, e.g. for 2027 in
1.11.0) the calendar falls back to plain weekdays, Monday to Friday. Admin
overrides (date -> "holiday" | "workday") win over both.

Plain Python: no Flask, no models. All arithmetic is done on aware datetimes in
UTC with ``timedelta`` (exact to the microsecond), so results are exact to the
minute and never drift.
"""

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

import chinese_calendar

HOLIDAY = "holiday"
WORKDAY = "workday"
OVERRIDE_KINDS = (HOLIDAY, WORKDAY)

SOURCE_OVERRIDE = "override"
SOURCE_OFFICIAL = "official"
SOURCE_FALLBACK = "weekday-fallback"

_ONE_MINUTE = timedelta(minutes=1)
_PERIOD_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_OFFICIAL_YEARS = range(
    min(d.year for d in chinese_calendar.holidays),
    max(d.year for d in chinese_calendar.holidays) + 1,
)


@lru_cache(maxsize=8192)
def _official_workday(day: date) -> bool | None:
    """True/False from the package, or None when it has no data for ``day``; never raises."""
    if day.year not in _OFFICIAL_YEARS:
        return None
    try:
        return bool(chinese_calendar.is_workday(day))  # the package is untyped
    except NotImplementedError:
        return None


def _require_aware(value: datetime, name: str) -> None:
    """Raise ValueError unless ``value`` is a timezone-aware datetime."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def _parse_clock(hours: str, minutes: str, text: str) -> time:
    """``time`` from HH and MM strings; ValueError naming ``text`` when out of range."""
    try:
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"invalid time in office hours period {text!r}") from None


@dataclass(frozen=True)
class OfficeHours:
    """Daily office periods, e.g. ((08:30, 12:00), (14:00, 17:30)); each is [open, close).

    Periods must be non-empty, sorted, non-overlapping (touching is allowed),
    naive, whole minutes and within one day; otherwise ValueError.
    """

    periods: tuple[tuple[time, time], ...]

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValueError("office hours need at least one period")
        previous_close = None
        for opening, closing in self.periods:
            for moment in (opening, closing):
                if moment.tzinfo is not None or moment.second or moment.microsecond:
                    raise ValueError(f"office hours must be naive whole minutes, got {moment}")
            if opening >= closing:
                raise ValueError(f"office hours period {opening:%H:%M}-{closing:%H:%M} is empty or reversed")
            if previous_close is not None and opening < previous_close:
                raise ValueError(
                    f"office hours period starting {opening:%H:%M} overlaps the previous one or is out of order"
                )
            previous_close = closing

    @classmethod
    def parse(cls, text: str) -> "OfficeHours":
        """Parse "08:30-12:00,14:00-17:30" (any order); ValueError if malformed, empty or overlapping."""
        parts = [part.strip() for part in (text or "").split(",") if part.strip()]
        if not parts:
            raise ValueError(f"office hours {text!r} name no period; expected e.g. '08:30-12:00,14:00-17:30'")
        periods = []
        for part in parts:
            match = _PERIOD_RE.match(part)
            if not match:
                raise ValueError(f"office hours period {part!r} is not HH:MM-HH:MM")
            periods.append((_parse_clock(match[1], match[2], part), _parse_clock(match[3], match[4], part)))
        return cls(tuple(sorted(periods)))

    @property
    def minutes_per_day(self) -> int:
        """Working minutes in one working day."""
        return sum(_minute_of_day(closing) - _minute_of_day(opening) for opening, closing in self.periods)


def _minute_of_day(moment: time) -> int:
    return moment.hour * 60 + moment.minute


class WorkCalendar:
    """Working days and working-time arithmetic in one time zone.

    ``overrides`` maps dates to "holiday" or "workday" and wins over the
    official calendar and the weekday fallback; a bad key or value raises
    ValueError at construction.
    """

    def __init__(self, office_hours: OfficeHours, tz: tzinfo, overrides: Mapping[date, str] | None = None):
        if not isinstance(tz, tzinfo):
            raise ValueError(f"tz must be a tzinfo, got {tz!r}")
        self.office_hours = office_hours
        self.tz = tz
        self.overrides = dict(overrides or {})
        for day, kind in self.overrides.items():
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"override key must be a date, got {day!r}")
            if kind not in OVERRIDE_KINDS:
                raise ValueError(f"override for {day} must be one of {OVERRIDE_KINDS}, got {kind!r}")

    def source(self, day: date) -> str:
        """Which rule decides ``day``: "override", "official" or "weekday-fallback"; never raises."""
        if day in self.overrides:
            return SOURCE_OVERRIDE
        if _official_workday(day) is not None:
            return SOURCE_OFFICIAL
        return SOURCE_FALLBACK

    def is_working_day(self, day: date) -> bool:
        """Override, else official calendar, else Monday-Friday; never raises for a date."""
        if day in self.overrides:
            return self.overrides[day] == WORKDAY
        official = _official_workday(day)
        return day.weekday() < 5 if official is None else official

    def add(self, start: datetime, minutes: int) -> datetime:
        """The instant ``minutes`` working minutes after ``start``, in start's time zone.

        Outside office hours the clock starts at the next opening. A deadline
        that ends exactly at a closing time is that closing time (not the next
        opening). ``minutes == 0`` returns the instant the clock would start:
        ``start`` itself inside office hours, else the next opening.
        ValueError for a naive ``start`` or negative/non-integer ``minutes``;
        OverflowError past year 9999.
        """
        _require_aware(start, "start")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 0:
            raise ValueError(f"minutes must be a non-negative int, got {minutes!r}")
        remaining = timedelta(minutes=minutes)
        intervals = self._intervals(start)
        opening, closing = next(intervals)
        while remaining > closing - opening:
            remaining -= closing - opening
            opening, closing = next(intervals)
        return (opening + remaining).astimezone(start.tzinfo)

    def between(self, start: datetime, end: datetime) -> int:
        """Whole working minutes in [start, end); 0 if end <= start. ValueError for naive datetimes.

        The inverse of ``add``: ``between(s, add(s, m)) == m``.
        """
        _require_aware(start, "start")
        _require_aware(end, "end")
        end = end.astimezone(UTC)
        worked = timedelta()
        for opening, closing in self._intervals(start):
            if opening >= end:
                break
            worked += min(closing, end) - opening
        return worked // _ONE_MINUTE

    def _intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (UTC, [open, close)) from ``start`` on, the first clipped to it; endless."""
        start = start.astimezone(UTC)
        day = start.astimezone(self.tz).date()
        while True:
            if self.is_working_day(day):
                for opening, closing in self._day_periods(day):
                    opening = max(opening, start)
                    if closing > opening:
                        yield opening, closing
            day += timedelta(days=1)

    def _day_periods(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The office periods of ``day`` as UTC instants."""
        for opening, closing in self.office_hours.periods:
            yield (
                datetime.combine(day, opening, self.tz).astimezone(UTC),
                datetime.combine(day, closing, self.tz).astimezone(UTC),
            )


class WorkingLine:
    """``WorkCalendar.add`` and ``between`` with the same results (as UTC instants), made for
    hundreds of thousands of calls.

    The calendar walks day by day on every call; this lays the working periods from
    ``first_day`` on end to end once (extended a year at a time as needed) and answers with
    bisections. Raises ValueError for an instant before ``first_day`` (local).
    """

    def __init__(self, calendar: WorkCalendar, first_day: date) -> None:
        self.calendar = calendar
        self.start = datetime.combine(first_day, time.min, calendar.tz).astimezone(UTC)
        self.next_day = first_day
        self.opens: list[datetime] = []  # UTC instants of each working period
        self.closes: list[datetime] = []
        self.before: list[timedelta] = []  # working time before and after each period
        self.after: list[timedelta] = []
        self._extend()

    def _extend(self) -> None:
        tz, worked = self.calendar.tz, self.after[-1] if self.after else timedelta()
        for _ in range(366):
            if self.calendar.is_working_day(self.next_day):
                for opening, closing in self.calendar.office_hours.periods:
                    self.opens.append(datetime.combine(self.next_day, opening, tz).astimezone(UTC))
                    self.closes.append(datetime.combine(self.next_day, closing, tz).astimezone(UTC))
                    self.before.append(worked)
                    worked += self.closes[-1] - self.opens[-1]
                    self.after.append(worked)
            self.next_day += timedelta(days=1)

    def _period(self, moment: datetime) -> int:
        """Index of the first working period that closes after ``moment``."""
        if moment < self.start:
            raise ValueError(f"{moment} is before the working line starts ({self.start})")
        while self.closes[-1] <= moment:
            self._extend()
        return bisect_right(self.closes, moment)

    def _position(self, moment: datetime) -> tuple[int, timedelta]:
        i = self._period(moment)
        return i, self.before[i] + max(timedelta(), moment - self.opens[i])

    def add(self, start: datetime, minutes: int) -> datetime:
        i, position = self._position(start)
        if minutes == 0:
            return max(start, self.opens[i])
        target = position + timedelta(minutes=minutes)
        while self.after[-1] < target:
            self._extend()
        j = bisect_left(self.after, target)
        return self.opens[j] + (target - self.before[j])

    def between(self, start: datetime, end: datetime) -> int:
        if end <= start:
            return 0
        return (self._position(end)[1] - self._position(start)[1]) // timedelta(minutes=1)

    def hours(self, start: datetime, end: datetime) -> float:
        """Working hours in [start, end), exact (not rounded to minutes); 0 when end <= start."""
        if end <= start:
            return 0.0
        return (self._position(end)[1] - self._position(start)[1]) / timedelta(hours=1)
