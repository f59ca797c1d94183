"""The service's clock set by the database's: the offset measured over a round trip, kept between
measurements and when the database cannot be read, and a warning when the machines disagree."""

from __future__ import annotations

import logging

import pytest

from complaintflow.service.skew import CorrectedClock


class Machine:
    """A local clock the test moves, and a reference clock ``ahead`` seconds ahead of it."""

    def __init__(self, ahead: float, trip: float = 0.0) -> None:
        self.t, self.ahead, self.trip, self.reads, self.down = 1000.0, ahead, trip, 0, False

    def local(self) -> float:
        return self.t

    def reference(self) -> float:
        if self.down:
            raise ConnectionError("database not answering")
        self.reads += 1
        self.t += self.trip / 2  # half the round trip before the server reads its clock, half after
        value = self.t + self.ahead
        self.t += self.trip / 2
        return value


def test_time_is_the_local_clock_plus_the_measured_offset_remeasured_only_each_interval():
    m = Machine(ahead=30.0, trip=0.2)
    clock = CorrectedClock(m.local, m.reference, every=60)
    assert clock.offset == pytest.approx(30.0)  # the round trip halved, not counted as skew
    assert clock() == pytest.approx(m.t + 30.0)
    m.t += 59
    clock()
    assert m.reads == 1
    m.ahead = 31.0
    m.t += 2
    assert clock() == pytest.approx(m.t + 31.0) and m.reads == 2


def test_a_database_that_cannot_be_read_keeps_the_last_offset_and_says_so_once(caplog):
    m = Machine(ahead=-5.0)
    clock = CorrectedClock(m.local, m.reference, every=10)
    m.down = True
    with caplog.at_level(logging.WARNING, logger="complaintflow.clock"):
        for _ in range(3):
            m.t += 11
            assert clock() == pytest.approx(m.t - 5.0)
    assert [r.getMessage() for r in caplog.records if "cannot read" in r.getMessage()] == [
        "cannot read the database's clock (database not answering); keeping an offset of -5.000 s"
    ]
    m.down = False
    m.t += 11
    clock()
    assert m.reads == 2


def test_machines_a_second_or_more_apart_are_named_in_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="complaintflow.clock"):
        for m in (Machine(ahead=0.2), Machine(ahead=-42.0)):
            CorrectedClock(m.local, m.reference)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["this machine's clock is 42.0 s ahead of the database's; deadlines follow the database's clock"]
