"""Each channel delivers a rendered Chinese message to its fake, which checked the signature exactly as
the real service does; a wrong secret is permanent, a throttled answer retries later, bodies stay in limits."""

from __future__ import annotations

import dataclasses

from fakes.chat_robots import FakeDingTalk, FakeFeishu, FakeWecom
from fakes.fixtures import FakeClock
from fakes.receivers import FakeSmsGateway, FakeWebhookReceiver
from fakes.smtp import FakeSmtp

from complaintflow.service.notify.dingtalk import DingTalkChannel, DingTalkConfig, sign
from complaintflow.service.notify.feishu import BODY_MAX_BYTES, FeishuChannel, FeishuConfig
from complaintflow.service.notify.message import Notification, Recipient
from complaintflow.service.notify.outcome import Delivered, Permanent, RetryLater
from complaintflow.service.notify.sms import HttpSmsConfig, HttpSmsProvider, SmsChannel, SmsConfig
from complaintflow.service.notify.smtp import SmtpChannel, SmtpConfig
from complaintflow.service.notify.transport import Transport
from complaintflow.service.notify.webhook import WebhookChannel, WebhookConfig
from complaintflow.service.notify.wecom import MARKDOWN_MAX_BYTES, WecomChannel, WecomConfig

LONG = "投诉内容很长。" * 3000  # 63,000 bytes of Chinese


def _long(n: Notification) -> Notification:
    return dataclasses.replace(n, text_zh=n.text_zh + LONG, text_en=n.text_en + "long " * 5000)


# -- signed webhook ----------------------------------------------------------------------------------------


def _webhook(
    fake: FakeWebhookReceiver, transport: Transport, clock: FakeClock, secret: str = "whsec-1"
) -> WebhookChannel:
    return WebhookChannel(WebhookConfig(url=fake.url, secret=secret), transport, clock)


def test_webhook_delivers_a_signed_cloudevent(fake_webhook, transport, clock, breach) -> None:
    assert _webhook(fake_webhook, transport, clock).send(breach) == Delivered("HTTP 200")
    [request] = fake_webhook.accepted
    event = request.json
    assert event["specversion"] == "1.0" and event["id"] == breach.delivery_id
    assert event["type"] == "cn.complaintflow.deadline_breached" and event["subject"] == breach.case_id
    assert event["data"]["text"]["zh"] == breach.text_zh and "已超时" in event["data"]["title"]["zh"]
    assert fake_webhook.count(breach.delivery_id) == 1


def test_webhook_with_a_wrong_secret_is_permanent(fake_webhook, transport, clock, breach) -> None:
    outcome = _webhook(fake_webhook, transport, clock, secret="other").send(breach)
    assert isinstance(outcome, Permanent) and "401" in outcome.reason
    assert fake_webhook.count(breach.delivery_id) == 0


def test_webhook_stale_timestamp_is_refused_by_the_receiver(fake_webhook, transport, clock, breach) -> None:
    channel = WebhookChannel(WebhookConfig(url=fake_webhook.url, secret="whsec-1"), transport, lambda: clock() - 3600)
    assert isinstance(channel.send(breach), Permanent)


def test_webhook_throttled_retries_after_what_the_receiver_asked(fake_webhook, transport, clock, breach) -> None:
    fake_webhook.throttle_first = 1
    channel = _webhook(fake_webhook, transport, clock)
    assert channel.send(breach) == RetryLater("HTTP 429", 7.0)
    assert channel.send(breach) == Delivered("HTTP 200")
    assert fake_webhook.count(breach.delivery_id) == 1 and len(fake_webhook.received) == 2


def test_webhook_cuts_texts_to_its_size_limit(fake_webhook, transport, clock, breach) -> None:
    channel = WebhookChannel(WebhookConfig(url=fake_webhook.url, secret="whsec-1", max_bytes=8192), transport, clock)
    assert isinstance(channel.send(_long(breach)), Delivered)
    [request] = fake_webhook.accepted
    assert len(request.body) <= 8192 and request.json["data"]["text"]["zh"].endswith("（已截断 truncated）")


def test_unreachable_service_retries_later(transport, clock, breach) -> None:
    with FakeWebhookReceiver("whsec-1", clock=clock) as fake:
        url = fake.url
    outcome = WebhookChannel(WebhookConfig(url=url, secret="whsec-1"), transport, clock).send(breach)
    assert isinstance(outcome, RetryLater) and "unreachable" in outcome.reason


