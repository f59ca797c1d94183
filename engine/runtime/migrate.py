"""Moving a running case to a newer version of its process: what may move, and the one event that moves it.

``plan_migration`` is a pure function of the case's compiled process, the new one, the case row, the
state map and the migration instant. It first fires, on the old rules, what ran out before that instant
(a migration must not hide a breach), then either names every reason the case cannot move (a state the
new version lacks and the map does not place, a removed field that holds a value, a removed role that
holds the case, ...) or builds the one ``migrated`` event that moves it: the new state and branches,
and every clock from then on. A clock keeps its start and its ledger of pauses, so the time used stays
as it was, and takes the new budget: its due is what the new rule gives from that start, pushed out by
the same pauses (plus what an extension added). A clock whose deadline the new version removes, or no
longer runs in the case's state, ends; a deadline new in this version starts if the case is in one of
its start states. The dry run prints this plan; the real run commits exactly its events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from ..calendar import CalendarError, DueTime
from ..language.spec import Deadline, Process
from ..store.base import CaseRecord, EventRecord
from .clocks import (
    Clock,
    armed,
    counted,
    desired_timers,
    due_after,
    pause,
    pause_unit,
    resume,
    start_clock,
    warn_times,
)
from .decide import SYSTEM_ACTOR, SYSTEM_ROLE, decide_timer
from .events import next_event
from .fold import fold
from .machine import CompiledProcess
from .values import InputError, check_value

_WALL_UNITS = ("m", "h", "d")

ClockFate = Literal["kept", "moved", "ended", "started"]


@dataclass(frozen=True, slots=True)
class ClockChange:
    """What the migration does to one clock; ``breaches_next_tick`` when its new due has already passed."""

    deadline: str
    fate: ClockFate
    old_due: int | None
    new_due: int | None
    breaches_next_tick: bool = False
    reason: str = ""
    paused: bool = False  # its due moves on by the pause when the case resumes


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    """One case's move: refused (``refusals`` say why, nothing else is set) or its events and new row."""

    case_id: str
    from_hash: str
    from_version: int
    to_version: int
    old_state: str
    new_state: str
    old_branches: Mapping[str, str]
    new_branches: Mapping[str, str]
    refusals: tuple[str, ...] = ()
    clocks: tuple[ClockChange, ...] = ()
    fired: tuple[EventRecord, ...] = ()  # what ran out under the old version before the migration instant
    events: tuple[EventRecord, ...] = ()  # ``fired`` and then the ``migrated`` event
    row: CaseRecord | None = None  # the case row after ``events``, at the next revision

    @property
    def refused(self) -> bool:
        return bool(self.refusals)


def plan_migration(
    old: CompiledProcess, new: CompiledProcess, case: CaseRecord, state_map: Mapping[str, str], at: int
) -> MigrationPlan:
    """The plan for moving ``case`` from ``old`` to ``new`` at ``at``, with ``state_map`` (old state -> new)."""
    current, fired = _fired_before(old, case, at)
    states = [current.state, *current.branches.values()]
    new_state = state_map.get(current.state, current.state)
    new_branches = {b: state_map.get(s, s) for b, s in current.branches.items()}
    base = MigrationPlan(
        case.id,
        old.spec.content_hash,
        old.spec.version,
        new.spec.version,
        current.state,
        new_state,
        dict(current.branches),
        new_branches,
    )
    if case.closed_at is not None:
        return replace(base, refusals=(f"it is closed (in {case.state!r}); a closed case keeps the version it ran on",))
    refusals = _refusals(current, new.spec, state_map, new_state, new_branches)
    if refusals:
        return replace(base, refusals=tuple(refusals))
    try:
        clocks, changes, ended = _clocks(old, new, current, {new_state, *new_branches.values()}, at)
    except CalendarError as exc:
        return replace(base, refusals=(f"its clocks cannot be counted on v{new.spec.version}: {exc}",))
    used_map = {s: state_map[s] for s in states if s in state_map}
    payload = {
        "process_id": new.spec.id,
        "from_hash": old.spec.content_hash,
        "to_hash": new.spec.content_hash,
        "from_version": old.spec.version,
        "to_version": new.spec.version,
        "state_map": used_map,
        "state": new_state,
        "branches": new_branches,
        "clocks": clocks,
        "ended": ended,
    }
    when = max(at, current.last_at)
    moved = next_event(
        case.id, current.last_seq, current.last_hash, when, SYSTEM_ACTOR, SYSTEM_ROLE, "migrated", payload
    )
    events = (*fired, moved)
    row = fold(case, events, revision=case.revision + 1)
    return replace(base, clocks=tuple(changes), fired=tuple(fired), events=events, row=row)


