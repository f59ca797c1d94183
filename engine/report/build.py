"""The management report's data: counts, on-time rates, escalations, handling time, complaint rate.

``build_report`` reads cases, histories and pinned specs through the engine and returns a plain
:class:`Report` (``formats.py`` renders it). Only ids, titles and ``category``/``severity`` values
leave this module; other record data is never copied, and a field marked ``pii`` reads ``-``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..calendar import BusinessCalendar, CalendarError, format_local
from ..language.expr import Guard, parse_guard
from ..language.spec import Process
from ..runtime.clocks import is_late
from ..stats import percentile  # nearest rank, shared with the simulation
from ..store.base import CaseQuery, CaseRecord, EventRecord
from .period import Period, due_note

TARGET_RATE = 0.05  # 004 service desk: monthly complaint rate below 5%
VALID = "valid_complaint"
UNCLASSIFIED = "unclassified"  # no counts_as line matched
NOT_DECLARED = "not_declared"  # the process declares no counts_as
KIND_TITLES = {
    "valid_complaint": "有效投诉",
    "invalid_complaint": "无效投诉",
    "enquiry": "咨询",
    "help_request": "求助",
    "venting": "发泄",
    "repair": "报修",
    "other": "其他",
    UNCLASSIFIED: "未分类",
    NOT_DECLARED: "流程未声明统计口径",
}


@dataclass(frozen=True, slots=True)
class Count:
    process: str
    value: str  # process id, category, severity, state id or kind (title: the process, state or kind title)
    cases: int
    title: str = ""


@dataclass(frozen=True, slots=True)
class DeadlineRow:
    process: str
    deadline: str
    title: str
    on_time: int  # deadline_met with on_time
    late: int  # deadline_met without on_time
    breached: int  # deadline_breached events
    unmet: int  # of those breaches, how many no deadline_met followed (by now)
    rate: float | None  # on_time / (on_time + late + unmet)


@dataclass(frozen=True, slots=True)
class EscalationRow:
    process: str
    chain: str
    step: int
    of: int
    role: str
    do: str
    count: int
    role_title: str = ""
    chain_title: str = ""


@dataclass(frozen=True, slots=True)
class HandlingRow:
    process: str
    closed: int
    still_open: int
    mean_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True, slots=True)
class ComplaintRate:
    households: int
    cases: int
    invalid: int  # cases that count as anything but a valid complaint (unclassified and undeclared too)
    valid: int
    rate: float
    target: float
    verdict: str  # "PASS" (below target) | "MISS"
    not_declared: int = 0  # of ``invalid``: cases of processes that declare no counts_as


@dataclass(frozen=True, slots=True)
class ReviewRow:
    case_id: str
    process: str
    state: str
    state_title: str
    holder: str
    opened: str  # local time
    age_hours: float
    breached: tuple[str, ...]  # deadline ids breached so far
    holder_title: str = ""


@dataclass
class Report:
    """Everything one report shows; times are local strings in ``timezone``."""

    period: str
    timezone: str
    start: str
    end: str  # local midnight after the last day
    now: str
    due: str
    cases: int
    by_process: list[Count] = field(default_factory=list)
    by_category: list[Count] = field(default_factory=list)
    by_severity: list[Count] = field(default_factory=list)
    by_state: list[Count] = field(default_factory=list)
    deadlines: list[DeadlineRow] = field(default_factory=list)
    escalations: list[EscalationRow] = field(default_factory=list)
    handling: list[HandlingRow] = field(default_factory=list)
    complaint_rate: ComplaintRate | None = None
    complaint_rate_note: str = ""
    review: list[ReviewRow] = field(default_factory=list)
    by_kind: list[Count] = field(default_factory=list)  # what the period's cases count as (counts_as)
    counting_rules: list[str] = field(default_factory=list)  # each process's counts_as, as the report read it


def counts_as(spec: Process, case: CaseRecord, guards: dict[str, Guard] | None = None) -> str:
    """What the case counts as under its process's ``counts_as``: the first line whose states hold the
    case and whose ``when`` holds for its data; ``unclassified`` when none, ``not_declared`` without any."""
    if not spec.counts_as:
        return NOT_DECLARED
    guards = {} if guards is None else guards
    for rule in spec.counts_as:
        if rule.states and case.state not in rule.states:
            continue
        if rule.when is not None:
            guard = guards.get(rule.when) or guards.setdefault(rule.when, parse_guard(rule.when))
            if not guard(case.data):
                continue
        return rule.kind
    return UNCLASSIFIED


def rule_text(spec: Process) -> str:
    """A process's counts_as in one line, for the report."""
    if not spec.counts_as:
        return f"{spec.id}: declares no counts_as (its cases are not counted as valid complaints)"
    lines = []
    for r in spec.counts_as:
        conditions = [f"when {r.when}" if r.when else "", f"in {'/'.join(r.states)}" if r.states else ""]
        lines.append(" ".join([r.kind, *[c for c in conditions if c]]) if any(conditions) else f"{r.kind} otherwise")
    return f"{spec.id}: " + "; ".join(lines)


