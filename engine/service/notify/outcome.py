"""The three answers a channel gives, and the protocol every channel follows.

A channel never raises for a remote failure: a throttled, unavailable or unreachable service is
``RetryLater`` (with the wait it asked for, when it said), a refusal that a retry cannot fix (bad
signature, bad keyword, invalid key, a 4xx) is ``Permanent``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

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


def errcode_outcome(
    status_outcome: Outcome,
    reply_json: dict[str, Any] | None,
    retry_codes: Mapping[int, str],
    permanent_codes: Mapping[int, str],
) -> Outcome:
    """The answer of a robot that replies 200 with ``{"errcode", "errmsg"}`` (WeCom, DingTalk): 0 is
    delivered, a throttling code is retried after a minute, any other code is a refusal."""
    if not isinstance(status_outcome, Delivered):
        return status_outcome
    if reply_json is None:
        return RetryLater("answer is not JSON")
    code = reply_json.get("errcode")
    if code == 0:
        return Delivered()
    reason = f"errcode {code}: {reply_json.get('errmsg', '')}"
    if not isinstance(code, int):
        return Permanent(reason)
    if code in retry_codes:
        return RetryLater(f"{reason} ({retry_codes[code]})", 60.0)
    return Permanent(f"{reason} ({permanent_codes.get(code, 'refused')})")
