"""Each running clock of a case as people read it: budget, used, remaining or overdue, in business time.

A clock in the case row only says when it started and falls due. The pages need the countdown a person
acts on ("还剩 1 工作小时 20 分"), so this module takes the engine's own reading of a clock
(``runtime.clocks.view``, the one place that measures used and remaining time, pauses left out, on the
deadline's calendar; ``complaintflow case`` prints the same reading) and adds what the pages show beside
it: the titles, the escalation reached, the budget and the overdue time. Read-only; nothing here changes
a case.
"""

from __future__ import annotations

from typing import Any

from ..language.spec import Process
from ..runtime.clocks import is_late, view
from ..runtime.machine import CompiledProcess
from ..store.base import CaseRecord


def deadline_views(cp: CompiledProcess, case: CaseRecord, now: int) -> list[dict[str, Any]]:
    """One entry per clock of ``case`` as of ``now``, most urgent first. The seconds are of the clock's
    own time (working seconds for working-time deadlines), None where the calendar cannot reach."""
    spec = cp.spec
    views = []
    for deadline_id, clock in case.clocks.items():
        deadline = spec.deadlines.get(deadline_id)
        if deadline is None:  # a clock of a deadline the pinned version no longer names cannot happen; be safe
            continue
        reading = view(cp, deadline, clock, now)
        used, remaining = reading.used, reading.remaining
        # A paused clock stands still at the moment it paused; a reminder is never late.
        late = is_late(clock, now) or (clock["paused_at"] is not None and clock["paused_at"] > clock["due"])
        views.append(
            {
                "deadline": deadline_id,
                "title": deadline.title.zh,
                "title_en": deadline.title.en,
                "rule": str(deadline.due),
                "role": deadline.role,
                "business": reading.counts == "working",
                "started_at": clock["started"],
                "due_at": clock["due"],
                "budget_seconds": used + remaining if used is not None and remaining is not None else None,
                "used_seconds": used,
                "remaining_seconds": max(0, remaining) if remaining is not None else None,
                "overdue_seconds": max(0, -remaining) if remaining is not None else None,
                "overdue": late,
                "paused": reading.paused_since is not None,
                "provisional": reading.provisional,
                "breached": bool(clock["breached"]),
                "misses": clock.get("misses", 0),
                "warned": bool(clock.get("warned")),
                "reminder": bool(clock.get("reminder")),
                "escalation": escalation_view(spec, deadline.escalation, clock),
            }
        )
    views.sort(key=lambda v: (not v["overdue"], v["due_at"]))
    return views


def escalation_view(spec: Process, chain_id: str | None, clock: dict[str, Any]) -> dict[str, Any] | None:
    """How far the deadline's chain climbed: the roles notified so far and when the next step is due."""
    chain = spec.escalations.get(chain_id or "")
    if chain is None or not clock.get("step"):
        return None
    reached = chain.steps[: clock["step"]]
    return {
        "chain": chain.id,
        "step": clock["step"],
        "of": len(chain.steps),
        "roles": [s.role for s in reached],
        "next_due": clock.get("step_due"),
    }


def escalated_roles(spec: Process, case: CaseRecord) -> set[str]:
    """The roles some escalation step of this case has reached (they see it in their queue)."""
    roles: set[str] = set()
    for deadline_id, clock in case.clocks.items():
        deadline = spec.deadlines.get(deadline_id)
        view = escalation_view(spec, deadline.escalation if deadline else None, clock)
        if view is not None:
            roles.update(view["roles"])
    return roles