def test_a_server_error_retries_later(transport, clock, breach) -> None:
    class Broken(FakeWebhookReceiver):
        def handle(self, request):  # type: ignore[no-untyped-def]
            return 503, {"error": "down"}

    with Broken("whsec-1", clock=clock) as fake:
        assert _webhook(fake, transport, clock).send(breach) == RetryLater("HTTP 503", None)


# -- WeCom ----------------------------------------------------------------------------------------------------


def test_wecom_delivers_markdown_mentioning_user_ids(fake_wecom: FakeWecom, transport, breach) -> None:
    assert WecomChannel(WecomConfig(url=fake_wecom.url, key="wecom-key-1"), transport).send(breach) == Delivered()
    [request] = fake_wecom.accepted
    content = request.json["markdown"]["content"]
    assert request.json["msgtype"] == "markdown" and breach.text_zh.splitlines()[0] in content
    assert "<@wangfang>" in content and "<@liqiang>" in content
    assert fake_wecom.count(breach.delivery_id) == 1


def test_wecom_mentions_mobile_only_people_in_a_text_message(fake_wecom: FakeWecom, transport, breach) -> None:
    people = (Recipient("u3", "赵六", {"mobile": "13900000003"}), *breach.recipients)
    n = dataclasses.replace(breach, recipients=people)
    assert WecomChannel(WecomConfig(url=fake_wecom.url, key="wecom-key-1"), transport).send(n) == Delivered()
    text = fake_wecom.accepted[0].json["text"]
    assert text["mentioned_mobile_list"] == ["13900000003"] and text["mentioned_list"] == ["wangfang", "liqiang"]


def test_wecom_invalid_key_is_permanent(fake_wecom: FakeWecom, transport, breach) -> None:
    outcome = WecomChannel(WecomConfig(url=fake_wecom.url, key="wrong"), transport).send(breach)
    assert isinstance(outcome, Permanent) and "93000" in outcome.reason


def test_wecom_frequency_limit_retries_after_a_minute(fake_wecom: FakeWecom, transport, breach) -> None:
    fake_wecom.throttle_first = 2
    channel = WecomChannel(WecomConfig(url=fake_wecom.url, key="wecom-key-1"), transport)
    first = channel.send(breach)
    assert isinstance(first, RetryLater) and "45009" in first.reason and first.after_seconds == 60.0
    assert isinstance(channel.send(breach), RetryLater)
    assert channel.send(breach) == Delivered() and fake_wecom.count(breach.delivery_id) == 1


def test_wecom_markdown_stays_within_4096_bytes(fake_wecom: FakeWecom, transport, breach) -> None:
    assert (
        WecomChannel(WecomConfig(url=fake_wecom.url, key="wecom-key-1"), transport).send(_long(breach)) == Delivered()
    )
    content = fake_wecom.accepted[0].json["markdown"]["content"]
    assert 4000 < len(content.encode()) <= MARKDOWN_MAX_BYTES and "已截断" in content
    assert content.endswith("<@wangfang> <@liqiang>")  # the mentions survive the cut


# -- DingTalk -------------------------------------------------------------------------------------------------


def _ding(fake: FakeDingTalk, transport, clock, secret: str | None = "SECdingsecret") -> DingTalkChannel:
    return DingTalkChannel(DingTalkConfig(url=fake.url, access_token="ding-token", secret=secret), transport, clock)


def test_dingtalk_delivers_signed_markdown_at_mobiles(fake_dingtalk: FakeDingTalk, transport, clock, escalation):
    assert _ding(fake_dingtalk, transport, clock).send(escalation) == Delivered()
    [request] = fake_dingtalk.accepted
    assert request.query["timestamp"] == str(int(clock() * 1000)) and request.query["sign"]
    body = request.json
    assert body["msgtype"] == "markdown" and "升级第 1/3 级" in body["markdown"]["title"]
    assert body["at"]["atMobiles"] == ["13800000002"] and "@13800000002" in body["markdown"]["text"]
    assert fake_dingtalk.count(escalation.delivery_id) == 1


def test_dingtalk_wrong_secret_is_permanent(fake_dingtalk: FakeDingTalk, transport, clock, escalation) -> None:
    outcome = _ding(fake_dingtalk, transport, clock, secret="SECwrong").send(escalation)
    assert isinstance(outcome, Permanent) and "310000" in outcome.reason


