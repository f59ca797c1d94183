"""The three answers a channel gives, and the protocol every channel follows.

A channel never raises for a remote failure: a throttled, unavailable or unreachable service is
``RetryLater`` (with the wait it asked for, when it said), a refusal that a retry cannot fix (bad
signature, bad keyword, invalid key, a 4xx) is ``Permanent``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .message import Notification


@dataclass(frozen=True, slots=True)
class Delivered:
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RetryLater:
    reason: str
    after_seconds: float | None = None  # what the service asked for (Retry-After, a known window)


@dataclass(frozen=True, slots=True)
class Permanent:
    reason: str


Outcome = Delivered | RetryLater | Permanent


class Channel(Protocol):
    kind: str  # "webhook", "wecom", "dingtalk", "feishu", "smtp", "sms"

    def send(self, notification: Notification) -> Outcome: ...
