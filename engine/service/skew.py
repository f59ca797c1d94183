"""The service's clock set by a reference clock: several processes on one database fire by one clock.

Each ``serve`` and ``worker`` process reads its own machine's clock, and machines drift: a worker whose
clock runs 30 s fast would fire every deadline 30 s early, one whose clock runs slow would answer with
stale "overdue" views. On a PostgreSQL store, the database server's clock is the one they all reach, so
each process measures its offset from it (a round trip, halved) now and then, and tells time as its own
clock plus that offset. Between measurements it costs nothing; a failed measurement keeps the last offset.
Both clocks are passed in: ``cli.py`` gives the wall clock and ``store.postgres.database_time``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger("complaintflow.clock")
NOTEWORTHY = 1.0  # seconds apart worth a warning: deadlines are set in minutes, but 1 s is already a fault


class CorrectedClock:
    def __init__(self, local: Callable[[], float], reference: Callable[[], float], *, every: float = 60.0):
        self._local, self._reference, self._every = local, reference, every
        self.offset = 0.0  # reference minus local, as last measured
        self._measured_at: float | None = None
        self._failing = False
        self.measure()

    def __call__(self) -> float:
        now = self._local()
        if self._measured_at is None or now - self._measured_at >= self._every:
            self.measure()
            now = self._local()
        return now + self.offset

    def measure(self) -> None:
        before = self._local()
        try:
            reference = self._reference()
        except Exception as exc:  # noqa: BLE001 - the database may be away: keep telling time by the last offset
            if not self._failing:
                log.warning("cannot read the database's clock (%s); keeping an offset of %+.3f s", exc, self.offset)
            self._failing = True
            self._measured_at = before  # try again after another interval, not on every call
            return
        after = self._local()
        offset = reference - (before + after) / 2
        if abs(offset) >= NOTEWORTHY and (self._measured_at is None or abs(offset - self.offset) >= NOTEWORTHY):
            log.warning(
                "this machine's clock is %.1f s %s the database's; deadlines follow the database's clock",
                abs(offset),
                "behind" if offset > 0 else "ahead of",
            )
        elif self._measured_at is None:
            log.info("the service's clock follows the database's (this machine's is %+.3f s off)", -offset)
        self.offset, self._measured_at, self._failing = offset, after, False
