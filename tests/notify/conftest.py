"""Fixtures for the notifier tests: the fakes' fixtures (tests/fakes/fixtures.py), a transport, the demo's events."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from fakes.fixtures import (  # noqa: F401 (fixtures are found by name)
    FakeClock,
    clock,
    fake_dingtalk,
    fake_feishu,
    fake_sms,
    fake_smtp,
    fake_webhook,
    fake_wecom,
    transport,
)

from complaintflow import Engine
from complaintflow.demo import DemoStats, run_demo
from complaintflow.language.spec import Process
from complaintflow.resources import processes_dir
from complaintflow.service.notify.message import Notification, Recipient
from complaintflow.service.notify.templates import render
from complaintflow.store.base import CaseRecord, OutboxMessage
from complaintflow.store.memory import MemoryStore

BASE_URL = "https://desk.example.cn"


RECIPIENTS = (
    Recipient("u1", "王芳", {"wecom_userid": "wangfang", "mobile": "13800000001", "email": "wang@example.cn"}),
    Recipient("u2", "李强", {"wecom_userid": "liqiang", "dingtalk_mobile": "13800000002", "email": "li@example.cn"}),
)


@dataclass
class DemoDay:
    """The demo's whole day on a memory store: every outbox message with its case and process."""

    messages: list[OutboxMessage]
    cases: dict[str, CaseRecord]
    processes: dict[str, Process]

    def of_kind(self, kind: str) -> list[OutboxMessage]:
        return [m for m in self.messages if m.message["kind"] == kind]

    def render(self, message: OutboxMessage, at: int | None = None) -> Notification | None:
        case = self.cases[message.case_id]
        return render(
            message,
            case,
            self.processes[case.process_hash],
            RECIPIENTS,
            base_url=BASE_URL,
            at=message.at if at is None else at,
        )


@pytest.fixture(scope="session")
def demo_day() -> DemoDay:
    counter = itertools.count(1)
    engine = Engine(MemoryStore(), new_case_id=lambda: f"C{next(counter):03d}")
    for _ in run_demo(engine, sorted(processes_dir().glob("*.yaml")), DemoStats()):
        pass
    messages = engine.store.outbox(None, 100_000)
    cases = {m.case_id: engine.case(m.case_id) for m in messages}
    processes = {c.process_hash: engine.compiled(c.process_hash).spec for c in cases.values()}
    return DemoDay(messages, cases, processes)


@pytest.fixture
def breach(demo_day: DemoDay) -> Notification:
    n = demo_day.render(demo_day.of_kind("deadline_breached")[0])
    assert n is not None
    return n


@pytest.fixture
def escalation(demo_day: DemoDay) -> Notification:
    n = demo_day.render(demo_day.of_kind("escalated")[0])
    assert n is not None
    return n
