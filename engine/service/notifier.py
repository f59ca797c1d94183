"""The notifier: turns outbox messages into deliveries, one per channel, and delivers them.

Draining and delivering are two steps. Draining reads the messages the engine's outbox still holds,
renders each message that needs one (addressed to the people of the case's tenant who hold the role the
event names), queues a delivery per channel that takes the role and the tenant, then acknowledges the
messages in the outbox. Delivering
claims each due row as this notifier's worker (of several services on one store, one sends it), sends
it outside any transaction, and records the outcome as the lease's owner: delivered, retry later with
back-off, or dead after too many attempts. A heartbeat thread keeps the worker's leases while it lives
(a long send included); each step first rescues the deliveries of workers that stopped beating, whose
attempt in flight counts. A crash after a send and before its record sends again once the lease runs
out, and a rescued sender's late outcome is dropped: delivery is at least once, and every message
carries its delivery id so a receiver can drop the repeat.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..store.base import OutboxMessage
from ..store.directory import DEFAULT_TENANT, Delivery, new_worker_id
from .desk import Desk
from .metrics import Metrics
from .notify.message import Notification, Recipient
from .notify.outcome import Channel, Delivered, Outcome, Permanent, RetryLater
from .notify.policy import retry_delay
from .notify.templates import render
from .retry import run_steps

log = logging.getLogger("complaintflow.notifier")
ADMIN_ROLE = "admin"  # the role a channel's ``roles`` names to carry the service's own notices


@dataclass
class Route:
    """One configured channel: how to send, how fast, how often to try."""

    name: str
    sender: Channel
    allow: Callable[[float], float]  # seconds to wait before the next send may go (0: now)
    max_attempts: int = 8
    roles: frozenset[str] | None = None  # only messages for these roles; None: all
    tenants: frozenset[str] | None = None  # only messages of these tenants' cases; None: every tenant's

    def takes(self, role: str, tenant: str) -> bool:
        return (self.roles is None or role in self.roles) and (self.tenants is None or tenant in self.tenants)


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
    wall_clock: Callable[[], float] | None = None  # times leases on SQLite; None: the desk's clock
    lease_seconds: float = 15.0  # a worker's leases run out this long after its last beat
    worker_id: str = field(default_factory=new_worker_id)

    @property
    def beat_seconds(self) -> float:
        """Three beats to a lease: a dead worker's claims are rescued after three missed beats."""
        return self.lease_seconds / 3

    def _wall(self) -> float:
        return (self.wall_clock or self.desk.now)()

    def beat(self) -> int:
        """This worker is alive: its leases run on (how many deliveries it holds)."""
        return self.desk.directory.beat(self.worker_id, wall_now=self._wall(), lease=self.lease_seconds)

    def rescue(self) -> int:
        """Give back the deliveries of workers that stopped beating; how many."""
        rescued = self.desk.directory.rescue(wall_now=self._wall())
        if rescued:
            self.metrics.leases_rescued.inc(rescued)
            log.warning("%d delivery(ies) rescued from a worker that stopped beating mid-send", rescued)
        return rescued

    def drain(self) -> int:
        """Queue deliveries for the messages the outbox still holds, then acknowledge them; how many messages
        were read. What is pending is the store's to say, not a cursor's: on PostgreSQL concurrent writers
        commit event positions out of order, and a cursor past the newest message read passed over an older
        one that committed after it. Queuing and acknowledging are two transactions (the directory may be
        apart from the store): a crash between them, or a second notifier reading the same messages, queues
        them again, which the delivery ids make a no-op."""
        desk = self.desk

        def read() -> tuple[list[OutboxMessage], list[Delivery]]:
            messages = desk.engine.store.outbox(None, self.batch)
            return messages, [d for m in messages for d in self._deliveries(m)]

        messages, deliveries = desk.run(read)
        if messages:
            if deliveries:
                desk.directory.queue(deliveries, desk.now())
            desk.run(lambda: desk.engine.store.ack_outbox([m.id for m in messages]))
        return len(messages)

    def _deliveries(self, message: OutboxMessage) -> list[Delivery]:
        desk = self.desk
        role = message.message.get("payload", {}).get("role")
        tenant = str(message.message.get("tenant") or DEFAULT_TENANT)
        if not role or not any(route.takes(role, tenant) for route in self.routes.values()):
            return []
        case = desk.engine.store.case(message.case_id)
        process = desk.process_of(case)
        people = desk.directory.users_holding(process.id, role, tenant)  # never another tenant's
        recipients = tuple(Recipient(u.id, u.name, dict(u.contacts)) for u in people)
        notification = render(message, case, process, recipients, base_url=self.base_url, at=desk.now())
        if notification is None:
            return []
        # A step with deliver: business_hours names when its message may go (the step itself happened already).
        first_try = max(desk.now(), int(message.message.get("payload", {}).get("deliver_at") or 0))
        return self._rows(notification, role, first_try, tenant)

    def announce(self, notification: Notification) -> int:
        """Queue a service notice (not from a case's outbox) for the admins, on every channel that carries
        the admin role (and the default tenant, the operator's); its delivery id keys it, so raising it
        again sends nothing new."""
        now = self.desk.now()
        rows = self._rows(notification, ADMIN_ROLE, now, DEFAULT_TENANT)
        return self.desk.directory.queue(rows, now) if rows else 0

    def _rows(self, notification: Notification, role: str, first_try: int, tenant: str) -> list[Delivery]:
        """One pending delivery of ``notification`` per channel that carries ``role`` and ``tenant``, due at
        ``first_try``, recording its tenant."""
        body, message_id = asdict(notification), notification.delivery_id
        return [
            Delivery(
                f"{message_id}@{route.name}", message_id, route.name, body, "pending", 0, first_try, None, None, tenant
            )
            for route in self.routes.values()
            if route.takes(role, tenant)
        ]

    def deliver(self) -> int:
        """Send what is due; how many attempts were made."""
        desk, directory = self.desk, self.desk.directory
        now = desk.now()
        attempts = 0
        for delivery in directory.due_deliveries(now, self.batch):
            route = self.routes.get(delivery.channel)
            if route is not None and route.allow(now) > 0:
                continue  # over the channel's rate: it stays due and goes on a later step
            lease = self.lease_seconds
            if not directory.claim(delivery.id, now, owner=self.worker_id, wall_now=self._wall(), lease=lease):
                continue  # another notifier took it
            if route is None:
                self._complete(delivery, "dead", now, "channel no longer configured")
                continue
            if delivery.attempts >= route.max_attempts:  # its last attempt's lease was rescued: no more tries
                spent = f"{delivery.last_error or 'the last attempt was lost'}; no attempts left"
                log.warning("delivery %s is dead after %d attempt(s): %s", delivery.id, delivery.attempts, spent)
                self._complete(delivery, "dead", now, spent, sent=False)
                continue
            outcome = route.sender.send(notification_from(delivery.notification))
            verdict, after, why = fate(outcome)
            attempts += 1
            self.metrics.delivery_attempts.labels(tenant=delivery.tenant, channel=route.name, outcome=verdict).inc()
            if verdict == "delivered":
                self._complete(delivery, "delivered", now, None)
            elif verdict == "retry" and delivery.attempts + 1 < route.max_attempts:
                wait = after if after is not None else retry_delay(delivery.attempts + 1, self.rng)
                self._complete(delivery, "pending", now + max(1, int(wait + 0.999)), why)
            else:
                log.warning("delivery %s is dead after %d attempt(s): %s", delivery.id, delivery.attempts + 1, why)
                self._complete(delivery, "dead", now, why)
        return attempts

    def _complete(self, delivery: Delivery, status: str, next_at: int, why: str | None, *, sent: bool = True) -> None:
        """Record an attempt as the lease's owner; dropped (and counted) if the lease was rescued meanwhile."""
        now = self.desk.now()
        directory = self.desk.directory
        if not directory.record_attempt(delivery.id, status, next_at, why, now, owner=self.worker_id, sent=sent):
            self.metrics.stale_completions.inc()
            log.warning("delivery %s: outcome %r dropped, the lease was rescued during the send", delivery.id, status)

    def step(self) -> int:
        """Rescue what dead workers held, queue new messages, send what is due: how much was done (each
        claim is a beat too; the heartbeat thread beats between them)."""
        return self.rescue() + self.drain() + self.deliver()

    def run(self, stopped: Callable[[], bool], wait: Callable[[float], object], poll: float = 1.0) -> None:
        """Steps until ``stopped``, with a heartbeat thread beside them (a send may take longer than a
        lease); a clean stop retires the worker, so nothing it held waits for a rescue."""
        heart = threading.Thread(target=self._beating, args=(stopped, wait), name="notifier-heartbeat", daemon=True)
        heart.start()
        try:
            run_steps("notifier", lambda: self.step() > 0, stopped, wait, poll)
        finally:
            heart.join(timeout=self.beat_seconds + 5)
            try:
                self.desk.directory.retire(self.worker_id)
            except Exception:
                log.exception("notifier: could not retire worker %s (its leases run out instead)", self.worker_id)

    def _beating(self, stopped: Callable[[], bool], wait: Callable[[float], object]) -> None:
        while not stopped():
            try:
                self.beat()
            except Exception:
                log.exception("notifier heartbeat failed")
            wait(self.beat_seconds)