def test_dingtalk_missing_keyword_is_permanent(transport, clock, escalation) -> None:
    with FakeDingTalk("ding-token", secret="SECdingsecret", keyword="告警", clock=clock) as fake:
        outcome = _ding(fake, transport, clock).send(escalation)  # type: ignore[arg-type]
    assert isinstance(outcome, Permanent) and "keywords" in outcome.reason


def test_dingtalk_throttled_retries_later(fake_dingtalk: FakeDingTalk, transport, clock, escalation) -> None:
    fake_dingtalk.throttle_first = 1
    outcome = _ding(fake_dingtalk, transport, clock).send(escalation)
    assert isinstance(outcome, RetryLater) and "130101" in outcome.reason


def test_dingtalk_text_stays_within_its_limit(fake_dingtalk: FakeDingTalk, transport, clock, escalation) -> None:
    assert _ding(fake_dingtalk, transport, clock).send(_long(escalation)) == Delivered()
    text = fake_dingtalk.accepted[0].json["markdown"]["text"]
    assert 19000 < len(text.encode()) <= 20000 and "已截断" in text


# -- Feishu ---------------------------------------------------------------------------------------------------


def _feishu(fake: FakeFeishu, transport, clock, secret: str | None = "feishu-secret") -> FeishuChannel:
    return FeishuChannel(FeishuConfig(url=fake.url, hook="hook-123", secret=secret), transport, clock)


def test_feishu_delivers_a_signed_bilingual_post(fake_feishu: FakeFeishu, transport, clock, breach) -> None:
    assert _feishu(fake_feishu, transport, clock).send(breach) == Delivered()
    [request] = fake_feishu.accepted
    post = request.json["content"]["post"]
    assert post["zh_cn"]["title"] == breach.title_zh and post["en_us"]["title"] == breach.title_en
    assert request.json["timestamp"] == str(int(clock()))
    assert fake_feishu.count(breach.delivery_id) == 1


def test_feishu_wrong_secret_is_permanent(fake_feishu: FakeFeishu, transport, clock, breach) -> None:
    outcome = _feishu(fake_feishu, transport, clock, secret="nope").send(breach)
    assert isinstance(outcome, Permanent) and "19021" in outcome.reason


def test_feishu_missing_keyword_is_permanent(transport, clock, breach) -> None:
    with FakeFeishu("hook-123", secret="feishu-secret", keyword="告警", clock=clock) as fake:
        outcome = _feishu(fake, transport, clock).send(breach)  # type: ignore[arg-type]
    assert isinstance(outcome, Permanent) and "19024" in outcome.reason


def test_feishu_frequency_limit_retries_later(fake_feishu: FakeFeishu, transport, clock, breach) -> None:
    fake_feishu.throttle_first = 1
    outcome = _feishu(fake_feishu, transport, clock).send(breach)
    assert isinstance(outcome, RetryLater) and "9499" in outcome.reason


def test_feishu_body_stays_within_20_kb(fake_feishu: FakeFeishu, transport, clock, breach) -> None:
    assert _feishu(fake_feishu, transport, clock).send(_long(breach)) == Delivered()
    [request] = fake_feishu.accepted
    assert len(request.body) <= BODY_MAX_BYTES and "已截断" in fake_feishu.text(request)


# -- SMTP -----------------------------------------------------------------------------------------------------


def _smtp(fake: FakeSmtp, password: str = "smtp-pass", max_bytes: int = 100 * 1024) -> SmtpChannel:
    return SmtpChannel(
        SmtpConfig(
            host="127.0.0.1",
            port=fake.port,
            sender="desk@example.cn",
            security="plain",
            username="desk@example.cn",
            password=password,
            timeout=5.0,
            max_bytes=max_bytes,
        )
    )


def test_smtp_delivers_a_utf8_message(fake_smtp: FakeSmtp, breach) -> None:
    assert _smtp(fake_smtp).send(breach) == Delivered()
    [message] = fake_smtp.messages
    assert message["Subject"] == breach.title_zh
    assert message.get_content().startswith(breach.text_zh) and breach.text_en in message.get_content()
    assert fake_smtp.envelopes[0][1] == ["wang@example.cn", "li@example.cn"]
    assert fake_smtp.count(breach.delivery_id) == 1


def test_smtp_wrong_password_is_permanent(fake_smtp: FakeSmtp, breach) -> None:
    outcome = _smtp(fake_smtp, password="wrong").send(breach)
    assert isinstance(outcome, Permanent) and "535" in outcome.reason and not fake_smtp.messages


