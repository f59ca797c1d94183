"""Deadline clocks of one case, and the timer rows they imply.

A clock is plain JSON in the case row: when it started, when it falls due,
whether it warned or breached, how far its escalation went and whether it is
paused. The timers a case waits on are a pure function of its clocks
(``desired_timers``), so they are never stored: a tick reads the clocks of the
cases whose ``earliest_due`` has come, and can never fire a stale timer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..calendar import BusinessCalendar, DueTime, local_date
from ..language.spec import Deadline, Duration
from .machine import CompiledProcess

Clock = dict[str, Any]
TimerKind = Literal["warn", "breach", "step"]


@dataclass(frozen=True, slots=True)
class TimerRecord:
    """One moment a case waits for: a warning, a breach, or the next escalation step of one deadline."""

    case_id: str
    deadline: str
    kind: TimerKind
    step: int  # escalation step (0 before any), or for a breach the misses counted so far
    due_at: int


_WALL_UNITS = {"m": 60, "h": 3600, "d": 86400}


def due_after(deadline: Deadline, start: int, cal: BusinessCalendar) -> DueTime:
    due = deadline.due
    if due.within is not None:
        return cal.add(start, due.within)
    if due.end_of_day:
        return cal.end_of_day(start)
    if due.by is not None:
        return cal.by_time(start, due.by)
    assert due.every is not None
    return cal.next_occurrence(start, due.every)


def pause_unit(deadline: Deadline) -> str:
    """Clocks in wall-clock units pause by wall time; the rest by working time."""
    within = deadline.due.within or (deadline.due.every.interval if deadline.due.every else None)
    return within.unit if within is not None and within.unit in _WALL_UNITS else "wh"


_ROUGH_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "wh": 3600, "wd": 86400}


def rough_seconds(d: Duration) -> int:
    """Length used for warnings: working units are counted as wall time (a warning is advisory)."""
    return d.amount * _ROUGH_UNIT_SECONDS[d.unit]


def start_clock(cp: CompiledProcess, deadline: Deadline, at: int) -> Clock:
    cal = cp.calendar_for(deadline)
    due = due_after(deadline, at, cal)
    warn = due.at - rough_seconds(deadline.warn_before) if deadline.warn_before else None
    return {
        "started": at,
        "due": due.at,
        "provisional": due.provisional,
        "warn": warn if warn is not None and warn > at else None,
        "warned": False,
        "breached": False,
        "misses": 0,
        "step": 0,
        "step_due": None,
        "paused_at": None,
    }


def recomputed(cp: CompiledProcess, deadline: Deadline, clock: Clock) -> tuple[Clock, list[int]] | None:
    """A provisional clock counted again on today's calendar data, and the years that became known.

    Only a clock that is running unpaused, not breached, not escalated and not repeating is
    recomputed, and only if its due time is exactly what the calendar without the data file gives
    from its start: a clock paused and resumed since carries a shift this cannot redo, so it is left
    as it is (still flagged provisional).
    """
    if not clock["provisional"] or clock["breached"] or clock["misses"] or clock["step"]:
        return None
    if clock["paused_at"] is not None or deadline.due.every is not None:
        return None
    cal = cp.calendar_for(deadline)
    before = cal.without_data_file()
    if before is cal or due_after(deadline, clock["started"], before).at != clock["due"]:
        return None
    after = due_after(deadline, clock["started"], cal)
    first, last = (local_date(t, cal.timezone).year for t in (clock["started"], max(after.at, clock["due"])))
    known = [y for y in range(first, last + 1) if y in cal.official and y not in before.official]
    if not known or (after.at, after.provisional) == (clock["due"], clock["provisional"]):
        return None
    warn = clock["warn"]
    if deadline.warn_before and not clock["warned"]:
        warn = after.at - rough_seconds(deadline.warn_before)
        warn = warn if warn > clock["started"] else None
    return {**clock, "due": after.at, "provisional": after.provisional, "warn": warn}, known


def step_due(cp: CompiledProcess, deadline: Deadline, step: int, at: int) -> int | None:
    """When escalation step ``step`` (1-based) runs out and the next one starts, or None at the end."""
    chain = cp.spec.escalations.get(deadline.escalation or "")
    if chain is None or step >= len(chain.steps) or chain.steps[step - 1].within is None:
        return None
    within = chain.steps[step - 1].within
    assert within is not None
    return cp.calendar_for(deadline).add(at, within).at


def pause(clock: Clock, at: int) -> Clock:
    return clock if clock["paused_at"] is not None else {**clock, "paused_at": at}


def resume(cp: CompiledProcess, deadline: Deadline, clock: Clock, at: int) -> Clock:
    """Push every pending instant of a paused clock out by the time it was paused."""
    paused_at = clock["paused_at"]
    if paused_at is None:
        return clock
    cal, unit = cp.calendar_for(deadline), pause_unit(deadline)

    def shift(instant: int | None) -> int | None:
        return None if instant is None else cal.shift_for_pause(instant, unit, paused_at, at).at

    return {
        **clock,
        "paused_at": None,
        "due": shift(clock["due"]),
        "warn": shift(clock["warn"]),
        "step_due": shift(clock["step_due"]),
    }


def _wanted(clock: Clock) -> list[tuple[TimerKind, int, int]]:
    """(kind, step, due) of each timer row one clock calls for."""
    if clock["paused_at"] is not None:
        return []
    wanted: list[tuple[TimerKind, int, int]] = []
    if clock["warn"] is not None and not clock["warned"] and not clock["breached"]:
        wanted.append(("warn", 0, clock["warn"]))
    if not clock["breached"]:
        wanted.append(("breach", clock["misses"], clock["due"]))
    if clock["step_due"] is not None:
        wanted.append(("step", clock["step"], clock["step_due"]))
    return wanted


def desired_timers(case_id: str, clocks: dict[str, Clock]) -> list[TimerRecord]:
    """The timers a case's clocks call for, in the order of its clocks."""
    return [
        TimerRecord(case_id, name, kind, step, due)
        for name, clock in clocks.items()
        for kind, step, due in _wanted(clock)
    ]


def earliest_due(clocks: dict[str, Clock]) -> int | None:
    """When the first of a case's timers falls due, or None if it has none."""
    dues = [due for clock in clocks.values() for _, _, due in _wanted(clock)]
    return min(dues) if dues else None