def _field(spec: Process, case: CaseRecord, name: str) -> str:
    f = spec.fields.get(name)
    return "-" if f is None or f.pii or case.data.get(name) is None else str(case.data[name])


def _counts(counter: Counter[tuple[str, str]], titles: dict[tuple[str, str], str] | None = None) -> list[Count]:
    return [Count(p, v, n, (titles or {}).get((p, v), "")) for (p, v), n in sorted(counter.items())]


class _Reader:
    """Specs and histories (events up to ``now``), each read once."""

    def __init__(self, engine: Any, now: int) -> None:
        self.engine, self.now = engine, now
        self._specs: dict[str, Process] = {}
        self._histories: dict[str, list[EventRecord]] = {}

    def spec(self, case: CaseRecord) -> Process:
        if case.process_hash not in self._specs:
            self._specs[case.process_hash] = self.engine.compiled(case.process_hash).spec
        return self._specs[case.process_hash]

    def history(self, case: CaseRecord) -> list[EventRecord]:
        if case.id not in self._histories:
            self._histories[case.id] = [e for e in self.engine.history(case.id) if e.at <= self.now]
        return self._histories[case.id]


def _deadlines(rd: _Reader, cases: list[CaseRecord], period: Period) -> list[DeadlineRow]:
    tally: dict[tuple[str, str], Counter[str]] = {}
    titles: dict[tuple[str, str], str] = {}
    for case in cases:
        spec, history = rd.spec(case), rd.history(case)
        for i, e in enumerate(history):
            if e.kind not in ("deadline_met", "deadline_breached") or not period.contains(e.at):
                continue
            key = (case.process_id, e.payload["deadline"])
            titles[key] = spec.deadlines[key[1]].title.zh if key[1] in spec.deadlines else key[1]
            c = tally.setdefault(key, Counter())
            if e.kind == "deadline_met":
                c["on_time" if e.payload.get("on_time") else "late"] += 1
            else:
                c["breached"] += 1
                met_later = any(
                    x.kind == "deadline_met" and x.payload.get("deadline") == key[1] for x in history[i + 1 :]
                )
                c["unmet"] += 0 if met_later else 1
    judged = {k: c["on_time"] + c["late"] + c["unmet"] for k, c in tally.items()}
    return [
        DeadlineRow(
            k[0],
            k[1],
            titles[k],
            c["on_time"],
            c["late"],
            c["breached"],
            c["unmet"],
            round(c["on_time"] / judged[k], 4) if judged[k] else None,
        )
        for k, c in sorted(tally.items())
    ]


def _escalations(rd: _Reader, cases: list[CaseRecord], period: Period) -> list[EscalationRow]:
    tally: Counter[tuple[str, str, int, int, str, str]] = Counter()
    titles: dict[tuple[str, str, str], tuple[str, str]] = {}
    for case in cases:
        for e in rd.history(case):
            if e.kind == "escalated" and period.contains(e.at):
                p = e.payload
                tally[(case.process_id, p["escalation"], p["step"], p["of"], p["role"], p["do"])] += 1
                spec = rd.spec(case)
                role, chain = spec.roles.get(p["role"]), spec.escalations.get(p["escalation"])
                titles[(case.process_id, p["escalation"], p["role"])] = (
                    role.title.zh if role else p["role"],
                    chain.title.zh if chain else p["escalation"],
                )
    return [
        EscalationRow(
            *key,
            count=n,
            role_title=titles[(key[0], key[1], key[4])][0],
            chain_title=titles[(key[0], key[1], key[4])][1],
        )
        for key, n in sorted(tally.items())
    ]


def _handling(opened: list[CaseRecord], now: int) -> list[HandlingRow]:
    """Opened -> closed hours of the period's cases closed by ``now``, per process and overall."""
    groups = {p: [c for c in opened if c.process_id == p] for p in sorted({c.process_id for c in opened})}
    rows = []
    for name, group in [*groups.items(), ("(all)", opened)]:
        hours = [(c.closed_at - c.opened_at) / 3600 for c in group if c.closed_at is not None and c.closed_at <= now]
        p90 = percentile(hours, 90)  # None when none closed
        rows.append(
            HandlingRow(
                name,
                len(hours),
                len(group) - len(hours),
                round(sum(hours) / len(hours), 2) if hours else None,
                None if p90 is None else round(p90, 2),
            )
        )
    return rows


