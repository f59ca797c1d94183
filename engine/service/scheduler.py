"""The scheduler: fires due warnings, breaches and escalation steps on the service's clock.

Each step fires at most a few bounded batches through the desk, so requests are served between them;
when nothing is due it waits (``wait`` is passed in: the real service waits on a stop event, tests call
``step`` directly with a fake clock and never sleep). After downtime, what was missed fires in due order
and every event keeps its true due time; the gap between that and the clock is the lateness metric.
Several services on one store never fire anything twice: the engine fires a timer only inside the
transaction that checks the case's clocks still call for it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from ..runtime.engine import SYSTEM_ACTOR
from ..store.base import EventRecord
from .desk import Desk
from .metrics import Metrics
from .retry import run_steps

log = logging.getLogger("complaintflow.scheduler")
TIMER_KINDS = ("deadline_warning", "deadline_breached", "escalated")


class Scheduler:
    def __init__(
        self,
        desk: Desk,
        metrics: Metrics,
        *,
        batch: int = 256,
        rounds: int = 4,
        poll: float = 1.0,
        between: Callable[[], object] | None = None,
    ):
        self.desk, self.metrics, self.batch, self.rounds, self.poll = desk, metrics, batch, rounds, poll
        self.between = between  # light upkeep run before each step (the calendar watch)
        self._refused: dict[str, str] = {}  # cases tick refused (their row disagrees with their history)

    def step(self) -> list[EventRecord]:
        """Fire what is due now (a bounded amount); the events fired."""
        if self.between is not None:
            self.between()
        now = self.desk.now()
        # each round of due cases commits once (Engine.tick): 10,000 timers due at 09:00 on a Monday
        # would otherwise cost an fsync each
        refused: dict[str, str] = {}
        fired = self.desk.run(lambda: self.desk.engine.tick(now, batch=self.batch, rounds=self.rounds, refused=refused))
        for case_id, why in sorted(refused.items()):
            if self._refused.get(case_id) != why:  # said once per case and reason, not on every step
                log.error("case %s was not fired: %s", case_id, why)
            self._refused[case_id] = why
        timer_events = [e for e in fired if e.actor == SYSTEM_ACTOR and e.kind in TIMER_KINDS]
        # Counted once per kind and step: a label look-up and an increment per event cost a step of 512
        # events 1.4 ms (the lateness histogram still takes each event's own value).
        for kind, count in Counter(e.kind for e in timer_events).items():
            self.metrics.fired.labels(kind=kind).inc(count)
        observe = self.metrics.lateness.observe
        for event in timer_events:
            observe(max(0, now - event.at))
        if fired:
            log.info("fired %d event(s); the oldest was due %d s ago", len(fired), now - min(e.at for e in fired))
        return fired

    def run(self, stopped: Callable[[], bool], wait: Callable[[float], object]) -> None:
        run_steps("scheduler", lambda: bool(self.step()), stopped, wait, self.poll)
