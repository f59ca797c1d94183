"""The management report's data: counts, on-time rates, escalations, handling time, complaint rate.

``build_report`` reads cases, histories and pinned specs through the engine and returns a plain
:class:`Report` (``formats.py`` renders it). Only ids, titles and ``category``/``severity`` values
leave this module; other record data is never copied, and a field marked ``pii`` reads ``-``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..calendar import format_local
from ..language.spec import Process
from ..runtime.clocks import is_late
from ..stats import percentile  # nearest rank, shared with the simulation
from ..store.base import CaseQuery, CaseRecord, EventRecord
from .period import Period, due_note

TARGET_RATE = 0.05  # 004 service desk: monthly complaint rate below 5%
INVALID_MARKERS = ("not_valid", "invalid", "unreasonable")


@dataclass(frozen=True, slots=True)
class Count:
    process: str
    value: str  # process title, category, severity or state id (by_state: title holds the state's)
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
    invalid: int
    valid: int
    rate: float
    target: float
    verdict: str  # "PASS" (below target) | "MISS"


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


def is_invalid(case: CaseRecord, history: list[EventRecord], now: int) -> bool:
    """Not a valid complaint: data ``valid``/``*_valid`` is false, or it closed through a marked action/state."""
    if any(v is False for k, v in case.data.items() if k == "valid" or k.endswith("_valid")):
        return True
    if case.closed_at is None or case.closed_at > now:
        return False
    marked = [
        f"{e.payload.get('action', '')} {e.payload.get('to', '')}" for e in history if e.kind == "acted" and e.at <= now
    ]
    return any(m in text for text in marked for m in INVALID_MARKERS)


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
    for case in cases:
        for e in rd.history(case):
            if e.kind == "escalated" and period.contains(e.at):
                p = e.payload
                tally[(case.process_id, p["escalation"], p["step"], p["of"], p["role"], p["do"])] += 1
    return [EscalationRow(*key, count=n) for key, n in sorted(tally.items())]


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
            )
        )
    return rows


def build_report(engine: Any, period: Period, *, households: int | None = None, now: int) -> Report:
    """The report for cases opened in ``period`` (and deadline events inside it), as of ``now``."""
    if households is not None and households <= 0:
        raise ValueError(f"households must be a positive number, got {households}")
    rd, tz = _Reader(engine, now), period.timezone
    everything = engine.cases(CaseQuery(limit=10**9))
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
        due_note(period),
        len(opened),
    )
    per: dict[str, Counter[tuple[str, str]]] = {k: Counter() for k in ("process", "category", "severity", "state")}
    titles: dict[tuple[str, str], str] = {}
    for case in opened:
        spec = rd.spec(case)
        state = spec.states.get(case.state)
        per["process"][(case.process_id, spec.title.zh)] += 1
        per["category"][(case.process_id, _field(spec, case, "category"))] += 1
        per["severity"][(case.process_id, _field(spec, case, "severity"))] += 1
        per["state"][(case.process_id, case.state)] += 1
        titles[(case.process_id, case.state)] = state.title.zh if state else ""
    report.by_process, report.by_category = _counts(per["process"]), _counts(per["category"])
    report.by_severity, report.by_state = _counts(per["severity"]), _counts(per["state"], titles)
    report.deadlines = _deadlines(rd, active, period)
    report.escalations = _escalations(rd, active, period)
    report.handling = _handling(opened, now)
    if households is None:
        report.complaint_rate_note = "complaint rate omitted: the number of occupied households was not given"
    else:
        invalid = sum(is_invalid(c, rd.history(c), now) for c in opened)
        rate = (len(opened) - invalid) / households
        report.complaint_rate = ComplaintRate(
            households,
            len(opened),
            invalid,
            len(opened) - invalid,
            round(rate, 6),
            TARGET_RATE,
            "PASS" if rate < TARGET_RATE else "MISS",
        )
    report.review = _review(rd, everything, now)
    return report