def test_smtp_temporary_refusal_retries_later(fake_smtp: FakeSmtp, breach) -> None:
    fake_smtp.throttle_first = 1
    outcome = _smtp(fake_smtp).send(breach)
    assert isinstance(outcome, RetryLater) and "451" in outcome.reason
    assert _smtp(fake_smtp).send(breach) == Delivered() and fake_smtp.count(breach.delivery_id) == 1


def test_smtp_body_is_cut_to_its_limit(fake_smtp: FakeSmtp, breach) -> None:
    assert _smtp(fake_smtp, max_bytes=4096).send(_long(breach)) == Delivered()
    body = fake_smtp.messages[0].get_content()
    assert len(body.encode()) <= 4096 + 2 and "已截断" in body


def test_smtp_without_email_recipients_is_permanent(fake_smtp: FakeSmtp, breach) -> None:
    n = dataclasses.replace(breach, recipients=(Recipient("u9", "无邮箱", {"mobile": "13900000009"}),))
    assert isinstance(_smtp(fake_smtp).send(n), Permanent)


# -- SMS ------------------------------------------------------------------------------------------------------

TEMPLATES = {"deadline_breached": "SMS_BREACH_1", "escalated": "SMS_ESCALATE_1"}


def _sms(fake: FakeSmsGateway, transport, clock, key: str = "sms-key") -> SmsChannel:
    provider = HttpSmsProvider(HttpSmsConfig(url=fake.url, api_key=key), transport, clock)
    return SmsChannel(SmsConfig(sign_name="浩广物业", templates=TEMPLATES), provider)


def test_sms_sends_the_approved_template_with_short_variables(fake_sms: FakeSmsGateway, transport, clock, breach):
    n = dataclasses.replace(breach, facts={**breach.facts, "deadline": "超长的时限名称" * 5})
    assert isinstance(_sms(fake_sms, transport, clock).send(n), Delivered)
    [request] = fake_sms.accepted
    body = request.json
    assert body["template_code"] == "SMS_BREACH_1" and body["phone_numbers"] == ["13800000001"]
    params = body["template_param"]
    assert params["case_id"] == breach.case_id and params["role"] == breach.facts["role"]
    assert params["deadline"] == "超长的时限名称超长的时限名称超长的时限…"  # cut to 20 characters, the gateway's limit
    assert fake_sms.count(breach.delivery_id) == 1


def test_sms_wrong_key_is_permanent(fake_sms: FakeSmsGateway, transport, clock, breach) -> None:
    outcome = _sms(fake_sms, transport, clock, key="wrong").send(breach)
    assert isinstance(outcome, Permanent) and "SignatureDoesNotMatch" in outcome.reason


def test_sms_throttled_retries_later(fake_sms: FakeSmsGateway, transport, clock, breach) -> None:
    fake_sms.throttle_first = 1
    outcome = _sms(fake_sms, transport, clock).send(breach)
    assert isinstance(outcome, RetryLater) and "BUSINESS_LIMIT_CONTROL" in outcome.reason


def test_sms_without_an_approved_template_is_permanent(fake_sms: FakeSmsGateway, transport, clock, breach) -> None:
    n = dataclasses.replace(breach, kind="deadline_warning")
    assert isinstance(_sms(fake_sms, transport, clock).send(n), Permanent) and not fake_sms.received


def test_wecom_mentions_only_as_many_people_as_leave_room_for_the_text(fake_wecom: FakeWecom, transport, breach):
    crowd = tuple(Recipient(f"u{i}", f"员工{i}", {"wecom_userid": f"staff_member_{i:04d}"}) for i in range(300))
    n = dataclasses.replace(_long(breach), recipients=crowd)
    assert WecomChannel(WecomConfig(url=fake_wecom.url, key="wecom-key-1"), transport).send(n) == Delivered()
    content = fake_wecom.accepted[0].json["markdown"]["content"]
    assert len(content.encode()) <= MARKDOWN_MAX_BYTES and breach.title_zh in content
    assert 30 < content.count("<@staff_member_") < 300 and content.endswith(">")


def test_dingtalk_sign_with_plus_and_slash_survives_url_encoding(fake_dingtalk, transport, clock, escalation) -> None:
    while not {"+", "/"} <= set(sign("SECdingsecret", int(clock() * 1000))):
        clock.now += 0.001  # find an instant whose signature needs escaping
    assert _ding(fake_dingtalk, transport, clock).send(escalation) == Delivered()
    assert "%2B" in _ding(fake_dingtalk, transport, clock).url()
