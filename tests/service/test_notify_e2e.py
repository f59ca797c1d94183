"""A real service sends breach and escalation messages to local fake WeCom, DingTalk, Feishu, webhook and
SMTP servers, signed as the real services check; a throttled reply is retried after its wait; a
permanent refusal goes dead and is re-driven once fixed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from fakes.chat_robots import FakeDingTalk, FakeFeishu, FakeWecom
from fakes.receivers import FakeWebhookReceiver
from fakes.smtp import FakeSmtp

from .serving import eventually, serving
from .test_serve import CASE

SECRETS = {
    "CF_WECOM_KEY": "wecom-key-1",
    "CF_DING_TOKEN": "ding-token",
    "CF_DING_SECRET": "SECdingsecret",
    "CF_FEISHU_HOOK": "hook-123",
    "CF_FEISHU_SECRET": "feishu-secret",
    "CF_HOOK_SECRET": "whsec-1",
}


def _config(wecom, ding, feishu, hook, smtp) -> str:
    channels = {
        "wecom": {"kind": "wecom", "url": wecom.url, "key_env": "CF_WECOM_KEY"},
        "dingtalk": {
            "kind": "dingtalk",
            "url": ding.url,
            "access_token_env": "CF_DING_TOKEN",
            "secret_env": "CF_DING_SECRET",
        },
        "feishu": {"kind": "feishu", "url": feishu.url, "hook_env": "CF_FEISHU_HOOK", "secret_env": "CF_FEISHU_SECRET"},
        "hook": {"kind": "webhook", "url": hook.url, "secret_env": "CF_HOOK_SECRET", "max_attempts": 2},
        "mail": {
            "kind": "smtp",
            "host": "127.0.0.1",
            "port": smtp.port,
            "sender": "desk@example.cn",
            "security": "plain",
            "roles": ["receiver"],
        },
    }
    return json.dumps(
        {"scheduler": {"poll_seconds": 0.05}, "base_url": "https://desk.example.cn", "channels": channels},
        ensure_ascii=False,
    )


def test_breaches_and_escalations_reach_every_channel_signed_and_in_chinese(tmp_path):
    with (
        FakeWecom("wecom-key-1", throttle_first=1) as wecom,
        FakeDingTalk("ding-token", secret="SECdingsecret", keyword="案件") as ding,
        FakeFeishu("hook-123", secret="feishu-secret", keyword="案件") as feishu,
        FakeWebhookReceiver("a-secret-not-yet-shared") as hook,
        FakeSmtp() as smtp,
    ):
        with serving(tmp_path, config=_config(wecom, ding, feishu, hook, smtp), env=SECRETS) as served:
            with served.client(served.admin_token) as admin:
                admin.post(
                    "/v1/users",
                    json={
                        "id": "wang",
                        "name": "王芳",
                        "roles": ["receiver"],
                        "contacts": {"mobile": "13800000000", "email": "wang@example.cn", "wecom_userid": "WangFang"},
                    },
                )
                token = admin.post("/v1/tokens", json={"user": "wang"}).json()["token"]
                with served.client(token) as http:
                    case = http.post("/v1/cases", json=CASE).json()
                served.set_clock("2025-09-29 10:04")  # the 3-minute notice is breached at 10:03

                def delivered(channel: str) -> list[dict]:
                    rows = admin.get("/v1/deliveries", params={"status": "delivered"}).json()
                    return [d for d in rows if d["channel"] == channel]

                for channel in ("dingtalk", "feishu", "mail"):
                    eventually(lambda c=channel: delivered(c), f"a delivery on {channel}")
                # WeCom answered the first try with 45009 (over its rate): it waits, then goes on the next try.
                pending = eventually(
                    lambda: [
                        d
                        for d in admin.get("/v1/deliveries", params={"status": "pending"}).json()
                        if d["channel"] == "wecom" and d["attempts"] >= 1
                    ],
                    "the throttled WeCom delivery to wait",
                )
                assert "45009" in pending[0]["last_error"] or "freq" in pending[0]["last_error"]
                served.set_clock("2025-09-29 10:06")  # past the minute WeCom asked for
                eventually(lambda: delivered("wecom"), "the WeCom retry")
                # The webhook receiver does not know our secret yet: 401 is permanent, so it goes dead.
                dead = eventually(
                    lambda: [
                        d
                        for d in admin.get("/v1/deliveries", params={"status": "dead"}).json()
                        if d["channel"] == "hook"
                    ],
                    "the webhook delivery to go dead",
                )
                hook.secret = "whsec-1"  # the receiver's operator fixes it
                for d in dead:
                    assert admin.post(f"/v1/deliveries/{d['id']}/redrive").status_code == 200
                eventually(lambda: delivered("hook"), "the re-driven webhook delivery")

        breach_id = f"{case['id']}:"
        assert any("超时" in ding.text(r) or "案件" in ding.text(r) for r in ding.accepted)
        assert all(r.accepted for r in ding.received)  # every request DingTalk saw was correctly signed
        assert feishu.accepted and all(r.accepted for r in feishu.received)
        wecom_ids = [wecom.delivery_id(r) for r in wecom.accepted]
        assert wecom_ids and len(wecom_ids) == len(set(wecom_ids))  # each message once
        assert any(i.startswith(breach_id) for i in wecom_ids)
        assert smtp.messages and "https://desk.example.cn/cases/" + case["id"] in smtp.messages[0].get_content()
        assert any(r.accepted for r in hook.received)
        assert "李雷" not in json.dumps([r.json for r in ding.received], ensure_ascii=False)  # no personal data


def _hook_config(hook) -> str:
    channels = {"hook": {"kind": "webhook", "url": hook.url, "secret_env": "CF_HOOK_SECRET"}}
    return json.dumps({"scheduler": {"poll_seconds": 0.05}, "channels": channels})


def test_two_services_on_one_store_deliver_each_message_once(tmp_path, shared_address):
    """On one SQLite file, or one PostgreSQL database with no directory file: users, tokens and deliveries
    are shared, and the leases keep the two notifiers apart."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    db = shared_address
    with FakeWebhookReceiver("whsec-1") as hook:
        config = _hook_config(hook)
        with serving(tmp_path / "a", db=db, config=config, env=SECRETS) as first:
            with first.client(first.admin_token) as admin:
                admin.post("/v1/users", json={"id": "wang", "name": "王芳", "roles": ["receiver"]})
                token = admin.post("/v1/tokens", json={"user": "wang"}).json()["token"]
                with first.client(token) as http:
                    ids = [http.post("/v1/cases", json=CASE).json()["id"] for _ in range(6)]
                with serving(tmp_path / "b", db=db, config=config, env=SECRETS) as second:
                    for served in (first, second):
                        served.set_clock("2025-09-29 10:30")

                    minutes = iter(range(1, 100_000))
                    start = datetime(2025, 9, 29, 10, 30)

                    def all_sent() -> bool:
                        # The webhook's rate (10 a second) and every retry's back-off count on the services'
                        # clock: keep it running a minute a poll for as long as we wait, so a loaded machine
                        # only slows the test down (a capped clock once left two back-offs never due).
                        now = start + timedelta(minutes=next(minutes))
                        for served in (first, second):
                            served.set_clock(now.strftime("%Y-%m-%d %H:%M"))
                        rows = admin.get("/v1/deliveries", params={"limit": 1000}).json()
                        return bool(rows) and all(d["status"] == "delivered" for d in rows) and len(rows) >= 12

                    try:
                        eventually(all_sent, "every delivery to be sent", timeout=60.0)
                    except AssertionError:
                        rows = admin.get("/v1/deliveries", params={"limit": 1000}).json()
                        raise AssertionError(
                            json.dumps([(d["id"], d["status"], d["last_error"]) for d in rows])
                        ) from None
                    rows = admin.get("/v1/deliveries", params={"limit": 1000}).json()
    sent = [r.headers.get("x-complaintflow-delivery") for r in hook.received]
    assert {d["message_id"] for d in rows} == set(sent)
    twice = sorted({m for m in sent if sent.count(m) > 1})
    retried = {d["message_id"]: (d["attempts"], d["last_error"]) for d in rows if d["message_id"] in twice}
    assert not twice, f"delivered twice: {twice}; their deliveries' attempts and last errors: {retried}"
    assert {m.split(":")[0] for m in sent} == set(ids)