def _fired_before(cp: CompiledProcess, case: CaseRecord, at: int) -> tuple[CaseRecord, list[EventRecord]]:
    """The case after every timer due strictly before ``at`` fired on its old version, as a tick would fire them."""
    events: list[EventRecord] = []
    while True:
        due = sorted((t for t in desired_timers(case.id, case.clocks) if t.due_at < at), key=lambda t: t.due_at)
        if not due:
            return case, events
        fired = decide_timer(cp, case, due[0], at)
        case = fold(case, fired, revision=case.revision)
        events += fired


def _refusals(
    case: CaseRecord, spec: Process, state_map: Mapping[str, str], new_state: str, new_branches: Mapping[str, str]
) -> list[str]:
    """Every reason the case cannot run on ``spec``, each named."""
    v = f"v{spec.version}"
    out = []
    for old_state in [case.state, *case.branches.values()]:
        target = state_map.get(old_state, old_state)
        if target not in spec.states:
            out.append(f"its state {old_state!r} is not in {v}; map it with --map {old_state}=NEW_STATE")
    if new_state in spec.states:
        state = spec.states[new_state]
        if state.final:
            out.append(f"its state would be {new_state!r}, which is final in {v}; close the case instead")
        if state.branch is not None:
            out.append(f"its state would be {new_state!r}, which is a state of branch {state.branch!r} in {v}")
        if set(state.branches) != set(new_branches):
            runs = ", ".join(sorted(state.branches)) or "no branches"
            has = ", ".join(sorted(new_branches)) or "no branches"
            out.append(f"{new_state!r} runs {runs} in {v}, but the case runs {has}")
        for branch, target in new_branches.items():
            found = spec.states.get(target)
            if found is not None and found.branch != branch and branch in state.branches:
                out.append(f"branch {branch!r} would be in {target!r}, which is not a state of that branch in {v}")
    for name, value in case.data.items():
        if value is None:
            continue
        field = spec.fields.get(name)
        if field is None:
            out.append(f"its field {name!r} holds a value, and {v} removes that field")
            continue
        try:
            check_value(field, value, spec.timezone)
        except InputError as exc:
            detail = "" if field.pii else f" ({exc})"
            out.append(f"its field {name!r} holds a value {v} does not accept{detail}")
    if case.owner_role is not None and case.owner_role not in spec.roles:
        out.append(f"it is held by role {case.owner_role!r}, which {v} removes; reassign it first")
    return out


def _clocks(
    old: CompiledProcess, new: CompiledProcess, case: CaseRecord, now_in: set[str], at: int
) -> tuple[dict[str, Clock], list[ClockChange], list[str]]:
    """Every clock the case runs on ``new`` from ``at``, what happened to each, and the ones that ended."""
    spec, v = new.spec, f"v{new.spec.version}"
    paused_there = any(spec.states[s].pause for s in now_in)
    clocks: dict[str, Clock] = {}
    changes: list[ClockChange] = []
    ended: list[str] = []
    for name, clock in case.clocks.items():
        d = spec.deadlines.get(name)
        reason = ""
        if d is None:
            reason = f"{v} removes this deadline"
        elif d.stop and not now_in.isdisjoint(d.stop):
            reason = f"{v} stops it in {', '.join(sorted(now_in & set(d.stop)))}"
        elif not d.stop and now_in.isdisjoint(d.start):
            reason = f"{v} does not run it in {', '.join(sorted(now_in))}"
        if d is None or reason:
            ended.append(name)
            changes.append(ClockChange(name, "ended", clock["due"], None, reason=reason))
            continue
        carried = _carried(old, old.spec.deadlines[name], new, d, clock, case.data, at)
        clocks[name] = _paused_as(new, d, carried, paused_there, at)
    for d in spec.deadlines.values():
        if d.id in old.spec.deadlines or now_in.isdisjoint(d.start) or not armed(new, d, case.data):
            continue
        clocks[d.id] = _paused_as(new, d, start_clock(new, d, at, case.data), paused_there, at)
    for name, clock in clocks.items():
        before = case.clocks.get(name)
        fate: ClockFate = "started" if before is None else "kept" if clock["due"] == before["due"] else "moved"
        late = not clock["breached"] and clock["paused_at"] is None and clock["due"] <= at
        late = late and not clock.get("reminder")
        was = None if before is None else before["due"]
        changes.append(ClockChange(name, fate, was, clock["due"], late, paused=clock["paused_at"] is not None))
    return clocks, changes, ended


