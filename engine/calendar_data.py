"""The calendar data file: official schedules published after a release, shipped apart from the package.

The file named by ``COMPLAINTFLOW_CALENDAR_DATA`` holds ``schedules:``, a list of years, each with its
``holidays`` (every day off) and ``workdays`` (调休 make-up workdays), exactly as a process calendar's
``schedules:`` key. Its years beat chinesecalendar's and the estimate on every ``statutory: china``
calendar; a process's own schedules beat the file. Problems are positioned like a process file's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .language.build import build_schedules
from .language.diagnostics import Diagnostic, Severity, format_text
from .language.loader import Document, load_bytes
from .language.spec import YearSchedule

ENV_VAR = "COMPLAINTFLOW_CALENDAR_DATA"
_KEYS = {"year", "holidays", "workdays", "source"}


@dataclass(frozen=True)
class CalendarData:
    path: str
    schedules: tuple[YearSchedule, ...] = ()
    problems: list[Diagnostic] = field(default_factory=list, hash=False, compare=False)

    @property
    def errors(self) -> list[Diagnostic]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    def error_text(self) -> str:
        return format_text(self.errors)


def _shape(doc: Document) -> list[Diagnostic]:
    """Hand-checked shape: a mapping with a list of year mappings (the file is tiny and has one key)."""
    data, bad = doc.data, []
    if not isinstance(data, dict) or set(data) != {"schedules"} or not isinstance(data["schedules"], list):
        return [doc.problem((), "calendar-data", "a calendar data file is a mapping with one key, 'schedules:'")]
    for i, item in enumerate(data["schedules"]):
        at = ("schedules", i)
        if not isinstance(item, dict) or not isinstance(item.get("year"), int) or isinstance(item.get("year"), bool):
            bad.append(doc.problem(at, "calendar-data", "each schedule is a mapping with an integer 'year:'"))
            continue
        for key in sorted(set(item) - _KEYS):
            bad.append(doc.problem(at + (key,), "calendar-data", f"unknown key {key!r}", key=True))
        for key in ("holidays", "workdays"):
            value = item.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                bad.append(doc.problem(at + (key,), "calendar-data", f"'{key}' is a list of quoted dates"))
    return bad


def load(path: str) -> CalendarData:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        problem = Diagnostic(path, 0, 0, Severity.ERROR, f"cannot read calendar data: {exc.strerror or exc}", "io")
        return CalendarData(path, (), [problem])
    doc = load_bytes(raw, path)
    if doc.data is None or doc.diagnostics:
        return CalendarData(path, (), list(doc.diagnostics))
    shape = _shape(doc)
    if shape:
        return CalendarData(path, (), shape)
    schedules, problems = build_schedules(doc, doc.data["schedules"], ("schedules",))
    return CalendarData(path, schedules if not problems else (), problems)


_loaded: dict[tuple[str, int, int], CalendarData] = {}


def current(environ: Any = None) -> CalendarData | None:
    """The data file the environment names, loaded once per path, size and modification time."""
    path = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    if not path:
        return None
    try:
        st = os.stat(path)
        key = (path, st.st_mtime_ns, st.st_size)
    except OSError:
        return load(path)  # reports the unreadable file
    found = _loaded.get(key)
    if found is None:
        found = _loaded[key] = load(path)
    return found