def test_after_kill_9_every_undelivered_message_is_delivered_once_by_the_restarted_service(tmp_path):
    import signal

    db = tmp_path / "desk.db"
    (tmp_path / "after").mkdir()
    with FakeWebhookReceiver("whsec-1", throttle_first=10**6) as hook:  # refuses everything until told
        # a send in flight at the kill is held for the lease (real time) before the new service takes it
        config = json.dumps({**json.loads(_hook_config(hook)), "notifier": {"lease_seconds": 1}})
        with serving(tmp_path, db=db, config=config, env=SECRETS) as first:
            admin_token = first.admin_token
            with first.client(admin_token) as admin:
                admin.post("/v1/users", json={"id": "wang", "name": "王芳", "roles": ["receiver"]})
                token = admin.post("/v1/tokens", json={"user": "wang"}).json()["token"]
            with first.client(token) as http:
                ids = [http.post("/v1/cases", json=CASE).json()["id"] for _ in range(4)]
            first.set_clock("2025-09-29 10:30")  # past the deadlines: breaches and escalations to deliver
            eventually(lambda: len(hook.received) >= 3, "the first (throttled) attempts")
            assert first.stop(signal.SIGKILL) == -signal.SIGKILL
        assert not hook.accepted  # nothing got through before the kill
        hook.throttle_first = 0
        with serving(tmp_path / "after", db=db, config=config, env=SECRETS, start="2025-09-29 10:30") as second:
            minutes = iter(range(31, 10_000))

            def all_delivered() -> bool:
                # back-off waits run on the service's clock: move it on a minute a poll
                minute = min(next(minutes), 59)
                second.set_clock(f"2025-09-29 10:{minute:02d}")
                with second.client(admin_token) as admin:
                    rows = admin.get("/v1/deliveries", params={"limit": 1000}).json()
                return bool(rows) and all(d["status"] == "delivered" for d in rows)

            eventually(all_delivered, "every delivery to be sent after the restart", timeout=30)
            with second.client(admin_token) as admin:
                rows = admin.get("/v1/deliveries", params={"limit": 1000}).json()
    delivered = [r.headers.get("x-complaintflow-delivery") for r in hook.accepted]
    assert sorted(delivered) == sorted(d["message_id"] for d in rows), "each message accepted exactly once"
    assert {m.split(":")[0] for m in delivered} == set(ids)
