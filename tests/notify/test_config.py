"""Channel settings from plain dicts: secrets come from the environment or a file, never inline."""

from __future__ import annotations

import pytest

from complaintflow.service.notify.config import ConfigError
from complaintflow.service.notify.dingtalk import DingTalkChannel
from complaintflow.service.notify.registry import build_channel
from complaintflow.service.notify.sms import SmsChannel
from complaintflow.service.notify.smtp import SmtpChannel
from complaintflow.service.notify.webhook import WebhookChannel


def _build(raw, env=None, transport=None):  # type: ignore[no-untyped-def]
    return build_channel("ops", raw, transport=transport, clock=lambda: 0.0, env=env or {})


def test_a_secret_from_the_environment(transport) -> None:
    channel = _build(
        {"kind": "webhook", "url": "http://127.0.0.1:9/x", "secret_env": "HOOK"}, {"HOOK": "s3"}, transport
    )
    assert isinstance(channel, WebhookChannel) and channel.config.secret == "s3"


def test_a_secret_from_a_file(tmp_path, transport) -> None:
    (tmp_path / "sec").write_text("SECabc\n", encoding="utf-8")
    raw = {"kind": "dingtalk", "access_token_env": "T", "secret_file": str(tmp_path / "sec")}
    channel = _build(raw, {"T": "tok"}, transport)
    assert isinstance(channel, DingTalkChannel) and channel.config.secret == "SECabc"
    assert channel.config.url == "https://oapi.dingtalk.com/robot/send"


@pytest.mark.parametrize(
    ("raw", "env", "message"),
    [
        ({"kind": "webhook", "url": "http://x", "secret": "inline"}, {}, "may not be written inline"),
        ({"kind": "webhook", "url": "http://x", "secret_env": "NOPE"}, {}, "environment variable NOPE"),
        ({"kind": "webhook", "url": "http://x"}, {}, "secret_env or secret_file is required"),
        ({"kind": "webhook", "url": "http://x", "secret_file": "/nonexistent/sec"}, {}, "cannot read secret_file"),
        ({"kind": "webhook", "url": "http://x", "secret_env": "S", "urll": 1}, {"S": "v"}, "unknown setting 'urll'"),
        ({"kind": "wecom"}, {}, "key_env or key_file is required"),
        ({"kind": "pager"}, {}, "kind must be one of"),
        ({"kind": "smtp", "host": "h", "sender": "a@b", "username": "u"}, {}, "password_env or password_file"),
        ({"kind": "smtp", "host": "h", "sender": "a@b", "security": "tls"}, {}, "security must be one of"),
        ({"kind": "sms", "sign_name": "x", "templates": {"escalated": "T1"}}, {}, "provider"),
    ],
)
def test_bad_settings_are_one_clear_line(raw, env, message, transport) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        _build(raw, env, transport)
    assert str(caught.value).startswith("channel ops") and "\n" not in str(caught.value)


def test_smtp_and_sms_build_from_dicts(transport) -> None:
    smtp = _build({"kind": "smtp", "host": "mail", "sender": "desk@x.cn", "security": "ssl"}, {}, transport)
    assert isinstance(smtp, SmtpChannel) and smtp.config.port == 465
    raw = {
        "kind": "sms",
        "sign_name": "浩广物业",
        "templates": {"escalated": "SMS_1"},
        "provider": {"url": "http://127.0.0.1:9/sms", "api_key_env": "K"},
    }
    sms = _build(raw, {"K": "key"}, transport)
    assert isinstance(sms, SmsChannel) and sms.config.templates == {"escalated": "SMS_1"}
