"""The notifier: turns outbox messages into deliveries, one per channel, and delivers them.

Draining and delivering are two steps. Draining reads the engine's outbox after the notifier's own
cursor, renders each message that needs one (addressed to the people who hold the role the event names)
and queues a delivery per channel, moving the cursor in the same transaction as the queued rows. Delivering
claims each due row under a short lease (of several services on one store, one sends it), sends it
outside any transaction, and records the outcome: delivered, retry later with back-off, or dead after
too many attempts. A crash after a send and before its record sends again after the lease: delivery is
at least once, and every message carries its delivery id so a receiver can drop the repeat.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..store.base import OutboxMessage
from ..store.directory import Delivery
from .desk import Desk
from .metrics import Metrics
from .notify.message import Notification, Recipient
from .notify.outcome import Channel, Delivered, Outcome, Permanent, RetryLater
from .notify.policy import retry_delay
from .notify.templates import render
from .retry import run_steps

log = logging.getLogger("complaintflow.notifier")
CURSOR = "notifier"
ADMIN_ROLE = "admin"  # the role a channel's ``roles`` names to carry the service's own notices


@dataclass
class Route:
    """One configured channel: how to send, how fast, how often to try."""

    name: str
    sender: Channel
    allow: Callable[[float], float]  # seconds to wait before the next send may go (0: now)
    max_attempts: int = 8
    roles: frozenset[str] | None = None  # only messages for these roles; None: all


def notification_from(data: dict[str, Any]) -> Notification:
    """A notification as the delivery table keeps it (plain JSON), read back."""
    fields = dict(data)
    fields["recipients"] = tuple(Recipient(**r) for r in fields.get("recipients", ()))
    return Notification(**fields)


def fate(outcome: Outcome) -> tuple[str, float | None, str | None]:
    """A channel's answer as a delivery's fate: delivered, retry (after the wait asked for), or dead."""
    if isinstance(outcome, Delivered):
        return "delivered", None, None
    if isinstance(outcome, RetryLater):
        return "retry", outcome.after_seconds, outcome.reason
    if isinstance(outcome, Permanent):
        return "dead", None, outcome.reason
    return "dead", None, f"unexpected answer {outcome!r}"


@dataclass
class Notifier:
    desk: Desk
    metrics: Metrics
    routes: Mapping[str, Route]
    base_url: str = "http://127.0.0.1:8080"
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    batch: int = 200
    wall_clock: Callable[[], float] | None = None  # times claim leases; None: the desk's clock
    lease_seconds: float = 60.0

    def drain(self) -> int:
        """Queue deliveries for new outbox messages; how many messages were read."""
        desk = self.desk

        def read() -> tuple[list[OutboxMessage], list[Delivery]]:
            messages = desk.engine.store.outbox(desk.directory.cursor(CURSOR), self.batch)
            return messages, [d for m in messages for d in self._deliveries(m)]

        messages, deliveries = desk.run(read)
        if messages:
            desk.directory.enqueue(CURSOR, messages[-1].id, deliveries, desk.now())
        return len(messages)

    def _deliveries(self, message: OutboxMessage) -> list[Delivery]:
        desk = self.desk
        role = message.message.get("payload", {}).get("role")
        if not self.routes or not role:
            return []
        case = desk.engine.store.case(message.case_id)
        process = desk.process_of(case)
        recipients = tuple(
            Recipient(u.id, u.name, dict(u.contacts)) for u in desk.directory.users_holding(process.id, role)
        )
        notification = render(message, case, process, recipients, base_url=self.base_url, at=desk.now())
        if notification is None:
            return []
        # A step with deliver: business_hours names when its message may go (the step itself happened already).
        first_try = max(desk.now(), int(message.message.get("payload", {}).get("deliver_at") or 0))
        return self._rows(notification, role, first_try)

    def announce(self, notification: Notification) -> int:
        """Queue a service notice (not from a case's outbox) for the admins, on every channel that carries
        the admin role; its delivery id keys it, so raising it again sends nothing new."""
        now = self.desk.now()
        rows = self._rows(notification, ADMIN_ROLE, now)
        return self.desk.directory.queue(rows, now) if rows else 0

    def _rows(self, notification: Notification, role: str, first_try: int) -> list[Delivery]:
        """One pending delivery of ``notification`` per channel that carries ``role``, due at ``first_try``."""
        body, message_id = asdict(notification), notification.delivery_id
        return [
            Delivery(f"{message_id}@{route.name}", message_id, route.name, body, "pending", 0, first_try, None)
            for route in self.routes.values()
            if route.roles is None or role in route.roles
        ]

    def deliver(self) -> int:
        """Send what is due; how many attempts were made."""
        desk, directory = self.desk, self.desk.directory
        now = desk.now()
        attempts = 0
        for delivery in directory.due_deliveries(now, self.batch):
            route = self.routes.get(delivery.channel)
            if route is None:
                directory.record_attempt(delivery.id, "dead", now, "channel no longer configured", now)
                continue
            if route.allow(now) > 0:
                continue  # over the channel's rate: it stays due and goes on a later step
            if not directory.claim(delivery.id, now, (self.wall_clock or self.desk.now)(), self.lease_seconds):
                continue  # another notifier took it
            outcome = route.sender.send(notification_from(delivery.notification))
            verdict, after, why = fate(outcome)
            attempts += 1
            self.metrics.delivery_attempts.labels(channel=route.name, outcome=verdict).inc()
            if verdict == "delivered":
                directory.record_attempt(delivery.id, "delivered", now, None, now)
            elif verdict == "retry" and delivery.attempts + 1 < route.max_attempts:
                wait = after if after is not None else retry_delay(delivery.attempts + 1, self.rng)
                directory.record_attempt(delivery.id, "pending", now + max(1, int(wait + 0.999)), why, now)
            else:
                log.warning("delivery %s is dead after %d attempt(s): %s", delivery.id, delivery.attempts + 1, why)
                directory.record_attempt(delivery.id, "dead", now, why, now)
        return attempts

    def step(self) -> int:
        return self.drain() + self.deliver()

    def run(self, stopped: Callable[[], bool], wait: Callable[[float], object], poll: float = 1.0) -> None:
        run_steps("notifier", lambda: self.step() > 0, stopped, wait, poll)
