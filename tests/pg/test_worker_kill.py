"""kill -9 of a ``complaintflow worker`` while it fires a burst of due deadlines: what it had committed
stays, what it had not is rolled back with its claims, and a second worker fires the rest, so every
deadline fires exactly once. Real subprocesses, the clock read from a file."""

from __future__ import annotations

import signal
from collections import Counter

from helpers import MINI, at, ids
from service.serving import eventually

from complaintflow import Actor, Engine
from complaintflow.store.base import CaseQuery
from pg.test_worker import Worker

DESK = Actor("wang", ("desk",))
DATA = {"customer_name": "张三", "severity": "general"}
CASES = 600
DUE = at("2025-11-03 18:00")


def _fired(engine: Engine) -> Counter[tuple[str, str, int]]:
    """How often each (case, kind, due instant) of a timer's event was written."""
    counts: Counter[tuple[str, str, int]] = Counter()
    for case in engine.cases(CaseQuery(limit=10**6)):
        for event in engine.history(case.id):
            if event.actor == "complaintflow":
                counts[(case.id, event.kind, event.at)] += 1
    return counts


def test_a_worker_killed_mid_burst_leaves_every_deadline_fired_exactly_once(postgres_server, postgres_url, tmp_path):
    (tmp_path / "processes").mkdir()
    process = tmp_path / "processes" / "mini.yaml"
    process.write_text(MINI, encoding="utf-8")
    engine = Engine(postgres_url, new_case_id=ids())
    spec = engine.load_process(process)
    opened = [engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00") + n).id for n in range(CASES)]
    # The same cases on a store of their own, fired by one tick: what the two workers together must write.
    alone = Engine(postgres_server.new_store(), new_case_id=ids())
    alone_spec = alone.load_process(process)
    assert [alone.start(alone_spec, DATA, DESK, at=at("2025-11-03 10:00") + n).id for n in range(CASES)] == opened
    alone.tick(DUE)
    expected = _fired(alone)
    assert expected and all(n == 1 for n in expected.values())

    clock = tmp_path / "clock.txt"
    clock.write_text("2025-11-03 18:00", encoding="utf-8")
    first = Worker(postgres_url, tmp_path, clock)
    try:
        # Killed as soon as some of the burst is committed and before all of it is.
        eventually(lambda: sum(_fired(engine).values()) > 0, "the first worker to fire", 60)
        first.process.send_signal(signal.SIGKILL)
        assert first.process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if first.process.poll() is None:
            first.process.kill()
    partly = sum(_fired(engine).values())
    assert 0 < partly, "the first worker fired nothing before it was killed"

    second = Worker(postgres_url, tmp_path, clock)
    try:

        def all_fired() -> bool:
            return all(c.next_due is None or c.next_due > DUE for c in engine.cases(CaseQuery(limit=10**6)))

        eventually(all_fired, "the second worker to fire the rest", 120)
    finally:
        assert second.stop() == 0, second.lines
    assert _fired(engine) == expected  # every deadline once: none lost with the killed worker, none twice
    assert engine.verify() == []
    engine.close()
    alone.close()
