"""Builds the notifier from the serve config: one route per configured channel, with its policy.

Channel settings are the channel modules' own (``engine/service/notify/``); this module adds what the
service decides: which roles a channel serves (``roles:``), which tenants' messages it takes
(``tenants:``, else every tenant's) and how many attempts make a delivery dead (``max_attempts:``, else
the channel's published policy). The config file's schema checks each of them at its line and column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import UnusableInputError
from .desk import Desk
from .metrics import Metrics
from .notifier import Notifier, Route
from .notify.config import ConfigError as ChannelConfigError
from .notify.policy import POLICIES, DeliveryPolicy
from .notify.registry import build_channel
from .notify.transport import Transport

SERVICE_KEYS = ("roles", "tenants", "max_attempts")


def build_notifier(
    desk: Desk,
    metrics: Metrics,
    channels: Mapping[str, Mapping[str, Any]],
    *,
    base_url: str,
    wall_clock: Callable[[], float],
    env: Mapping[str, str],
    lease_seconds: float = 15.0,
) -> Notifier | None:
    """The notifier for the configured channels, or None when there are none. Signatures use the wall
    clock (the services check it), and so do the leases on sends in flight; when deliveries are due follows
    the desk's clock."""
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
        roles, tenants = raw.get("roles"), raw.get("tenants")
        routes[name] = Route(
            name,
            sender,
            policy.rate_limit().allow,
            int(raw.get("max_attempts") or policy.max_attempts),
            frozenset(roles) if roles else None,
            frozenset(tenants) if tenants else None,
        )
    return Notifier(desk, metrics, routes, base_url=base_url, wall_clock=wall_clock, lease_seconds=lease_seconds)
