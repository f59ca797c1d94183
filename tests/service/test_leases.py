"""Two notifiers on one directory (SQLite file or PostgreSQL database), driven step by step on a fake
lease clock: a worker that dies mid-send is rescued and its delivery sent once by the other; a worker that
stalls past its lease has its late outcome dropped and counted; heartbeats keep a long send."""

from __future__ import annotations

import threading
from dataclasses import asdict

import pytest
from directories import T0

from complaintflow import Engine
from complaintflow.service.desk import Desk
from complaintflow.service.metrics import Metrics
from complaintflow.service.notifier import Notifier, Route
from complaintflow.service.notify.message import Notification
from complaintflow.service.notify.outcome import Delivered
from complaintflow.store.directory import Delivery

NOW = 100  # the desk's clock: the deliveries are due


class Died(BaseException):
    """The process running the notifier is gone mid-send (nothing after the send runs)."""


class Channel:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.during = lambda: None  # what happens elsewhere while this send is in flight

    def send(self, notification: Notification) -> Delivered:
        self.during()
        self.sent.append(notification.delivery_id)
        return Delivered()


def _notification(n: int) -> Notification:
    return Notification(f"c{n}:2", f"c{n}", "p", "deadline_breached", "超时", "late", "案件", "case", None, (), 1)


def _notifier(directory_place, worker: str, channel: Channel) -> Notifier:
    address, open_one, clock = directory_place
    desk = Desk(lambda: Engine(address), open_one, lambda: float(NOW))
    route = Route("hook", channel, lambda now: 0.0)
    return Notifier(desk, Metrics(), {"hook": route}, wall_clock=lambda: clock.t, lease_seconds=15, worker_id=worker)


def _queue(notifier: Notifier, *numbers: int) -> None:
    rows = [
        Delivery(f"c{n}:2@hook", f"c{n}:2", "hook", asdict(_notification(n)), "pending", 0, NOW, None) for n in numbers
    ]
    notifier.desk.directory.queue(rows, NOW)


@pytest.fixture
def two(directory_place):
    """Notifiers A and B on one directory, each with its own channel, and the lease clock."""
    _, _, clock = directory_place
    channel_a, channel_b = Channel(), Channel()
    a, b = _notifier(directory_place, "A", channel_a), _notifier(directory_place, "B", channel_b)
    yield a, b, channel_a, channel_b, clock
    for n in (a, b):
        n.desk.engine.close()


def _counter(notifier: Notifier, name: str) -> float:
    return notifier.metrics.registry.get_sample_value(name) or 0.0


def test_a_worker_that_dies_mid_send_is_rescued_and_its_delivery_sent_once_by_the_other(two):
    a, b, channel_a, channel_b, clock = two
    _queue(a, 1, 2)

    def die() -> None:
        raise Died

    channel_a.during = die
    with pytest.raises(Died):
        a.step()  # claimed c1, died inside its send: no outcome, no more beats
    assert a.desk.directory.delivery("c1:2@hook").owner == "A"
    clock.at(T0 + 5)
    assert b.step() == 1 and channel_b.sent == ["c2:2"]  # c1 is still A's: B only takes c2
    clock.at(T0 + 16)  # a whole lease without a beat from A
    b.beat()
    assert b.step() == 2  # one rescued, one sent
    assert channel_b.sent == ["c2:2", "c1:2"] and channel_a.sent == []
    assert _counter(b, "complaintflow_delivery_leases_rescued_total") == 1
    done = b.desk.directory.delivery("c1:2@hook")
    assert (done.status, done.attempts) == ("delivered", 2)  # A's attempt in flight counts
    clock.at(T0 + 40)
    assert b.step() == 0 and channel_b.sent == ["c2:2", "c1:2"]  # nothing twice


def test_a_rescued_delivery_with_no_attempts_left_goes_dead_unsent(two):
    a, b, channel_a, channel_b, clock = two
    b.routes["hook"] = Route("hook", channel_b, lambda now: 0.0, max_attempts=1)
    _queue(a, 1)

    def die() -> None:
        raise Died

    channel_a.during = die
    with pytest.raises(Died):
        a.step()  # its one attempt is lost with it
    clock.at(T0 + 16)
    b.beat()
    assert b.step() == 1  # rescued, and not sent again
    assert channel_b.sent == []
    row = b.desk.directory.delivery("c1:2@hook")
    assert (row.status, row.attempts) == ("dead", 1)
    assert "no attempts left" in (row.last_error or "")


def test_a_stalled_workers_late_outcome_is_dropped_and_counted(two):
    a, b, channel_a, channel_b, clock = two
    _queue(a, 1)

    def stall() -> None:  # A hangs past its lease; meanwhile B rescues the delivery and sends it
        clock.at(T0 + 20)
        b.step()

    channel_a.during = stall
    assert a.step() == 1
    assert channel_b.sent == ["c1:2"] and channel_a.sent == ["c1:2"]  # at least once: the receiver drops one
    assert _counter(a, "complaintflow_delivery_stale_completions_total") == 1
    assert _counter(b, "complaintflow_delivery_leases_rescued_total") == 1
    row = a.desk.directory.delivery("c1:2@hook")
    assert (row.status, row.attempts, row.owner) == ("delivered", 2, None)  # B's record, not A's


def test_heartbeats_keep_a_long_send_from_the_other_worker(two):
    a, b, channel_a, channel_b, clock = two
    _queue(a, 1)

    def long_send() -> None:  # 40 s in flight; A's heartbeat thread beats every lease/3 = 5 s
        for t in range(5, 45, 5):
            clock.at(T0 + t)
            a.beat()
            assert b.step() == 0

    channel_a.during = long_send
    assert a.step() == 1
    assert channel_a.sent == ["c1:2"] and channel_b.sent == []
    assert _counter(a, "complaintflow_delivery_stale_completions_total") == 0
    row = a.desk.directory.delivery("c1:2@hook")
    assert (row.status, row.attempts) == ("delivered", 1)


def test_a_running_notifier_beats_on_a_thread_of_its_own_and_retires_when_stopped(directory_place):
    notifier = _notifier(directory_place, "A", Channel())
    beaten = threading.Event()
    alive_then: list[list[str]] = []

    def wait(seconds: float) -> None:
        if seconds == notifier.beat_seconds:  # the heartbeat thread, after a beat
            alive_then.append([w[0] for w in notifier.desk.directory.workers()])
            beaten.set()
        else:  # the steps' thread, idle: it goes on once the heart has beaten (no time passes)
            assert beaten.wait(30)

    notifier.run(beaten.is_set, wait, poll=1.0)
    assert alive_then == [["A"]] and notifier.beat_seconds == 5.0
    assert notifier.desk.directory.workers() == []  # retired: nothing of it waits for a rescue
    notifier.desk.engine.close()
