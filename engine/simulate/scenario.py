"""Scenario files: what the simulated world looks like (arrivals, handling times, choices, field values).

A scenario is read like a process file: strictly (``complaintflow.language.loader``),
checked against ``schemas/scenario.schema.json`` through the language's
generic schema runner, then checked for meaning (distributions, dates). Every
problem is a positioned diagnostic; together they raise ``ScenarioError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import ComplaintflowError
from ..language.check import load_checked_file
from ..language.diagnostics import Diagnostic, Severity, format_text, sort_unique
from ..language.loader import Document
from .dist import KINDS, Dist, parse_dist, seconds

SCHEMA = "scenario.schema.json"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weights = dict[str, float]
FieldValue = Dist | str | Weights  # a number distribution, fixed text, or weights by value

# The built-in default; scenarios/default.yaml holds the same values (a test keeps them equal).
DEFAULT: dict[str, Any] = {
    "scenario": "default",
    "title": {"zh": "通用默认场景", "en": "Generic default scenario"},
    "start": "2025-11-03 08:00",
    "arrivals": {
        "hourly": [0, 0, 0, 0, 0, 0, 0, 0.5, 1.5, 3, 4, 4, 3, 3, 3.5, 3.5, 3, 2.5, 2, 2, 1.5, 1, 0.5, 0],
        "weekdays": {"sat": 1.2, "sun": 1.2},
    },
    "handling": {"default": {"lognormal": {"median": "1h", "p90": "6h"}}, "clock": "business"},
    "loop_back": 0.15,
    "max_steps": 40,
}


class ScenarioError(ComplaintflowError):
    """A scenario that cannot be used; carries every positioned problem."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = tuple(sort_unique(diagnostics))
        super().__init__(format_text(self.diagnostics))


@dataclass(frozen=True, slots=True)
class Burst:
    at: str  # local "YYYY-MM-DD HH:MM"
    extra: int
    over: float  # seconds


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    start: str  # local "YYYY-MM-DD HH:MM", read in the process timezone
    hourly: tuple[float, ...]  # 24 expected arrivals per hour of day
    weekdays: tuple[float, ...]  # 7 multipliers, Monday first
    bursts: tuple[Burst, ...]
    handling_default: Dist
    handling_clock: str  # "business" | "wall"
    handling_states: dict[str, Dist]
    handling_actions: dict[str, Dist]
    loop_back: float
    choices: dict[str, float]
    fields: dict[str, FieldValue]
    max_steps: int
    file: str = field(default="<built-in default>", compare=False)
    doc: Document | None = field(default=None, compare=False, repr=False)

    def error(self, path: tuple[str | int, ...], message: str, hint: str = "") -> ScenarioError:
        """A ScenarioError pointing at ``path`` in the scenario file (for checks against a process)."""
        line, col = self.doc.at(path, key=True) if self.doc else (0, 0)
        return ScenarioError([Diagnostic(self.file, line, col, Severity.ERROR, message, "scenario", path, hint)])


def load_scenario(path: str | Path | None) -> Scenario:
    """Read and check a scenario file; ``None`` gives the built-in default."""
    if path is None:
        return _build(Document("<built-in default>", DEFAULT))
    doc = load_checked_file(path, SCHEMA, "scenario")
    if any(d.severity is Severity.ERROR for d in doc.diagnostics):
        raise ScenarioError(doc.diagnostics)
    return _build(doc)


def _build(doc: Document) -> Scenario:
    data: dict[str, Any] = doc.data
    problems: list[Diagnostic] = []

    def dist(path: tuple[str | int, ...], value: Any, time: bool = True) -> Dist:
        got = parse_dist(value, time)
        if isinstance(got, str):
            problems.append(doc.problem(path, "scenario", got))
            return Dist("fixed", 0.0)
        return got

    start = data.get("start", DEFAULT["start"])
    arrivals = data.get("arrivals", DEFAULT["arrivals"])
    bursts = []
    for _i, b in enumerate(arrivals.get("bursts", [])):
        over = seconds(b.get("over", "1h")) or 0.0
        bursts.append(Burst(b["at"], int(b["extra"]), over))
    for path, text in [(("start",), start)] + [(("arrivals", "bursts", i, "at"), b.at) for i, b in enumerate(bursts)]:
        if not _valid_local(text):
            problems.append(doc.problem(path, "scenario", f"{text!r} is not a real date and time"))
    hourly = tuple(float(x) for x in arrivals["hourly"])
    if not any(hourly) and not bursts:
        problems.append(
            doc.problem(
                ("arrivals", "hourly"),
                "scenario",
                "no complaint would ever arrive",
                hint="give at least one hour a rate above 0, or add bursts",
            )
        )
    factors = arrivals.get("weekdays", {})
    handling = data.get("handling", DEFAULT["handling"])
    scenario = Scenario(
        id=data.get("scenario", Path(doc.file).stem),
        title=_title(data.get("title")),
        start=start,
        hourly=hourly,
        weekdays=tuple(float(factors.get(d, 1.0)) for d in WEEKDAYS),
        bursts=tuple(bursts),
        handling_default=dist(("handling", "default"), handling.get("default", DEFAULT["handling"]["default"])),
        handling_clock=handling.get("clock", DEFAULT["handling"]["clock"]),
        handling_states={k: dist(("handling", "states", k), v) for k, v in handling.get("states", {}).items()},
        handling_actions={k: dist(("handling", "actions", k), v) for k, v in handling.get("actions", {}).items()},
        loop_back=float(data.get("loop_back", DEFAULT["loop_back"])),
        choices={k: float(v) for k, v in data.get("choices", {}).items()},
        fields={k: _field_value(v, ("fields", k), dist) for k, v in data.get("fields", {}).items()},
        max_steps=int(data.get("max_steps", DEFAULT["max_steps"])),
        file=doc.file,
        doc=doc,
    )
    if problems:
        raise ScenarioError(problems)
    return scenario


def _field_value(value: Any, path: tuple[str, ...], dist: Any) -> FieldValue:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and not (len(value) == 1 and next(iter(value)) in KINDS):
        return {str(k): float(v) for k, v in value.items()}
    return dist(path, value, False)  # type: ignore[no-any-return]


def _title(value: Mapping[str, str] | None) -> str:
    if not value:
        return ""
    return value["zh"] + (f" ({value['en']})" if value.get("en") else "")


def _valid_local(text: str) -> bool:
    try:
        datetime.strptime(text.replace("T", " "), "%Y-%m-%d %H:%M")
    except ValueError:
        return False
    return True
