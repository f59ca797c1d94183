"""Report periods: a month, an ISO week or an inclusive range of days, as epoch bounds.

``parse_period`` turns ``2026-11``, ``2026-W47`` or ``2025-09-29..2025-10-10``
into a :class:`Period` whose ``[start, end)`` bounds are local midnights in
the given timezone (so a month in Asia/Shanghai starts at 00:00 +08:00).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from ..calendar import parse_local

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
_FORMS = "expected a month '2026-11', an ISO week '2026-W47' or a range of days '2025-09-29..2025-10-10'"


@dataclass(frozen=True, slots=True)
class Period:
    """Half-open epoch bounds ``[start, end)`` and the text that named them."""

    start: int
    end: int
    label: str
    kind: str  # "month" | "week" | "range"
    first_day: date
    last_day: date  # inclusive
    timezone: str

    def contains(self, at: int) -> bool:
        return self.start <= at < self.end


def _midnight(day: date, timezone: str) -> int:
    return parse_local(f"{day.isoformat()} 00:00", timezone)


def _day(text: str, whole: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"period {whole!r}: {text!r} is not a calendar date") from None


def _days(text: str) -> tuple[str, date, date]:
    if m := _MONTH.fullmatch(text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ValueError(f"period {text!r}: month must be 01..12")
        following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return "month", date(year, month, 1), following - timedelta(days=1)
    if m := _WEEK.fullmatch(text):
        try:
            monday = date.fromisocalendar(int(m[1]), int(m[2]), 1)
        except ValueError:
            raise ValueError(f"period {text!r}: ISO year {m[1]} has no week {m[2]}") from None
        return "week", monday, monday + timedelta(days=6)
    if m := _RANGE.fullmatch(text):
        first, last = _day(m[1], text), _day(m[2], text)
        if last < first:
            raise ValueError(f"period {text!r}: the range ends before it starts")
        return "range", first, last
    raise ValueError(f"cannot read period {text!r}: {_FORMS}")


def parse_period(text: str, timezone: str) -> Period:
    """``2026-11`` | ``2026-W47`` | ``2025-09-29..2025-10-10`` (both days included) -> Period.

    Raises ``ValueError`` naming the accepted forms for anything else.
    """
    label = text.strip()
    kind, first, last = _days(label)
    start = _midnight(first, timezone)
    end = _midnight(last + timedelta(days=1), timezone)
    return Period(start, end, label, kind, first, last, timezone)


def due_day(period: Period, is_working_day: Callable[[date], bool] | None = None) -> date | None:
    """The day the 004 procedure wants this report: the Monday after a week, the 5th after a month;
    a day that is not a working day rolls to the next working day, as the engine's ``monthly 5`` does."""
    if period.kind == "month":
        after = period.last_day + timedelta(days=1)
        day = date(after.year, after.month, 5)
    elif period.kind == "week":
        day = period.last_day + timedelta(days=1)
    else:
        return None
    if is_working_day is not None:
        for _ in range(60):  # the longest run of closed days in China is 8 (Spring Festival)
            if is_working_day(day):
                break
            day += timedelta(days=1)
    return day


def due_note(period: Period, is_working_day: Callable[[date], bool] | None = None) -> str:
    """When the 004 service-desk procedure wants this report (weekly on Monday, monthly by the 5th)."""
    due = due_day(period, is_working_day)
    if due is None:
        return f"range report {period.first_day.isoformat()} to {period.last_day.isoformat()} (both included)"
    if period.kind == "month":
        nominal = date(due.year, due.month, 5)
        rolled = "" if due == nominal else f" (the 5th is not a working day: rolled to {due.isoformat()})"
        return f"monthly summary of {period.label}: due by {due.isoformat()}{rolled}"
    return f"weekly review of {period.label}: on {due.strftime('%A')} {due.isoformat()}"
