"""Deadline clocks of one case, and the timer rows they imply.

A clock is plain JSON in the case row: a budget counted from when it started
(in its unit: wall-clock or working time), the due time that budget gives, a
ledger of the pauses that pushed it out (``pauses``: ``[from, to]`` pairs, and
``paused_at`` while one runs), the warnings still to come, whether it breached
and how far its escalation went. Keys added after the first release are read
with defaults, so rows of older stores load as they are. The timers a case waits on are a pure function of its clocks
(``desired_timers``), so they are never stored: a tick reads the clocks of the
cases whose ``earliest_due`` has come, and can never fire a stale timer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..calendar import BusinessCalendar, CalendarError, DueTime, local_date, parse_local
from ..language.spec import Deadline, Duration, Repeat
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


def due_after(deadline: Deadline, start: int, cal: BusinessCalendar, data: Mapping[str, Any] | None = None) -> DueTime:
    due = deadline.due
    if due.immediate:
        return DueTime(start, False)
    if due.at is not None:  # start_clock arms such a clock only when the field has a value
        return DueTime(parse_local(str((data or {})[due.at.field]), cal.timezone) + due.at.offset, False)
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
    if deadline.due.immediate or deadline.due.at is not None:
        return "m"
    within = deadline.due.within or (deadline.due.every.interval if deadline.due.every else None)
    return within.unit if within is not None and within.unit in _WALL_UNITS else "wh"


_ROUGH_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "wh": 3600, "wd": 86400}


def rough_seconds(d: Duration) -> int:
    """Length used for warnings: working units are counted as wall time (a warning is advisory)."""
    return d.amount * _ROUGH_UNIT_SECONDS[d.unit]


def counted(cal: BusinessCalendar, unit: str, a: int, b: int) -> int:
    """Seconds of the clock's own time from ``a`` to ``b``: wall time, or working time on ``cal``."""
    if b <= a:
        return 0
    return b - a if unit in _WALL_UNITS else cal.working_seconds_between(a, b)


def warn_times(cp: CompiledProcess, deadline: Deadline, start: int, due: int) -> list[int]:
    """Every warning instant of one clock, ascending: each share of the budget and the fixed lead.

    A share is of the time the clock counts (working time for working units), so ``75%`` of a ``4wh``
    clock started Friday 17:00 falls Monday 11:00. Instants at or before the start, or at the due, are dropped.
    """
    instants = set()
    if deadline.warn_before:
        instants.add(due - rough_seconds(deadline.warn_before))
    if deadline.warn_at:
        cal, unit = cp.calendar_for(deadline), pause_unit(deadline)
        budget = counted(cal, unit, start, due)
        for share in deadline.warn_at:
            used = budget * share // 100
            instants.add(start + used if unit in _WALL_UNITS else cal.add_working_seconds(start, used).at)
    return sorted(t for t in instants if start < t < due)


def _with_warnings(clock: Clock, instants: list[int]) -> Clock:
    """``warn`` is the next warning; ``warn_later`` the ones after it (kept only when there are any)."""
    out = {**clock, "warn": instants[0] if instants else None}
    out.pop("warn_later", None)
    if len(instants) > 1:
        out["warn_later"] = instants[1:]
    return out


def start_clock(cp: CompiledProcess, deadline: Deadline, at: int, data: Mapping[str, Any] | None = None) -> Clock:
    cal = cp.calendar_for(deadline)
    due = due_after(deadline, at, cal, data)
    clock: Clock = {
        "started": at,
        "due": due.at,
        "provisional": due.provisional,
        "warn": None,
        "warned": False,
        "breached": False,
        "misses": 0,
        "step": 0,
        "step_due": None,
        "paused_at": None,
    }
    if deadline.reminder:
        clock["reminder"] = True
    return _with_warnings(clock, warn_times(cp, deadline, at, due.at))


def extended(
    cp: CompiledProcess, deadline: Deadline, clock: Clock, at: int, add: Duration | None, until: int | None
) -> Clock:
    """The clock with its due moved to ``until`` or by ``add`` (counted in the budget's own time from the
    current due), and the warnings of the longer budget that are still ahead armed again."""
    if until is not None:
        due = DueTime(until, False)
    else:
        assert add is not None
        due = cp.calendar_for(deadline).add(clock["due"], add)
    new = {**clock, "due": due.at, "provisional": bool(clock["provisional"] or due.provisional), "warned": False}
    return _with_warnings(new, [t for t in warn_times(cp, deadline, clock["started"], due.at) if t > at])


def is_late(clock: Clock, now: int) -> bool:
    """Breached, missed, or due by ``now`` and not paused; a reminder is never late."""
    if clock.get("reminder"):
        return False
    return bool(clock["breached"] or clock["misses"] or (clock["paused_at"] is None and clock["due"] <= now))


