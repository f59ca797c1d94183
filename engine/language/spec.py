"""The frozen process specification: what a checked YAML process becomes.

Everything here is plain, immutable data built once per process version by
``build.py`` and shared by every case that runs on it. Nothing at run time
mutates a spec; running state lives only in the store's case rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

# m/h wall-clock minutes and hours, d calendar days, wd working days, wh working hours
DurationUnit = Literal["m", "h", "d", "wd", "wh"]
RepeatKind = Literal["interval", "daily", "weekly", "monthly"]


class FieldType(str, Enum):
    STRING = "string"
    NUMBER = "number"
    ENUM = "enum"
    BOOL = "bool"
    DATETIME = "datetime"
    CHECKLIST = "checklist"  # the value is the list of its items that were ticked


class EscalationKind(str, Enum):
    NOTIFY = "notify"
    REASSIGN = "reassign"


class UnpublishedYear(str, Enum):
    """What a calendar does for a year with no published statutory schedule."""

    REFUSE = "refuse"  # computing such a deadline is an error
    WEEKLY = "weekly"  # follow the weekly pattern and flag the deadline provisional
    ESTIMATE = "estimate"  # the statutory days the law fixes, no 调休 swaps; flagged provisional


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """An official statutory schedule of one year, given by the process owner."""

    year: int
    holidays: frozenset[str]  # ISO dates off work (statutory days and the days swapped to them)
    workdays: frozenset[str]  # ISO dates of 调休 make-up workdays


@dataclass(frozen=True, slots=True)
class Title:
    zh: str
    en: str = ""

    def __str__(self) -> str:
        return self.zh if not self.en else f"{self.zh} ({self.en})"


@dataclass(frozen=True, slots=True)
class Source:
    file: str
    section: str = ""


@dataclass(frozen=True, slots=True)
class Calendar:
    """A business calendar, already merged with the one it ``extends``."""

    id: str
    title: Title | None
    weekdays: frozenset[int]  # 0 = Monday ... 6 = Sunday
    hours: tuple[tuple[int, int], ...]  # working spans as (start, end) minutes after midnight
    statutory: str  # "china" or "none"
    holidays: frozenset[str]  # ISO dates the company is closed
    workdays: frozenset[str]  # ISO dates the company works although the pattern says not
    unpublished_year: UnpublishedYear
    extends: str | None = None
    schedules: tuple[YearSchedule, ...] = ()  # official years, sorted; they beat any other source


@dataclass(frozen=True, slots=True)
class Role:
    id: str
    title: Title


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One thing to tick on a checklist field: its id (what the value holds) and its title."""

    id: str
    title: Title


@dataclass(frozen=True, slots=True)
class Field:
    id: str
    type: FieldType
    title: Title | None = None
    required: bool = False
    pii: bool = False
    values: tuple[str, ...] = ()  # the allowed values of an enum field
    max_length: int | None = None  # longest text value in characters (None: DEFAULT_MAX_LENGTH in runtime/values.py)
    visible_to: tuple[str, ...] | None = None  # roles that may see a pii value; None: every role of the process
    items: tuple[ChecklistItem, ...] = ()  # the items of a checklist field, in their order


@dataclass(frozen=True, slots=True)
class State:
    id: str
    title: Title
    initial: bool = False
    final: bool = False
    owner: str | None = None
    pause: bool = False  # SLA clocks stop while a case waits here
    checklist: tuple[Title, ...] = ()
    branches: tuple[str, ...] = ()  # non-empty: a parallel state running these branches
    branch: str | None = None  # the branch this state belongs to, if any


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    title: Title
    sources: tuple[str, ...]  # the states it may be taken from
    target: str
    roles: tuple[str, ...]
    guard: str | None = None
    inputs: tuple[str, ...] = ()
    set: tuple[tuple[str, Any], ...] = ()  # fields the action sets to fixed values, e.g. (("status", "resolved"),)


