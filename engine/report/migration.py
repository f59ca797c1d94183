"""Readable lines for a migration plan: per case, old -> new state and each clock's old due -> new due.

Used by ``complaintflow migrate`` for the dry run and the real run alike, so both print the same words;
pure formatting of a ``MigrationPlan`` (runtime/migrate.py), writing nothing.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..calendar import format_local
from ..language.spec import Process
from ..runtime.migrate import ClockChange, MigrationPlan
from .timeline import describe_event


def _where(state: str, branches: dict[str, str] | Any) -> str:
    inside = ", ".join(f"{b}: {s}" for b, s in branches.items())
    return f"{state} ({inside})" if inside else state


def _clock_line(change: ClockChange, tz: str) -> str:
    if change.fate == "ended":
        return f"  {change.deadline}: its clock ends ({change.reason}), recorded in the migrated event"
    new = format_local(change.new_due, tz) if change.new_due is not None else "-"
    if change.fate == "started":
        line = f"  {change.deadline}: starts now, due {new}"
    elif change.fate == "kept":
        line = f"  {change.deadline}: due {new} (unchanged)"
    else:
        old = format_local(change.old_due, tz) if change.old_due is not None else "-"
        line = f"  {change.deadline}: due {old} -> {new}"
    if change.paused:
        line += " (paused: it moves on by the pause when the case resumes)"
    return line + (" (will breach at next tick)" if change.breaches_next_tick else "")


def describe_plan(engine: Any, plan: MigrationPlan, old: Process, new: Process) -> str:
    """A case's plan as lines: a refusal with every reason, or the move, what fires first, and each clock."""
    head = f"{plan.case_id}: {new.id} v{plan.from_version} -> v{plan.to_version}"
    if plan.refused:
        return f"{head}: refused: " + "; ".join(plan.refusals)
    lines = [f"{head}, {_where(plan.old_state, plan.old_branches)} -> {_where(plan.new_state, plan.new_branches)}"]
    for event in plan.fired:
        what = describe_event(engine, event, old).split(": ", 1)[-1]  # the line without its time, case and actor
        lines.append(f"  first, on v{plan.from_version}, at {format_local(event.at, old.timezone)}: {what}")
    lines += [_clock_line(change, new.timezone) for change in plan.clocks]
    return "\n".join(lines)


def plan_data(plan: MigrationPlan) -> dict[str, Any]:
    """A plan as JSON output shows it."""
    return {
        "case": plan.case_id,
        "from_version": plan.from_version,
        "to_version": plan.to_version,
        "refusals": list(plan.refusals),
        "from": {"state": plan.old_state, "branches": dict(plan.old_branches)},
        "to": {"state": plan.new_state, "branches": dict(plan.new_branches)},
        "clocks": [asdict(change) for change in plan.clocks],
        "fired_first": [event.kind for event in plan.fired],
    }