def armed(cp: CompiledProcess, deadline: Deadline, data: Mapping[str, Any]) -> bool:
    """Whether the deadline's clock starts for a case with ``data``: its guard holds and its field is given."""
    guard = cp.deadline_guards.get(deadline.id)
    if guard is not None and not guard(dict(data)):
        return False
    return deadline.due.at is None or data.get(deadline.due.at.field) not in (None, "")


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
    new = {**clock, "due": after.at, "provisional": after.provisional}
    if not clock["warned"] and clock["warn"] is not None:  # the warnings not yet given, counted on the new due
        new = _with_warnings(
            new, [t for t in warn_times(cp, deadline, clock["started"], after.at) if t >= clock["warn"]]
        )
    return new, known


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
    """Push every pending instant of a paused clock out by the time it was paused, and log the pause."""
    paused_at = clock["paused_at"]
    if paused_at is None:
        return clock
    cal, unit = cp.calendar_for(deadline), pause_unit(deadline)

    def shift(instant: int | None) -> int | None:
        return None if instant is None else cal.shift_for_pause(instant, unit, paused_at, at).at

    out = {
        **clock,
        "paused_at": None,
        "due": shift(clock["due"]),
        "warn": shift(clock["warn"]),
        "step_due": shift(clock["step_due"]),
        "pauses": [*clock.get("pauses", ()), [paused_at, at]],
    }
    if clock.get("warn_later"):
        out["warn_later"] = [shift(t) for t in clock["warn_later"]]
    return out


@dataclass(frozen=True, slots=True)
class ClockView:
    """One running clock as a person reads it at ``now``: its budget, what is used and left, when it falls."""

    deadline: str
    budget: str  # "4wh", "by 17:00", "every daily 17:00", "immediately", "at appointment_time - 5m"
    counts: Literal["wall", "working"]
    used: int | None  # seconds of the clock's own time since it started, pauses left out
    remaining: int | None  # seconds of its own time until due; negative once past
    due: int
    provisional: bool
    paused_since: int | None
    status: Literal["running", "paused", "breached", "reminded"]
    next_warning: int | None


def view(cp: CompiledProcess, deadline: Deadline, clock: Clock, now: int) -> ClockView:
    cal, unit = cp.calendar_for(deadline), pause_unit(deadline)
    until = clock["paused_at"] if clock["paused_at"] is not None else now
    used: int | None
    remaining: int | None
    try:
        paused = sum(counted(cal, unit, a, b) for a, b in clock.get("pauses", ()))
        used = max(0, counted(cal, unit, clock["started"], until) - paused)
        due = clock["due"]
        remaining = counted(cal, unit, until, due) if due >= until else -counted(cal, unit, due, until)
    except CalendarError:  # a time beyond the calendar's reach: the due time is still known and shown
        used = remaining = None
    status: Literal["running", "paused", "breached", "reminded"] = "running"
    if clock.get("reminded"):
        status = "reminded"
    elif clock["breached"] or clock["misses"]:
        status = "breached"
    elif clock["paused_at"] is not None:
        status = "paused"
    return ClockView(
        deadline.id,
        str(deadline.due).removeprefix("within "),
        "wall" if unit in _WALL_UNITS else "working",
        used,
        remaining,
        clock["due"],
        bool(clock["provisional"]),
        clock["paused_at"],
        status,
        None if clock["warned"] else clock["warn"],
    )


_MISS_WALK = 64  # occurrences a breach walks one by one before it counts the rest by their mean spacing


def missed_until(cal: BusinessCalendar, every: Repeat, due: int, now: int) -> tuple[int, int | None, bool]:
    """(occurrences of a repeat that ran out at or before ``now`` since ``due``, the next one, estimated).

    Bounded work whatever the gap: a wall-clock interval is a division; a clock schedule or working-time
    interval is walked for at most ``_MISS_WALK`` occurrences and the rest counted by their mean spacing
    (flagged estimated). The next occurrence is None when it is past what the calendar can compute.
    """
    interval = every.interval
    if every.kind == "interval" and interval is not None and interval.unit in ("m", "h"):
        step = _WALL_UNITS[interval.unit] * interval.amount
        missed = (now - due) // step + 1
        return missed, due + missed * step, False
    missed, at = 0, due
    try:
        while at <= now and missed < _MISS_WALK:
            missed, at = missed + 1, cal.next_occurrence(at, every).at
        if at > now:
            return missed, at, False
        mean = max(1, (at - due) // missed)
        missed += (now - at) // mean + 1
        return missed, cal.next_occurrence(now, every).at, True
    except (CalendarError, ValueError, OverflowError):  # beyond the calendar's reach or year 9999
        return max(missed, 1), None, missed >= _MISS_WALK


def _wanted(clock: Clock) -> list[tuple[TimerKind, int, int]]:
    """(kind, step, due) of each timer row one clock calls for."""
    if clock["paused_at"] is not None or clock.get("reminded"):
        return []
    wanted: list[tuple[TimerKind, int, int]] = []
    if clock["warn"] is not None and not clock["warned"] and not clock["breached"]:
        # Every warning still to come, each numbered by how many follow it, so a tick that finds several
        # due gives them in order, before a breach that is due as well.
        pending = [clock["warn"], *clock.get("warn_later", ())]
        wanted += [("warn", len(pending) - 1 - i, t) for i, t in enumerate(pending)]
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