def _review(rd: _Reader, cases: list[CaseRecord], now: int) -> list[ReviewRow]:
    rows = []
    open_cases = [c for c in cases if c.opened_at <= now and (c.closed_at is None or c.closed_at > now)]
    for case in sorted(open_cases, key=lambda c: (c.opened_at, c.id)):
        spec = rd.spec(case)
        breached = {e.payload["deadline"] for e in rd.history(case) if e.kind == "deadline_breached"}
        breached |= {d for d, k in case.clocks.items() if is_late(k, now)}
        state = spec.states.get(case.state)
        rows.append(
            ReviewRow(
                case.id,
                case.process_id,
                case.state,
                state.title.zh if state else case.state,
                case.owner_role or "-",
                format_local(case.opened_at, spec.timezone),
                round((now - case.opened_at) / 3600, 1),
                tuple(sorted(breached)),
                spec.roles[case.owner_role].title.zh if case.owner_role in spec.roles else "-",
            )
        )
    return rows


def _working_days(rd: _Reader, cases: list[CaseRecord]) -> Callable[[date], bool] | None:
    """The working days the report's due date rolls on: the default calendar of the first process (by
    id) in the store that keeps China's statutory holidays; None when none does (no rolling)."""
    one_per_process = {c.process_id: c for c in cases}
    for _process, case in sorted(one_per_process.items()):
        spec = rd.spec(case)
        cal = spec.calendars.get(spec.calendar or "")
        if cal is not None and cal.statutory == "china":
            try:
                return BusinessCalendar.compile(cal, spec.timezone).is_working_day
            except CalendarError:
                continue
    return None


def build_report(engine: Any, period: Period, *, households: int | None = None, now: int) -> Report:
    """The report for cases opened in ``period`` (and deadline events inside it), as of ``now``."""
    if households is not None and households <= 0:
        raise ValueError(f"households must be a positive number, got {households}")
    rd, tz = _Reader(engine, now), period.timezone
    everything = engine.cases(CaseQuery(limit=10**9))
    working_day = _working_days(rd, everything)
    opened = sorted(
        (c for c in everything if period.contains(c.opened_at) and c.opened_at <= now),
        key=lambda c: (c.opened_at, c.id),
    )
    active = [c for c in everything if c.opened_at < period.end and c.last_at >= period.start]
    report = Report(
        period.label,
        tz,
        format_local(period.start, tz),
        format_local(period.end, tz),
        format_local(now, tz),
        due_note(period, working_day),
        len(opened),
    )
    per: dict[str, Counter[tuple[str, str]]] = {k: Counter() for k in ("process", "category", "severity", "state")}
    titles: dict[tuple[str, str], str] = {}  # (process, state) -> the state's title
    process_titles: dict[tuple[str, str], str] = {}
    for case in opened:
        spec = rd.spec(case)
        state = spec.states.get(case.state)
        per["process"][(case.process_id, case.process_id)] += 1
        process_titles[(case.process_id, case.process_id)] = spec.title.zh
        per["category"][(case.process_id, _field(spec, case, "category"))] += 1
        per["severity"][(case.process_id, _field(spec, case, "severity"))] += 1
        per["state"][(case.process_id, case.state)] += 1
        titles[(case.process_id, case.state)] = state.title.zh if state else ""
    report.by_process, report.by_category = _counts(per["process"], process_titles), _counts(per["category"])
    report.by_severity, report.by_state = _counts(per["severity"]), _counts(per["state"], titles)
    report.deadlines = _deadlines(rd, active, period)
    report.escalations = _escalations(rd, active, period)
    report.handling = _handling(opened, now)
    guards: dict[str, Guard] = {}
    kinds: Counter[tuple[str, str]] = Counter()
    kind_titles: dict[tuple[str, str], str] = {}
    for case in opened:
        spec = rd.spec(case)
        kind = counts_as(spec, case, guards)
        kinds[(case.process_id, kind)] += 1
        declared = next((r.title for r in spec.counts_as if r.kind == kind and r.title), None)
        kind_titles[(case.process_id, kind)] = declared.zh if declared else KIND_TITLES.get(kind, kind)
    report.by_kind = _counts(kinds, kind_titles)
    report.counting_rules = sorted({rule_text(rd.spec(c)) for c in opened})
    if households is None:
        report.complaint_rate_note = "complaint rate omitted: the number of occupied households was not given"
    else:
        valid = sum(n for (_p, kind), n in kinds.items() if kind == VALID)
        rate = valid / households
        report.complaint_rate = ComplaintRate(
            households,
            len(opened),
            len(opened) - valid,
            valid,
            round(rate, 6),
            TARGET_RATE,
            "PASS" if rate < TARGET_RATE else "MISS",
            sum(n for (_p, kind), n in kinds.items() if kind == NOT_DECLARED),
        )
    report.review = _review(rd, everything, now)
    return report
