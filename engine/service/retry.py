"""Waiting for the database: ``serve`` and ``worker`` started before it answers, loops whose store went away.

``wait_for`` tries an opening again while it fails with ``StoreUnavailableError`` (the server is down,
starting or restarting; a refusal such as a wrong password is not waited for), with jittered exponential
back-off (0.5 s doubling to a 30 s cap, each step between half and all of it, like the notifier's retries)
for at most ``total`` seconds, one line per failed attempt. The clock and the sleep are passed in (cli.py
passes ``time.monotonic`` and ``time.sleep``; tests a fake clock), so this module never waits by itself.
``run_steps`` is the service loops' rhythm: a step, a wait when idle, longer waits while the store is away.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import TypeVar

from ..store.base import StoreUnavailableError
from .notify.policy import retry_delay

T = TypeVar("T")

FIRST = 0.5  # seconds before the second attempt (before jitter)
CAP = 30.0  # no wait between two attempts is longer
DEFAULT_TOTAL = 60.0  # seconds ``serve`` and ``worker`` wait for the database unless --db-wait says


def wait_for(
    attempt: Callable[[], T],
    *,
    total: float,
    now: Callable[[], float],
    sleep: Callable[[float], object],
    say: Callable[[str], object],
    rng: random.Random,
) -> T:
    """``attempt()``'s result once it stops failing with ``StoreUnavailableError``; after ``total`` seconds
    of failures, one ``StoreUnavailableError`` naming how many attempts were made in how long."""
    started = now()
    tries = 0
    while True:
        tries += 1
        try:
            return attempt()
        except StoreUnavailableError as exc:
            waited = now() - started
            left = total - waited
            if left <= 0:
                raise StoreUnavailableError(
                    f"{exc}; gave up after {tries} attempt{'s' if tries > 1 else ''} in {waited:.0f} s"
                ) from None
            delay = min(retry_delay(tries, rng, base=FIRST, cap=CAP), left)
            say(f"{exc} (attempt {tries}), retrying in {delay:.1f} s")
            sleep(delay)


def run_steps(
    name: str,
    step: Callable[[], bool],
    stopped: Callable[[], bool],
    wait: Callable[[float], object],
    poll: float,
    rng: random.Random | None = None,
) -> None:
    """A service loop (the scheduler's, the notifier's): ``step()`` until ``stopped()``, waiting ``poll``
    seconds whenever a step found nothing to do. A failed step is logged and tried again, the service keeps
    answering; while the database is away the waits grow from ``poll`` to the cap, one line each."""
    rng = rng or random.Random()
    log = logging.getLogger(f"complaintflow.{name}")
    failures = 0
    while not stopped():
        try:
            busy = step()
            failures = 0
        except StoreUnavailableError as exc:  # expected while the server restarts: no traceback
            failures += 1
            delay = max(poll, retry_delay(failures, rng, base=max(poll, FIRST), cap=CAP))
            log.warning("%s step failed (%d in a row): %s; next try in %.1f s", name, failures, exc, delay)
            wait(delay)
            continue
        except Exception:
            log.exception("%s step failed", name)
            busy = False
        if not busy:
            wait(poll)
