"""Builds the notifier from the serve config: one route per configured channel, with its policy.

Channel settings are the channel modules' own (``engine/service/notify/``); this module adds what the
service decides: which roles a channel serves (``roles:``), how many attempts make a delivery dead
(``max_attempts:``, else the channel's published policy), how a channel's answer becomes a delivery's
fate, and how a rendered notification is kept in the delivery table (plain JSON) and read back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from ..errors import UnusableInputError
from .desk import Desk
from .metrics import Metrics
from .notifier import Notifier, Route
from .notify.config import ConfigError as ChannelConfigError
from .notify.message import Notification, Recipient
from .notify.outcome import Delivered, Outcome, Permanent, RetryLater
from .notify.policy import POLICIES, DeliveryPolicy, retry_delay
from .notify.registry import build_channel
from .notify.templates import render
from .notify.transport import Transport

SERVICE_KEYS = ("roles", "max_attempts")


def to_dict(notification: Notification) -> dict[str, Any]:
    return asdict(notification)


def from_dict(data: dict[str, Any]) -> Notification:
    fields = dict(data)
    fields["recipients"] = tuple(Recipient(**r) for r in fields.get("recipients", ()))
    return Notification(**fields)


def classify(outcome: Outcome) -> tuple[str, float | None, str | None]:
    if isinstance(outcome, Delivered):
        return "delivered", None, None
    if isinstance(outcome, RetryLater):
        return "retry", outcome.after_seconds, outcome.reason
    if isinstance(outcome, Permanent):
        return "dead", None, outcome.reason
    return "dead", None, f"unexpected answer {outcome!r}"


def build_notifier(
    desk: Desk,
    metrics: Metrics,
    channels: Mapping[str, Mapping[str, Any]],
    *,
    base_url: str,
    wall_clock: Callable[[], float],
    env: Mapping[str, str],
) -> Notifier | None:
    """The notifier for the configured channels, or None when there are none. Signatures use the wall
    clock (the services check it); when deliveries are due follows the desk's clock."""
    if not channels:
        return None
    transport = Transport()
    routes: dict[str, Route] = {}
    for name, raw in channels.items():
        settings = {k: v for k, v in raw.items() if k not in SERVICE_KEYS}
        try:
            sender = build_channel(name, settings, transport=transport, clock=wall_clock, env=env)
        except ChannelConfigError as exc:
            raise UnusableInputError(f"serve config: {exc}") from None
        policy = POLICIES.get(str(raw.get("kind")), DeliveryPolicy(()))
        roles = raw.get("roles")
        routes[name] = Route(
            name,
            sender,
            policy.rate_limit().allow,
            int(raw.get("max_attempts") or policy.max_attempts),
            frozenset(roles) if roles else None,
        )
    return Notifier(desk, metrics, routes, render, to_dict, from_dict, classify, retry_delay, base_url=base_url)
