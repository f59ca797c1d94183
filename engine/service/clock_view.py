"""Each running clock of a case as people read it: budget, used, remaining or overdue, in business time.

A clock in the case row only says when it started and falls due. The pages need the countdown a person
acts on ("还剩 1 工作小时 20 分"), so this module measures it on the deadline's own calendar: working
seconds for deadlines in working units or tied to a time of day, wall seconds for ``m``/``h``/``d``
(the same split the engine uses when a clock pauses). Read-only; nothing here changes a case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..calendar import BusinessCalendar
from ..language.spec import Process
from ..runtime.clocks import is_late, pause_unit
from ..runtime.machine import CompiledProcess
from ..store.base import CaseRecord


def deadline_views(cp: CompiledProcess, case: CaseRecord, now: int) -> list[dict[str, Any]]:
    """One entry per clock of ``case`` as of ``now``, most urgent first."""
    spec = cp.spec
    views = []
    for deadline_id, clock in case.clocks.items():
        deadline = spec.deadlines.get(deadline_id)
        if deadline is None:  # a clock of a deadline the pinned version no longer names cannot happen; be safe
            continue
        business = pause_unit(deadline) == "wh"
        span = _measure(cp.calendar_for(deadline), business)
        # A paused clock stands still at the moment it paused.
        at = clock["paused_at"] if clock["paused_at"] is not None else now
        started, due = clock["started"], clock["due"]
        late = is_late(clock, now) or (clock["paused_at"] is not None and at > due)  # a reminder is never late
        views.append(
            {
                "deadline": deadline_id,
                "title": deadline.title.zh,
                "title_en": deadline.title.en,
                "rule": str(deadline.due),
                "role": deadline.role,
                "business": business,
                "started_at": started,
                "due_at": due,
                "budget_seconds": span(started, due),
                "used_seconds": span(started, min(at, due)),
                "remaining_seconds": span(at, due),
                "overdue_seconds": span(due, at),
                "overdue": late,
                "paused": clock["paused_at"] is not None,
                "provisional": bool(clock.get("provisional")),
                "breached": bool(clock["breached"]),
                "misses": clock.get("misses", 0),
                "warned": bool(clock.get("warned")),
                "reminder": bool(clock.get("reminder")),
                "escalation": escalation_view(spec, deadline.escalation, clock),
            }
        )
    views.sort(key=lambda v: (not v["overdue"], v["due_at"]))
    return views


def _measure(cal: BusinessCalendar, business: bool) -> Callable[[int, int], int]:
    """Seconds from ``a`` to ``b`` (0 when ``b`` is not later): working seconds on ``cal`` or wall seconds."""

    def span(a: int, b: int) -> int:
        if b <= a:
            return 0
        return cal.working_seconds_between(a, b) if business else b - a

    return span


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