@dataclass(frozen=True, slots=True)
class Duration:
    """An amount of time in one explicit unit.

    ``m``/``h`` are wall-clock minutes and hours, ``d`` calendar days, ``wd``
    working days (to close of business of the n-th working day) and ``wh``
    working hours counted inside the calendar's working spans.
    """

    amount: int
    unit: DurationUnit

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True, slots=True)
class Repeat:
    """A repeating due time: every interval, or daily / weekly / monthly at a clock time."""

    kind: RepeatKind
    interval: Duration | None = None
    weekday: int | None = None  # weekly: 0 = Monday
    day: int | None = None  # monthly: day of month, rolled to the next working day
    at: int | None = None  # minutes after midnight
    text: str = ""

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class FieldTime:
    """A moment read from a date-time field of the case, moved by an offset: ``预约时间 - 5m``."""

    field: str
    offset: int  # seconds, negative before the field's time
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Due:
    """When a deadline falls, exactly one of: within a duration (or immediately), by a time of day,
    repeating, or at a moment read from a date-time field."""

    within: Duration | None = None
    by: int | None = None  # minutes after midnight on a working day
    end_of_day: bool = False  # by close of business of the same working day
    every: Repeat | None = None
    immediate: bool = False  # written `within: immediately`: due the moment the clock starts
    at: FieldTime | None = None

    def __str__(self) -> str:
        if self.immediate:
            return "immediately"
        if self.at is not None:
            return f"at {self.at}"
        if self.within is not None:
            return f"within {self.within}"
        if self.end_of_day:
            return "by end of day"
        if self.by is not None:
            return f"by {self.by // 60:02d}:{self.by % 60:02d}"
        return f"every {self.every}"


@dataclass(frozen=True, slots=True)
class Deadline:
    id: str
    title: Title
    start: tuple[str, ...]  # entering any of these states starts the clock
    stop: tuple[str, ...]  # entering any of these meets it; empty: leaving the start state
    due: Due
    calendar: str | None = None
    role: str | None = None
    warn_before: Duration | None = None
    escalation: str | None = None
    reset_by: tuple[str, ...] = ()  # repeating deadlines: actions that satisfy an occurrence
    warn_at: tuple[int, ...] = ()  # warnings at these percentages of the budget, ascending
    guard: str | None = None  # the clock starts only when this condition holds for the case
    reminder: bool = False  # falling due reminds its role; it is never a breach
    extend_by: tuple[str, ...] = ()  # roles that may extend the running clock, with a reason


@dataclass(frozen=True, slots=True)
class EscalationStep:
    role: str
    do: EscalationKind
    within: Duration | None = None  # time this step's role has before the next step starts
    set: tuple[tuple[str, Any], ...] = ()  # fields the step sets, e.g. (("severity", "major"),): recorded
    deliver: Literal["now", "business_hours"] = "now"  # business_hours: the message waits for the next opening


@dataclass(frozen=True, slots=True)
class Escalation:
    id: str
    title: Title
    steps: tuple[EscalationStep, ...]


# What a case can count as in the report (统计口径); only valid_complaint counts toward the complaint rate.
COUNT_KINDS = ("valid_complaint", "invalid_complaint", "enquiry", "help_request", "venting", "repair", "other")


@dataclass(frozen=True, slots=True)
class CountRule:
    """One line of ``counts_as``: a case whose data passes ``when`` (a guard) and whose state is one of
    ``states`` (when given) counts as ``kind``; the first matching line wins."""

    kind: str
    when: str | None = None
    states: tuple[str, ...] = ()
    title: Title | None = None


@dataclass(frozen=True, slots=True)
class Process:
    id: str
    version: int
    title: Title
    source: Source
    timezone: str
    calendar: str | None
    calendars: dict[str, Calendar] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    fields: dict[str, Field] = field(default_factory=dict)
    states: dict[str, State] = field(default_factory=dict)
    actions: dict[str, Action] = field(default_factory=dict)
    deadlines: dict[str, Deadline] = field(default_factory=dict)
    escalations: dict[str, Escalation] = field(default_factory=dict)
    content_hash: str = ""  # sha256 of the source bytes; cases pin to it
    counts_as: tuple[CountRule, ...] = ()  # declared in the process; empty: its cases are not classified

    @property
    def initial_state(self) -> str:
        return next(s.id for s in self.states.values() if s.initial and s.branch is None)

    def __hash__(self) -> int:  # dict fields make the default hash fail; the content hash is the identity
        return hash(self.content_hash)
