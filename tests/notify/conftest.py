"""Fixtures for the notifier tests: a fake clock, one fake server per service, and the demo's events.

Every fake binds 127.0.0.1 on a free port and shares the fake clock with the channel, so signature
windows are checked against the same "now" on both sides.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fakes.chat_robots import FakeDingTalk, FakeFeishu, FakeWecom
from fakes.receivers import FakeSmsGateway, FakeWebhookReceiver
from fakes.smtp import FakeSmtp

from complaintflow import Engine
from complaintflow.demo import DemoStats, run_demo
from complaintflow.language.spec import Process
from complaintflow.resources import processes_dir
from complaintflow.service.notify.message import Notification, Recipient
from complaintflow.service.notify.templates import render
from complaintflow.service.notify.transport import Transport
from complaintflow.store.base import CaseRecord, OutboxMessage
from complaintflow.store.memory import MemoryStore

NOW = 1_759_112_280.0  # 2025-09-29 10:18 in Shanghai: the demo's morning
BASE_URL = "https://desk.example.cn"


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def transport() -> Iterator[Transport]:
    t = Transport(timeout=5.0)
    yield t
    t.close()


@pytest.fixture
def fake_wecom(clock: FakeClock) -> Iterator[FakeWecom]:
    with FakeWecom("wecom-key-1", clock=clock) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def fake_dingtalk(clock: FakeClock) -> Iterator[FakeDingTalk]:
    with FakeDingTalk("ding-token", secret="SECdingsecret", keyword="案件", clock=clock) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def fake_feishu(clock: FakeClock) -> Iterator[FakeFeishu]:
    with FakeFeishu("hook-123", secret="feishu-secret", keyword="案件", clock=clock) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def fake_webhook(clock: FakeClock) -> Iterator[FakeWebhookReceiver]:
    with FakeWebhookReceiver("whsec-1", clock=clock) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def fake_sms(clock: FakeClock) -> Iterator[FakeSmsGateway]:
    with FakeSmsGateway("sms-key", {"SMS_BREACH_1", "SMS_ESCALATE_1", "SMS_WARN_1"}, clock=clock) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def fake_smtp() -> Iterator[FakeSmtp]:
    with FakeSmtp(username="desk@example.cn", password="smtp-pass") as fake:
        yield fake


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
