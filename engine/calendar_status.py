"""What each calendar of a process knows: its sources, the years they cover, and how long that lasts.

``describe`` gives the facts ``complaintflow calendars`` prints; ``horizon_warnings`` is the
``calendar-data-ending`` check that ``validate --now T`` runs: a ``statutory: china`` calendar whose
published data ends less than a horizon after ``T`` is warned about, so the owner adds next year's
schedule before deadlines fall into an estimated year. ``T`` is always given, never read here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

from .calendar import CHINESECALENDAR, ESTIMATE, BusinessCalendar, CalendarError, local_date
from .calendar_data import current as current_data
from .language.diagnostics import Diagnostic, Severity
from .language.loader import Document
from .language.spec import Calendar, Process, UnpublishedYear

DEFAULT_HORIZON_DAYS = 45
_UNKNOWN_YEARS = {
    UnpublishedYear.ESTIMATE: "estimated from the law (provisional)",
    UnpublishedYear.WEEKLY: "the weekly pattern (provisional)",
    UnpublishedYear.REFUSE: "refused (an error)",
}


def _runs(official: dict[int, Any]) -> list[dict[str, Any]]:
    """Consecutive years from one source, as ``{"from", "to", "source"}``."""
    runs: list[dict[str, Any]] = []
    for year in sorted(official):
        source = official[year].source
        if runs and runs[-1]["to"] == year - 1 and runs[-1]["source"] == source:
            runs[-1]["to"] = year
        else:
            runs.append({"from": year, "to": year, "source": source})
    return runs


def describe(process: Process, file: str = "") -> list[dict[str, Any]]:
    """One plain mapping per calendar of ``process``; raises CalendarError for a bad data file."""
    data = current_data()
    out = []
    for cal in process.calendars.values():
        compiled = BusinessCalendar.compile(cal, process.timezone)
        china = cal.statutory == "china"
        out.append(
            {
                "process": process.id,
                "file": file,
                "calendar": cal.id,
                "statutory": cal.statutory,
                "sources": [CHINESECALENDAR, ESTIMATE] if china else [],
                "data_file": data.path if china and data is not None else None,
                "years": _runs(compiled.official),
                "holidays": sorted(cal.holidays),
                "workdays": sorted(cal.workdays),
                "unpublished_year": cal.unpublished_year.value if china else None,
            }
        )
    return out


def _years_text(runs: list[dict[str, Any]]) -> str:
    parts = [f"{r['from']}-{r['to']}" if r["to"] > r["from"] else str(r["from"]) for r in runs]
    return ", ".join(f"{span} ({r['source']})" for span, r in zip(parts, runs, strict=True)) or "none"


def format_text(items: list[dict[str, Any]]) -> str:
    lines = []
    for item in items:
        where = f"{item['file']}  " if item["file"] else ""
        lines.append(f"{where}{item['process']} / {item['calendar']}  (statutory: {item['statutory']})")
        if item["statutory"] == "china":
            lines.append(f"  sources: {'; '.join(item['sources'])}")
            if item["data_file"]:
                lines.append(f"  data file: {item['data_file']}")
            lines.append(f"  published years: {_years_text(item['years'])}")
            policy = UnpublishedYear(item["unpublished_year"])
            lines.append(f"  unknown years: {policy.value}: {_UNKNOWN_YEARS[policy]}")
        lines.append(f"  company holidays: {', '.join(item['holidays']) or 'none'}")
        lines.append(f"  company workdays: {', '.join(item['workdays']) or 'none'}")
    return "\n".join(lines)


def _local_day(now: int, process: Process) -> date:
    try:
        return local_date(now, process.timezone)
    except ValueError:  # an unknown timezone is reported by the schema and the runtime
        return datetime.fromtimestamp(now, timezone.utc).date()


def horizon_warnings(doc: Document, process: Process, now: int, days: int) -> Iterator[Diagnostic]:
    """``calendar-data-ending``: published data of a china calendar ends less than ``days`` after ``now``."""
    today = _local_day(now, process)
    for cal in process.calendars.values():
        if cal.statutory != "china":
            continue
        try:
            ends = BusinessCalendar.compile(cal, process.timezone).published_until(today)
        except CalendarError:
            continue  # a bad timezone or data file is reported by the commands that use it
        if ends is not None and ends - today >= timedelta(days=days):
            continue
        yield _warning(doc, cal, today, ends, days)


def _warning(doc: Document, cal: Calendar, today: date, ends: date | None, days: int) -> Diagnostic:
    policy = _UNKNOWN_YEARS[cal.unpublished_year]
    if ends is None:
        message = f"calendar {cal.id!r} has no published holiday schedule for {today.year}"
    else:
        message = (
            f"published holiday data of calendar {cal.id!r} ends {ends}, "
            f"{(ends - today).days} days after {today} (horizon {days} days)"
        )
    hint = f"add the next year's schedule under schedules: or in the calendar data file; until then it is {policy}"
    return doc.problem(
        ("calendars", cal.id), "calendar-data-ending", message, hint=hint, severity=Severity.WARNING, key=True
    )