def _paused_as(cp: CompiledProcess, d: Deadline, clock: Clock, paused_there: bool, at: int) -> Clock:
    """A clock paused or running as the case's new state says (a state may pause in one version only)."""
    if paused_there:
        return pause(clock, at)
    return resume(cp, d, clock, at) if clock["paused_at"] is not None else clock


def _carried(
    old: CompiledProcess,
    od: Deadline,
    new: CompiledProcess,
    nd: Deadline,
    clock: Clock,
    data: Mapping[str, Any],
    at: int,
) -> Clock:
    """One running clock on the new rules: same start and pauses (the time used), the new budget's due."""
    out = dict(clock)
    if nd.reminder:
        out["reminder"] = True
    else:
        out.pop("reminder", None)
    if clock["breached"] or clock.get("reminded"):  # what happened stays; a step the new chain lacks does not come
        chain = new.spec.escalations.get(nd.escalation or "")
        if out["step_due"] is not None and (chain is None or clock["step"] >= len(chain.steps)):
            out["step_due"] = None
        return out
    same_rule = od.due == nd.due and _calendar_of(old, od) == _calendar_of(new, nd)
    if same_rule and (od.warn_at, od.warn_before) == (nd.warn_at, nd.warn_before):
        return out
    if not same_rule:
        due = _rebudgeted(old, od, new, nd, clock, data, at)
        out.update(due=due.at, provisional=bool(clock["provisional"] or due.provisional))
    ahead = [t for t in warn_times(new, nd, clock["started"], out["due"]) if t > at]
    out["warned"] = False
    out["warn"] = ahead[0] if ahead else None
    out.pop("warn_later", None)
    if len(ahead) > 1:
        out["warn_later"] = ahead[1:]
    return out


def _calendar_of(cp: CompiledProcess, d: Deadline) -> object:
    name = d.calendar or cp.spec.calendar
    return (cp.spec.timezone, cp.spec.calendars.get(name) if name else None)


def _rebudgeted(
    old: CompiledProcess,
    od: Deadline,
    new: CompiledProcess,
    nd: Deadline,
    clock: Clock,
    data: Mapping[str, Any],
    at: int,
) -> DueTime:
    """The due the new rule gives: from the clock's start, pushed out by its pauses, plus any extension.

    A repeating rule has no budget to keep: its next occurrence after ``at`` is armed (misses so far stay).
    An extension shows as the old due lying later than the old rule gives; that much is added again.
    """
    cal = new.calendar_for(nd)
    if nd.due.every is not None:
        return due_after(nd, at, cal, data)
    due = _replayed(new, nd, clock, data)
    if od.due.every is None:
        extra = counted(old.calendar_for(od), pause_unit(od), _replayed(old, od, clock, data).at, clock["due"])
        if extra > 0:
            shifted = (
                DueTime(due.at + extra, False)
                if pause_unit(nd) in _WALL_UNITS
                else cal.add_working_seconds(due.at, extra)
            )
            due = DueTime(shifted.at, due.provisional or shifted.provisional)
    return due


def _replayed(cp: CompiledProcess, d: Deadline, clock: Clock, data: Mapping[str, Any]) -> DueTime:
    """The due ``d`` gives a clock started at its start and paused as its ledger says."""
    cal, unit = cp.calendar_for(d), pause_unit(d)
    due = due_after(d, clock["started"], cal, data)
    for paused_from, paused_to in clock.get("pauses", ()):
        shifted = cal.shift_for_pause(due.at, unit, paused_from, paused_to)
        due = DueTime(shifted.at, due.provisional or shifted.provisional)
    return due
