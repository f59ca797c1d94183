"""DingTalk (钉钉) custom robot: POST markdown JSON to ``<url>?access_token=TOKEN[&timestamp=T&sign=S]``.

With a signing secret, ``T`` is the time in milliseconds and ``S`` the URL-encoded base64 of
HMAC-SHA256 keyed by the secret over ``f"{T}\\n{secret}"``; DingTalk refuses a ``T`` more than an hour
off. People are mentioned by mobile (``at.atMobiles`` and ``@mobile`` in the text, which DingTalk needs
to show the mention). 20 messages a minute, then throttled: ``errcode`` 130101 or 660026 retry after
a minute; 310000 (bad signature, keyword or IP) and other codes are permanent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

from .config import Settings
from .limits import truncate_utf8
from .message import Notification
from .outcome import Outcome, RetryLater, errcode_outcome
from .transport import Transport, classify_status, json_bytes

TEXT_MAX_BYTES = 20000
RETRY_CODES = {-1: "system busy", 130101: "sending too fast", 660026: "over the robot's frequency limit"}
PERMANENT_CODES = {310000: "signature, keyword or IP check failed", 300001: "invalid access token"}


def sign(secret: str, timestamp_ms: int) -> str:
    """Base64 HMAC-SHA256(secret, "<timestamp>\\n<secret>"), not yet URL-encoded."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True, slots=True)
class DingTalkConfig:
    url: str  # https://oapi.dingtalk.com/robot/send
    access_token: str
    secret: str | None  # the robot's 加签 secret (SEC...), when signing is on

    @classmethod
    def from_dict(cls, name: str, raw: Mapping[str, Any], env: Mapping[str, str]) -> DingTalkConfig:
        s = Settings(name, raw, env)
        config = cls(
            url=s.text("url", "https://oapi.dingtalk.com/robot/send"),
            access_token=s.secret("access_token") or "",
            secret=s.secret(required=False),
        )
        s.done()
        return config


def payload(n: Notification) -> dict[str, Any]:
    mobiles = n.contacts("dingtalk_mobile") or n.contacts("mobile")
    mentions = " ".join(f"@{m}" for m in mobiles)
    link = f"\n\n[查看案件 Open case]({n.link})" if n.link else ""
    tail = f"\n\n{n.reference}" + (f"\n\n{mentions}" if mentions else "")
    text = f"### {n.title_zh}\n\n" + n.text_zh.replace("\n", "\n\n") + "\n\n---\n\n" + n.text_en.replace("\n", "\n\n")
    text = truncate_utf8(text, TEXT_MAX_BYTES - len((link + tail).encode("utf-8"))) + link + tail
    return {
        "msgtype": "markdown",
        "markdown": {"title": n.title_zh, "text": text},
        "at": {"atMobiles": mobiles, "isAtAll": False},
    }


def classify_reply(status_outcome: Outcome, reply_json: dict[str, Any] | None) -> Outcome:
    return errcode_outcome(status_outcome, reply_json, RETRY_CODES, PERMANENT_CODES)


class DingTalkChannel:
    kind = "dingtalk"

    def __init__(self, config: DingTalkConfig, transport: Transport, clock: Callable[[], float]) -> None:
        self.config, self._transport, self._clock = config, transport, clock

    def url(self) -> str:
        query = urlencode({"access_token": self.config.access_token})
        if self.config.secret:
            timestamp = int(self._clock() * 1000)
            query += f"&timestamp={timestamp}&sign={quote_plus(sign(self.config.secret, timestamp))}"
        return f"{self.config.url}?{query}"

    def send(self, notification: Notification) -> Outcome:
        body = json_bytes(payload(notification))
        reply = self._transport.post(self.url(), body, {"Content-Type": "application/json"})
        if isinstance(reply, RetryLater):
            return reply
        return classify_reply(classify_status(reply), reply.json())
