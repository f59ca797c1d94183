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


ACCEPTED_UNITS = ", ".join(f"{unit} ({words})" for unit, words in UNITS.items())
# Units people write that the language spells otherwise; several Chinese words are ambiguous on purpose
# ("天" can be a calendar or a working day), so they suggest both.
_UNIT_ALIASES = {
    "min": ("m",),
    "mins": ("m",),
    "minute": ("m",),
    "minutes": ("m",),
    "分": ("m",),
    "分钟": ("m",),
    "hr": ("h",),
    "hrs": ("h",),
    "hour": ("h",),
    "hours": ("h",),
    "小时": ("h", "wh"),
    "时": ("h",),
    "day": ("d", "wd"),
    "days": ("d", "wd"),
    "天": ("d", "wd"),
    "日": ("d", "wd"),
    "工作日": ("wd",),
    "个工作日": ("wd",),
    "workday": ("wd",),
    "workdays": ("wd",),
    "工作小时": ("wh",),
    "s": ("m",),
    "sec": ("m",),
}
_LOOSE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(\S*?)\s*$")
_SMALLER = {"h": ("m", 60), "d": ("h", 24)}


def explain_duration(text: object) -> tuple[str, str]:
    """Why ``text`` is not a duration, naming the accepted units, and the fix to suggest."""
    accepted = f"a duration is a whole number and a unit: {ACCEPTED_UNITS}"
    if not isinstance(text, str):
        return f"expected a duration as text, got {text!r}; {accepted}", "for example within: 2wd"
    loose = _LOOSE.match(text)
    if not loose:
        return f"{text!r} is not a duration; {accepted}", "for example within: 2wd"
    number, unit = loose.group(1), loose.group(2)
    units: tuple[DurationUnit, ...] = (
        (_UNIT_OF[unit],) if unit in _UNIT_OF else tuple(_UNIT_OF[u] for u in _UNIT_ALIASES.get(unit.lower(), ()))
    )
    if "." in number:
        whole = float(number)
        for u in units:
            smaller = _SMALLER.get(u)
            if smaller and (whole * smaller[1]).is_integer() and whole * smaller[1] > 0:
                fix = f"{int(whole * smaller[1])}{smaller[0]}"
                return f"{text!r} is not a whole number of {UNITS[u]}; {accepted}", f"write {fix!r}"
        return f"{text!r} is not a whole number; {accepted}", "round it to a whole number, or use a smaller unit"
    if int(number) == 0:
        return f"{text!r} is zero; a duration must be at least 1 ({accepted})", "use at least '1m', or remove it"
    if not unit:
        return (
            f"{text!r} has no unit; {accepted}",
            f"write '{int(number)}m' (minutes) or '{int(number)}wd' (working days)",
        )
    if not units:
        return f"unknown unit {unit!r} in {text!r}; {accepted}", "for example within: 2wd"
    fixes = " or ".join(f"'{int(number)}{u}' ({UNITS[u]})" for u in units)
    if unit in UNITS:  # right unit, stray spaces
        return f"{text!r} has spaces; {accepted}", f"write '{int(number)}{unit}'"
    return f"unknown unit {unit!r} in {text!r}; {accepted}", f"write {fixes}"


SCHEDULE_FORMS = "an interval such as '30m', or 'daily HH:MM', 'weekly mon HH:MM', 'monthly DAY HH:MM'"


def explain_schedule(text: object) -> tuple[str, str]:
    """Why ``text`` is neither an interval nor a clock schedule, and the fix to suggest."""
    words = text.split() if isinstance(text, str) else []
    if words and words[0][:1].isdigit():
        message, hint = explain_duration(text)
        return f"{message}; every: also takes 'daily HH:MM', 'weekly mon HH:MM' or 'monthly DAY HH:MM'", hint
    head = words[0].lower() if words else ""
    fix = {
        "daily": "daily 17:00",
        "weekly": "weekly mon 09:00",
        "monthly": "monthly 1 09:00",
        "hourly": "1h",
        "quarterly": "monthly 1 09:00",
        "yearly": "monthly 1 09:00",
        "annually": "monthly 1 09:00",
    }.get(head)
    message = f"{text!r} is not a schedule; every: takes {SCHEDULE_FORMS} (units: {ACCEPTED_UNITS})"
    if head in ("quarterly", "yearly", "annually"):
        return message, f"there is no {head} schedule; the longest is monthly, e.g. '{fix}'"
    return message, f"write '{fix}'" if fix else "for example every: daily 17:00"


def parse_duration(text: object) -> Duration:
    if not isinstance(text, str):
        raise ValueError(explain_duration(text)[0])
    match = _DURATION.match(text.strip())
    unit = _UNIT_OF.get(match.group(2)) if match else None
    if not match or unit is None or int(match.group(1)) <= 0:
        message, hint = explain_duration(text)
        raise ValueError(f"{message}; {hint}")
    return Duration(int(match.group(1)), unit)


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
