"""Waiting for the database (engine/service/retry.py) on a fake clock: back-off, the bound, the lines."""

from __future__ import annotations

import random

import pytest

from complaintflow.service.retry import CAP, run_steps, wait_for
from complaintflow.store.base import StoreError, StoreUnavailableError


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def _failing(times: int, error: Exception | None = None):
    calls = []

    def attempt() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error or StoreUnavailableError("database not answering at db.example/complaints: Connection refused")
        return "open"

    return attempt, calls


def _wait(attempt, clock: FakeClock, total: float, lines: list[str]):
    return wait_for(attempt, total=total, now=clock.now, sleep=clock.sleep, say=lines.append, rng=random.Random(7))


def test_it_retries_with_jittered_doubling_waits_until_the_database_answers():
    clock, lines = FakeClock(), []
    attempt, calls = _failing(5)
    assert _wait(attempt, clock, 60, lines) == "open"
    assert len(calls) == 6 and len(clock.slept) == 5
    for n, waited in enumerate(clock.slept):
        step = min(CAP, 0.5 * 2**n)
        assert step / 2 <= waited <= step, (n, waited)
    assert lines[2] == (
        "database not answering at db.example/complaints: Connection refused "
        f"(attempt 3), retrying in {clock.slept[2]:.1f} s"
    )


def test_the_waits_stop_growing_at_the_cap_and_the_total_bounds_them():
    clock, lines = FakeClock(), []
    attempt, calls = _failing(10**6)
    with pytest.raises(StoreUnavailableError) as gave_up:
        _wait(attempt, clock, 120, lines)
    assert max(clock.slept) <= CAP and clock.slept[-2] >= CAP / 2
    assert clock.t - 1000.0 == pytest.approx(120)  # the last wait is cut to the total, then one last attempt
    assert str(gave_up.value) == (
        "database not answering at db.example/complaints: Connection refused; "
        f"gave up after {len(calls)} attempts in 120 s"
    )
    assert gave_up.value.exit_code == 2 and "\n" not in str(gave_up.value)


def test_no_wait_at_all_is_one_attempt():
    clock, lines = FakeClock(), []
    attempt, calls = _failing(1)
    with pytest.raises(StoreUnavailableError, match="gave up after 1 attempt in 0 s"):
        _wait(attempt, clock, 0, lines)
    assert len(calls) == 1 and clock.slept == [] and lines == []


def test_a_refusal_is_not_waited_for():
    clock, lines = FakeClock(), []
    attempt, calls = _failing(1, StoreError("password authentication failed"))
    with pytest.raises(StoreError, match="password authentication failed"):
        _wait(attempt, clock, 60, lines)
    assert len(calls) == 1 and clock.slept == []


def test_a_service_loop_backs_off_while_the_store_is_away_and_polls_again_once_back(caplog):
    outcomes = [StoreUnavailableError("database not answering at h/db: x")] * 4 + [True, False, False]
    waits: list[float] = []

    def step() -> bool:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    run_steps("scheduler", step, lambda: not outcomes, waits.append, 1.0, random.Random(3))
    assert len(waits) == 6  # four back-offs, none after the busy step, two polls
    assert [1.0 <= w <= 2**n for n, w in enumerate(waits[:4])] == [True] * 4 and waits[3] >= 4
    assert waits[4:] == [1.0, 1.0]
    warned = [r.getMessage() for r in caplog.records if r.name == "complaintflow.scheduler"]
    assert len(warned) == 4 and "scheduler step failed (4 in a row): database not answering at h/db" in warned[3]
    assert all(r.exc_info is None for r in caplog.records)  # one line each, no traceback
