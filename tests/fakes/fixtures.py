"""Pytest fixtures for the fakes, for any test folder: ``from fakes.fixtures import clock, fake_wecom, ...``
in a conftest.py (fixtures are found by name). Every fake binds 127.0.0.1 on a free port and shares
the fake clock with the channel under test, so signature windows are checked against one "now".
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from complaintflow.service.notify.transport import Transport
from fakes.chat_robots import FakeDingTalk, FakeFeishu, FakeWecom
from fakes.receivers import FakeSmsGateway, FakeWebhookReceiver
from fakes.smtp import FakeSmtp

NOW = 1_759_112_280.0  # 2025-09-29 10:18 in Shanghai: the demo's morning


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
    t = Transport(timeout=5.0, use_env_proxy=False)
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
