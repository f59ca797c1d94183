"""Business calendars: working days, working hours and due-time arithmetic.

A :class:`spec.Calendar` is compiled once into lazily built per-year tables of
working-day ordinals, so deadline arithmetic is integer work plus a bisect.
All instants are int epoch seconds (UTC); the calendar knows its IANA zone.
For ``statutory: china`` a year's schedule comes from the first source that has it: the process
calendar's own ``schedules``, the calendar data file, chinesecalendar's tables; a year none of them
covers follows the calendar's unpublished-year policy (estimate from the law, weekly pattern, or refuse).
This is the only module that imports pendulum and chinese_calendar.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import metadata
from typing import ClassVar

import pendulum
from chinese_calendar import constants as _cn

from complaintflow import calendar_data, holiday_law
from complaintflow.errors import ComplaintflowError
from complaintflow.language import spec

_HORIZON_YEARS = 20  # searches give up after this many years: no calendar loops forever
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# chinese_calendar's own tables: statutory holiday dates and 调休 make-up workdays.
_CN_HOLIDAYS = frozenset(_cn.holidays)
_CN_WORKDAYS = frozenset(_cn.workdays)
_CN_YEARS = range(min(_CN_HOLIDAYS).year, max(_CN_HOLIDAYS).year + 1)


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


CHINESECALENDAR = f"chinesecalendar {_package_version('chinesecalendar')}"
ESTIMATE = f"estimate from {holiday_law.LAW} with lunar-python {holiday_law.library_version()}"


@dataclass(frozen=True, slots=True)
class YearTable:
    """The statutory schedule of one year, as ordinals, and where it came from."""

    holidays: frozenset[int]
    workdays: frozenset[int]
    source: str
    provisional: bool


def _ordinals(days: Iterator[date] | frozenset[date]) -> frozenset[int]:
    return frozenset(d.toordinal() for d in days)


def _packaged_years() -> dict[int, YearTable]:
    return {
        y: YearTable(
            _ordinals(frozenset(d for d in _CN_HOLIDAYS if d.year == y)),
            _ordinals(frozenset(d for d in _CN_WORKDAYS if d.year == y)),
            CHINESECALENDAR,
            False,
        )
        for y in _CN_YEARS
    }


_PACKAGED = _packaged_years()
_LOCAL_RE = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?")


class CalendarError(ComplaintflowError):
    """A deadline cannot be computed on this calendar."""


@dataclass(frozen=True, slots=True)
class DueTime:
    at: int  # epoch seconds
    provisional: bool  # a year without a published statutory schedule was followed weekly


@cache
def _zone(name: str) -> pendulum.Timezone:
    try:
        return pendulum.timezone(name)
    except Exception as exc:  # pendulum raises InvalidTimezone (a ValueError) and others
        raise ValueError(f"unknown timezone {name!r}") from exc


class BusinessCalendar:
    """A compiled calendar; build it with :meth:`compile` (which caches)."""

    _compiled: ClassVar[dict[tuple[spec.Calendar, str, calendar_data.CalendarData | None], BusinessCalendar]] = {}

    def __init__(self, cal: spec.Calendar, timezone: str, data: calendar_data.CalendarData | None = None) -> None:
        self.id = cal.id
        self.spec = cal
        self.timezone = timezone
        try:
            self._tz = _zone(timezone)
        except ValueError as exc:
            raise CalendarError(f"calendar '{cal.id}': {exc}") from None
        if cal.statutory not in ("china", "none"):
            raise CalendarError(f"calendar '{cal.id}': unknown statutory {cal.statutory!r}")
        hours = tuple(sorted(cal.hours))
        for (s, e), nxt in zip(hours, hours[1:] + ((1440, 1440),), strict=False):
            if not 0 <= s < e <= nxt[0]:
                raise CalendarError(f"calendar '{cal.id}': bad or overlapping working span {s}-{e}")
        if not hours or not (cal.weekdays or cal.workdays):
            raise CalendarError(f"calendar '{cal.id}' has no working time")
        try:
            self._holidays = frozenset(date.fromisoformat(d).toordinal() for d in cal.holidays)
            self._workdays = frozenset(date.fromisoformat(d).toordinal() for d in cal.workdays)
        except ValueError as exc:
            raise CalendarError(f"calendar '{cal.id}': bad date ({exc})") from None
        self._hours = hours
        self._weekdays = frozenset(cal.weekdays)
        self._china = cal.statutory == "china"
        self.policy = cal.unpublished_year
        self.official: dict[int, YearTable] = {}
        if self._china:
            self.official.update(_PACKAGED)
            if data is not None:
                if data.errors:
                    first = data.errors[0]
                    raise CalendarError(
                        f"calendar data {first.file}:{first.line}:{first.col}: {first.message} [{first.rule}]"
                    )
                self.official.update(self._schedule_tables(data.schedules, f"data file {data.path}"))
            self.official.update(self._schedule_tables(cal.schedules, "process file"))
        self._years: dict[int, tuple[list[int], bool]] = {}
        self._spans: dict[int, tuple[tuple[int, int], ...]] = {}
        self._epochs: dict[tuple[int, int], int] = {}

    @classmethod
    def compile(cls, cal: spec.Calendar, timezone: str) -> BusinessCalendar:
        data = calendar_data.current() if cal.statutory == "china" else None
        key = (cal, timezone, data)
        found = cls._compiled.get(key)
        if found is None:
            found = cls._compiled[key] = cls(cal, timezone, data)
        return found

    def without_data_file(self) -> BusinessCalendar:
        """The same calendar as if no calendar data file were set: what a deadline saw before one arrived."""
        key = (self.spec, self.timezone, None)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = BusinessCalendar(self.spec, self.timezone, None)
        return found

    @staticmethod
    def _schedule_tables(schedules: tuple[spec.YearSchedule, ...], source: str) -> dict[int, YearTable]:
        return {
            s.year: YearTable(
                _ordinals(frozenset(date.fromisoformat(d) for d in s.holidays)),
                _ordinals(frozenset(date.fromisoformat(d) for d in s.workdays)),
                source,
                False,
            )
            for s in schedules
        }

    # -- tables ---------------------------------------------------------------

    def statutory_year(self, year: int) -> YearTable | None:
        """The statutory schedule ``year`` follows; None when only the weekly pattern applies."""
        if not self._china:
            return None
        found = self.official.get(year)
        if found is not None:
            return found
        if self.policy == spec.UnpublishedYear.REFUSE:
            raise self._refuse_year(year)
        if self.policy == spec.UnpublishedYear.ESTIMATE:
            return YearTable(_ordinals(frozenset(holiday_law.statutory_days(year))), frozenset(), ESTIMATE, True)
        return YearTable(frozenset(), frozenset(), "weekly pattern", True)

    def _refuse_year(self, year: int) -> CalendarError:
        return CalendarError(
            f"no published statutory schedule for {year} (calendar '{self.id}' refuses unpublished years)"
        )

    def _day_works(self, o: int, statutory: YearTable | None) -> bool:
        if o in self._workdays:  # company decisions win over everything
            return True
        if o in self._holidays:
            return False
        if statutory is not None:
            if o in statutory.holidays:
                return False
            if o in statutory.workdays:
                return True
        return date.fromordinal(o).weekday() in self._weekdays

    def _year(self, year: int) -> tuple[list[int], bool]:
        """Sorted working-day ordinals of ``year`` and whether they are provisional."""
        table = self._years.get(year)
        if table is None:
            statutory = self.statutory_year(year)
            first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
            days = [o for o in range(first, last + 1) if self._day_works(o, statutory)]
            table = self._years[year] = (days, statutory is not None and statutory.provisional)
        return table

    def _nth_after(self, o: int, n: int = 1) -> tuple[int, bool]:
        """The n-th working day (n >= 1) strictly after ordinal ``o``."""
        start = date.fromordinal(o).year
        provisional = False
        for year in range(start, start + _HORIZON_YEARS + 1):
            days, prov = self._year(year)
            provisional |= prov
            i = bisect_right(days, o)
            if i + n <= len(days):
                return days[i + n - 1], provisional
            n -= len(days) - i
        raise CalendarError(f"calendar '{self.id}' has no working day within {_HORIZON_YEARS} years")

    def _days_from(self, o: int) -> Iterator[tuple[int, bool]]:
        """Working-day ordinals >= ``o`` in order, each with its year's provisional flag."""
        start = date.fromordinal(o).year
        for year in range(start, start + _HORIZON_YEARS + 1):
            days, prov = self._year(year)
            for d in days[bisect_left(days, o) :]:
                yield d, prov
        raise CalendarError(f"calendar '{self.id}' has no working time within {_HORIZON_YEARS} years")

    def _works(self, o: int) -> tuple[bool, bool]:
        days, prov = self._year(date.fromordinal(o).year)
        i = bisect_left(days, o)
        return i < len(days) and days[i] == o, prov

    def _epoch(self, o: int, minute: int) -> int:
        """Epoch of local ``minute`` after midnight on day ``o`` (24:00 is next midnight)."""
        d = date.fromordinal(o + minute // 1440)
        m = minute % 1440
        return int(datetime(d.year, d.month, d.day, m // 60, m % 60, tzinfo=self._tz).timestamp())

    def _clock(self, o: int, minute: int) -> int:
        """Cached :meth:`_epoch` for the few clock times deadlines name (spans, by, at)."""
        at = self._epochs.get((o, minute))
        if at is None:
            at = self._epochs[(o, minute)] = self._epoch(o, minute)
        return at

    def _day_spans(self, o: int) -> tuple[tuple[int, int], ...]:
        spans = self._spans.get(o)
        if spans is None:  # per-day, because a DST change makes the offset vary by date
            spans = tuple((self._epoch(o, s), self._epoch(o, e)) for s, e in self._hours)
            self._spans[o] = spans
        return spans

    def _ordinal(self, t: int) -> int:
        return datetime.fromtimestamp(t, self._tz).toordinal()

    # -- public ---------------------------------------------------------------

    def published_until(self, day: date) -> date | None:
        """Last day of the unbroken run of official years from ``day``'s year; None if that year has none."""
        year = day.year
        if year not in self.official:
            return None
        while year + 1 in self.official:
            year += 1
        return date(year, 12, 31)

    def is_working_day(self, day: date) -> bool:
        o = day.toordinal()
        if o in self._workdays or o in self._holidays:  # known without statutory data
            return o in self._workdays
        return self._works(o)[0]

    def add(self, start: int, d: spec.Duration) -> DueTime:
        n, unit = d.amount, d.unit
        if unit == "m":
            return DueTime(start + 60 * n, False)
        if unit == "h":
            return DueTime(start + 3600 * n, False)
        if unit == "d":  # same wall-clock time n local days later, across DST changes
            local = datetime.fromtimestamp(start, self._tz)
            o = local.toordinal() + n
            sec = local.hour * 3600 + local.minute * 60 + local.second
            return DueTime(self._epoch(o, sec // 60) + sec % 60, False)
        if unit == "wd":
            if n < 1:
                raise CalendarError(f"working days must be at least 1, got {d}")
            o, prov = self._nth_after(self._ordinal(start), n)
            return DueTime(self._day_spans(o)[-1][1], prov)
        if unit == "wh":
            if n < 0:
                raise CalendarError(f"working hours must not be negative, got {d}")
            return self.add_working_seconds(start, 3600 * n)
        raise CalendarError(f"unknown duration unit {unit!r} in {d}")

    def _at_or_after(self, o: int, minute: int) -> tuple[int, bool]:
        """``minute`` on the first working day on or after ordinal ``o``."""
        day, prov = self._nth_after(o - 1)
        return self._clock(day, minute), prov

    def by_time(self, start: int, minute_of_day: int) -> DueTime:
        o = self._ordinal(start)
        works, prov = self._works(o)
        at = self._clock(o, minute_of_day)
        if works and at > start:
            return DueTime(at, prov)
        nxt, prov2 = self._nth_after(o)
        return DueTime(self._clock(nxt, minute_of_day), prov or prov2)

    def end_of_day(self, start: int) -> DueTime:
        o = self._ordinal(start)
        works, prov = self._works(o)
        if works and start < self._day_spans(o)[-1][1]:
            return DueTime(self._day_spans(o)[-1][1], prov)
        nxt, prov2 = self._nth_after(o)
        return DueTime(self._day_spans(nxt)[-1][1], prov or prov2)

    def next_occurrence(self, after: int, every: spec.Repeat) -> DueTime:
        if every.kind == "interval":
            if every.interval is None:
                raise CalendarError(f"repeat {every} has no interval")
            return self.add(after, every.interval)
        if every.at is None:
            raise CalendarError(f"repeat {every} has no time of day")
        if every.kind == "daily":
            return self.by_time(after, every.at)
        # Nominal dates roll forward, so a date before `after` may still roll past it:
        # walk nominal dates from a little before `after` and take the first rolled one after it.
        today = self._ordinal(after)
        if every.kind == "weekly":
            if every.weekday is None or not 0 <= every.weekday <= 6:
                raise CalendarError(f"repeat {every} has no valid weekday")
            first = today - 35
            first += (every.weekday - date.fromordinal(first).weekday()) % 7
            nominal: Iterator[int] = iter(range(first, today + 366 * _HORIZON_YEARS, 7))
        elif every.kind == "monthly":
            if every.day is None or not 1 <= every.day <= 31:
                raise CalendarError(f"repeat {every} has no valid day of month")
            nominal = self._monthly(date.fromordinal(today), every.day)
        else:
            raise CalendarError(f"unknown repeat kind {every.kind!r}")
        for o in nominal:
            at, prov = self._at_or_after(o, every.at)
            if at > after:
                return DueTime(at, prov)
        raise CalendarError(f"calendar '{self.id}': no occurrence of {every} found")

    @staticmethod
    def _monthly(today: date, day: int) -> Iterator[int]:
        """Ordinals of ``day`` in each month from two months back (short months: last day)."""
        start = today.year * 12 + today.month - 1 - 2
        for index in range(start, start + 12 * _HORIZON_YEARS + 3):
            y, m = divmod(index, 12)
            nxt = date(y + (m == 11), (m + 1) % 12 + 1, 1).toordinal()
            yield min(date(y, m + 1, 1).toordinal() + day - 1, nxt - 1)

    def _between(self, a: int, b: int) -> tuple[int, bool]:
        total, provisional = 0, False
        if b <= a:
            return 0, False
        last = self._ordinal(b)
        for o, prov in self._days_from(self._ordinal(a)):
            if o > last:
                break
            provisional |= prov
            for s, e in self._day_spans(o):
                lo, hi = max(s, a), min(e, b)
                if hi > lo:
                    total += hi - lo
        return total, provisional

    def working_seconds_between(self, a: int, b: int) -> int:
        return self._between(a, b)[0]

    def add_working_seconds(self, start: int, seconds: int) -> DueTime:
        if seconds <= 0:
            return DueTime(start, False)
        provisional = False
        for o, prov in self._days_from(self._ordinal(start)):
            provisional |= prov
            for s, e in self._day_spans(o):
                if e <= start:
                    continue
                available = e - max(s, start)
                if seconds <= available:  # landing exactly on a close stays at that close
                    return DueTime(max(s, start) + seconds, provisional)
                seconds -= available
        raise AssertionError("unreachable: _days_from raises at its horizon")

    def shift_for_pause(self, due: int, unit: str, paused_from: int, paused_to: int) -> DueTime:
        if paused_to <= paused_from:
            return DueTime(due, False)
        if unit in ("m", "h", "d"):
            return DueTime(due + paused_to - paused_from, False)
        if unit in ("wd", "wh"):
            paused, prov = self._between(paused_from, paused_to)
            shifted = self.add_working_seconds(due, paused)
            return DueTime(shifted.at, prov or shifted.provisional)
        raise CalendarError(f"unknown duration unit {unit!r}")


def parse_local(text: str, timezone: str) -> int:
    """``2025-09-30 18:00`` (local to ``timezone``) or ISO 8601 with an offset -> epoch seconds."""
    zone = _zone(timezone)
    # pendulum.parse also takes bare dates, durations and intervals; accept only a date-time
    if not _LOCAL_RE.fullmatch(text.strip()):
        raise ValueError(f"cannot read {text!r} as a time: expected 'YYYY-MM-DD HH:MM' or ISO 8601")
    try:
        parsed = pendulum.parse(text.strip(), tz=zone)
    except ValueError as exc:
        raise ValueError(f"cannot read {text!r} as a time: {exc}") from None
    if not isinstance(parsed, pendulum.DateTime):
        raise ValueError(f"cannot read {text!r} as a time")
    return parsed.int_timestamp


def format_local(at: int, timezone: str) -> str:
    """Epoch seconds -> ``2025-09-30 18:00`` in ``timezone`` (seconds only when non-zero)."""
    local = datetime.fromtimestamp(at, _zone(timezone))
    return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")


def weekday_name(i: int) -> str:
    """0 -> ``mon`` ... 6 -> ``sun``, as written in process files."""
    if not 0 <= i <= 6:
        raise ValueError(f"weekday must be 0..6, got {i}")
    return _WEEKDAYS[i]


def local_date(at: int, timezone: str) -> date:
    """The local calendar date of epoch seconds ``at`` in ``timezone``."""
    return datetime.fromtimestamp(at, _zone(timezone)).date()
