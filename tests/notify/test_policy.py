"""Rate limits on a fake clock, jittered back-off with a seeded rng, dead after N attempts."""

from __future__ import annotations

import random

import pytest

from complaintflow.service.notify.outcome import Permanent, RetryLater
from complaintflow.service.notify.policy import POLICIES, RateLimit, retry_delay


def test_wecom_sends_20_a_minute_then_waits_until_the_first_leaves_the_window() -> None:
    limit = POLICIES["wecom"].rate_limit()
    assert [limit.allow(100.0 + i) for i in range(20)] == [0.0] * 20
    assert limit.allow(120.0) == pytest.approx(40.0)  # the send at 100 counts until 160
    assert limit.allow(150.0) == pytest.approx(10.0)  # nothing was counted while waiting
    assert limit.allow(160.0) == 0.0
    assert limit.allow(160.0) == pytest.approx(1.0)  # now the send at 101 is the oldest


def _sent_in(limit: RateLimit, seconds: float) -> list[float]:
    """Send as fast as the limit allows for ``seconds`` on a fake clock; the instants sent."""
    sent, now = [], 0.0
    while now < seconds:
        wait = limit.allow(now)
        if wait == 0.0:
            sent.append(now)
        else:
            now += wait
    return sent


def test_feishu_has_two_windows_five_a_second_and_a_hundred_a_minute() -> None:
    sent = _sent_in(POLICIES["feishu"].rate_limit(), 180.0)
    for i, t in enumerate(sent):
        assert sum(t - 1.0 < u <= t for u in sent[: i + 1]) <= 5
        assert sum(t - 60.0 < u <= t for u in sent[: i + 1]) <= 100
    assert len([t for t in sent if t < 60.0]) == 100  # and it uses what it may
    assert sent[5] == pytest.approx(1.0)  # the sixth waits for the second window to move


def test_a_clock_that_goes_back_does_not_make_room() -> None:
    limit = RateLimit((1, 10.0))
    assert limit.allow(50.0) == 0.0
    assert limit.allow(40.0) == pytest.approx(20.0)
    assert limit.allow(55.0) == pytest.approx(5.0)


def test_retry_delay_doubles_with_jitter_and_a_cap() -> None:
    rng = random.Random(7)
    delays = [retry_delay(n, rng, base=5.0, cap=300.0) for n in range(1, 10)]
    steps = [min(300.0, 5.0 * 2 ** (n - 1)) for n in range(1, 10)]
    assert all(step / 2 <= d <= step for d, step in zip(delays, steps, strict=True))
    assert max(delays) <= 300.0 and delays[-1] >= 150.0
    again = random.Random(7)
    assert delays == [retry_delay(n, again, base=5.0, cap=300.0) for n in range(1, 10)]  # seeded: reproducible
    assert len(set(retry_delay(3, random.Random(seed)) for seed in range(20))) > 1  # jittered, not fixed


def test_the_service_can_ask_for_a_longer_wait_than_the_back_off() -> None:
    policy = POLICIES["dingtalk"]
    rng = random.Random(1)
    assert policy.next_delay(RetryLater("130101", 600.0), 1, rng) == 600.0
    assert 2.5 <= policy.next_delay(RetryLater("timeout"), 1, rng) <= 5.0
    assert 2.5 <= policy.next_delay(Permanent("x"), 1, rng) <= 5.0


def test_a_delivery_is_dead_after_max_attempts() -> None:
    policy = POLICIES["sms"]
    assert not policy.is_dead(policy.max_attempts - 1) and policy.is_dead(policy.max_attempts)
    assert all(p.max_attempts >= 1 for p in POLICIES.values())
