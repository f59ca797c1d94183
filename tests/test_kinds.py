"""The closed sets written as Literal types hold exactly the values the code makes."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from complaintflow import Engine
from complaintflow.demo import DemoStats, run_demo
from complaintflow.runtime.clocks import TimerKind, desired_timers
from complaintflow.simulate.dist import KINDS, DistKind, parse_dist
from complaintflow.store.base import EventKind
from complaintflow.store.memory import MemoryStore

ROOT = Path(__file__).resolve().parent.parent


def test_every_event_the_demo_writes_has_a_declared_kind() -> None:
    stats = DemoStats()
    list(run_demo(Engine(MemoryStore()), sorted((ROOT / "processes").glob("*.yaml")), stats))
    seen = set(stats.per_kind)
    assert {"started", "acted", "deadline_met", "deadline_breached", "escalated"} <= seen
    assert seen <= set(get_args(EventKind))


def test_a_clock_that_warns_breaches_and_escalates_calls_for_each_timer_kind() -> None:
    clock = {"paused_at": None, "warn": 10, "warned": False, "breached": False, "misses": 0, "due": 20}
    clock |= {"step": 1, "step_due": 30}
    timers = desired_timers("c1", {"reply": clock})
    assert [(t.kind, t.due_at) for t in timers] == [("warn", 10), ("breach", 20), ("step", 30)]
    assert {t.kind for t in timers} == set(get_args(TimerKind))


def test_every_distribution_kind_parses() -> None:
    written = {"fixed": "30m", "uniform": ["10m", "2h"], "lognormal": {"median": "2h", "p90": "8h"}}
    written["exponential"] = {"mean": "1h"}
    assert KINDS == get_args(DistKind) and set(written) == set(KINDS)
    for kind, arg in written.items():
        dist = parse_dist({kind: arg}, time=True)
        assert not isinstance(dist, str) and dist.kind == kind, dist
