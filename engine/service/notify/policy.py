"""Delivery policy: how fast each channel may send, how long to wait after a failure, when to give up.

``RateLimit`` is a set of sliding windows (Feishu has two: 5 a second and 100 a minute); the caller
passes the clock, so ``allow(now)`` is a pure step: 0.0 means send now (the send is counted), anything
else is the seconds to wait (nothing counted). ``retry_delay`` is exponential back-off with
"equal jitter" (between half and all of the capped step), so retries of many messages spread out but
never come sooner than half the step. ``POLICIES`` holds each channel's published limits.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

from .outcome import Outcome, RetryLater


class SlidingWindow:
    """At most ``count`` sends in any ``period`` seconds: the instants of the last ``count`` sends are kept.

    Not a continuously refilled token bucket: one that starts full lets 2 x count through in its first
    period, and the services count sends per window, so they would throttle the second half.
    """

    def __init__(self, count: int, period: float) -> None:
        if count < 1 or period <= 0:
            raise ValueError("a rate limit needs count >= 1 and period > 0")
        self.count, self.period = count, period
        self._sent: deque[float] = deque(maxlen=count)

    def wait(self, now: float) -> float:
        if len(self._sent) < self.count:
            return 0.0
        return max(self._sent[0] + self.period - now, 0.0)

    def take(self, now: float) -> None:
        # a clock that went back must not make room: record no earlier than the latest send
        self._sent.append(max(now, self._sent[-1]) if self._sent else now)


class RateLimit:
    def __init__(self, *windows: tuple[int, float]) -> None:
        self._windows = [SlidingWindow(count, period) for count, period in windows]

    def allow(self, now: float) -> float:
        """0.0 and one send counted, or the seconds until every window has room (nothing counted)."""
        wait = max((w.wait(now) for w in self._windows), default=0.0)
        if wait == 0.0:
            for w in self._windows:
                w.take(now)
        return wait


def retry_delay(attempt: int, rng: random.Random, *, base: float = 5.0, cap: float = 3600.0) -> float:
    """Seconds before retry number ``attempt`` (1 = the first retry): jittered in [step/2, step]."""
    step = min(cap, base * 2.0 ** max(attempt - 1, 0))
    return step / 2 + rng.random() * step / 2


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    windows: tuple[tuple[int, float], ...]  # (count, seconds) per rate window
    max_attempts: int = 8  # a delivery is dead after this many failed attempts
    base: float = 5.0
    cap: float = 3600.0

    def rate_limit(self) -> RateLimit:
        return RateLimit(*self.windows)

    def is_dead(self, attempts: int) -> bool:
        return attempts >= self.max_attempts

    def next_delay(self, outcome: Outcome, attempt: int, rng: random.Random) -> float:
        """How long to wait after a failed attempt: the back-off, or longer if the service asked for it."""
        delay = retry_delay(attempt, rng, base=self.base, cap=self.cap)
        if isinstance(outcome, RetryLater) and outcome.after_seconds is not None:
            delay = max(delay, outcome.after_seconds)
        return delay


POLICIES: dict[str, DeliveryPolicy] = {
    "wecom": DeliveryPolicy(((20, 60.0),)),  # 20 messages a minute per robot
    "dingtalk": DeliveryPolicy(((20, 60.0),)),  # 20 a minute, then throttled for 10 minutes
    "feishu": DeliveryPolicy(((5, 1.0), (100, 60.0))),
    "webhook": DeliveryPolicy(((10, 1.0),)),  # our own receivers: gentle, not a published limit
    "smtp": DeliveryPolicy(((30, 60.0),)),
    "sms": DeliveryPolicy(((1, 1.0),), max_attempts=4),  # texts cost money and repeat badly
}
