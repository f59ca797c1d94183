"""Parse the time words of the language: durations, clock times, spans and schedules.

Each parser returns a spec value or raises ``ValueError`` whose text is the
message a process owner sees ("expected a number and a unit, e.g. '3m'...").
"""

from __future__ import annotations

import re

from .spec import Duration, DurationUnit, Repeat

UNITS: dict[DurationUnit, str] = {
    "m": "minutes",
    "h": "hours",
    "d": "calendar days",
    "wd": "working days",
    "wh": "working hours",
}
_UNIT_OF: dict[str, DurationUnit] = {unit: unit for unit in UNITS}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_DURATION = re.compile(r"^([0-9]+)([a-z]+)$")
_CLOCK = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
_EXAMPLES = "e.g. '3m', '24h', '20d', '2wd' or '4wh'"


def parse_duration(text: object) -> Duration:
    if not isinstance(text, str):
        raise ValueError(f"expected a duration as text, {_EXAMPLES}, got {text!r}")
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"bad duration {text!r}: expected a whole number and a unit, {_EXAMPLES}")
    amount, unit = int(match.group(1)), _UNIT_OF.get(match.group(2))
    if unit is None:
        raise ValueError(f"unknown unit {match.group(2)!r} in {text!r}: use m, h, d, wd or wh")
    if amount <= 0:
        raise ValueError(f"duration {text!r} must be greater than zero")
    return Duration(amount, unit)


def parse_clock(text: object) -> int:
    """'17:00' -> minutes after midnight."""
    if not isinstance(text, str):
        raise ValueError(f'expected a clock time in quotes such as "17:00", got {text!r}')
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f'bad clock time {text!r}: expected HH:MM such as "17:00"')
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f"bad clock time {text!r}: hours run 00-23 and minutes 00-59")
    return hour * 60 + minute


def parse_span(text: object) -> tuple[int, int]:
    """'09:00-12:00' -> (540, 720); the end must come after the start ('24:00' closes the day)."""
    if not isinstance(text, str) or text.count("-") != 1:
        raise ValueError(f'bad working span {text!r}: expected "HH:MM-HH:MM" such as "09:00-12:00"')
    start_text, end_text = (part.strip() for part in text.split("-"))
    start = parse_clock(start_text)
    end = 24 * 60 if end_text == "24:00" else parse_clock(end_text)
    if end <= start:
        raise ValueError(f"bad working span {text!r}: it ends before it starts")
    return start, end


def parse_repeat(text: object) -> Repeat:
    """'30m', 'daily 17:00', 'weekly mon 09:00' or 'monthly 5 09:00'."""
    if not isinstance(text, str):
        raise ValueError(f"expected a schedule such as '30m' or 'daily 17:00', got {text!r}")
    words = text.split()
    kind = words[0] if words else ""
    if len(words) == 1:
        return Repeat("interval", interval=parse_duration(kind), text=text)
    if kind == "daily" and len(words) == 2:
        return Repeat("daily", at=parse_clock(words[1]), text=text)
    if kind == "weekly" and len(words) == 3:
        if words[1] not in WEEKDAYS:
            raise ValueError(f"bad weekday {words[1]!r} in {text!r}: use one of {', '.join(WEEKDAYS)}")
        return Repeat("weekly", weekday=WEEKDAYS.index(words[1]), at=parse_clock(words[2]), text=text)
    if kind == "monthly" and len(words) == 3:
        if not words[1].isdigit() or not 1 <= int(words[1]) <= 31:
            raise ValueError(f"bad day of month {words[1]!r} in {text!r}: use 1-31")
        return Repeat("monthly", day=int(words[1]), at=parse_clock(words[2]), text=text)
    raise ValueError(
        f"bad schedule {text!r}: expected an interval such as '30m', "
        "or 'daily 17:00', 'weekly mon 09:00', 'monthly 5 09:00'"
    )


def approx_minutes(d: Duration) -> float:
    """Rough wall-clock length, only to say whether a changed budget got tighter or looser.

    A working day is 7/5 of a calendar day and a working hour 168/40 of an hour:
    the average on a Monday-to-Friday, 40-hour week.
    """
    per_unit: dict[DurationUnit, float] = {
        "m": 1.0,
        "h": 60.0,
        "d": 1440.0,
        "wd": 1440.0 * 7 / 5,
        "wh": 60.0 * 168 / 40,
    }
    return d.amount * per_unit[d.unit]
