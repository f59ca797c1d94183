"""Feishu/Lark (飞书) custom bot: POST a ``post`` (rich text) message to ``<url>/<hook token>``.

With a signing secret the body carries ``timestamp`` (seconds) and ``sign``: the base64 of HMAC-SHA256
keyed by ``f"{timestamp}\\n{secret}"`` over an empty message (Feishu's formula differs from DingTalk's).
Limits: 5 a second and 100 a minute per bot, request body at most 20 KB. ``code`` 9499 and 11232
(frequency limited) and HTTP 429 retry later; 19021 (signature mismatch or stale timestamp), 19022 (IP
not allowed), 19024 (keyword missing) and other codes are permanent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .config import Settings
from .limits import truncate_utf8, utf8_len
from .message import Notification
from .outcome import Delivered, Outcome, Permanent, RetryLater
from .transport import Transport, classify_status, json_bytes

BODY_MAX_BYTES = 20 * 1024
RETRY_CODES = {9499: "too many requests", 11232: "frequency limited"}
PERMANENT_CODES = {19021: "signature mismatch or stale timestamp", 19022: "IP not allowed", 19024: "keyword missing"}


def sign(secret: str, timestamp: int) -> str:
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True, slots=True)
class FeishuConfig:
    url: str  # https://open.feishu.cn/open-apis/bot/v2/hook (the hook token is a secret, appended)
    hook: str
    secret: str | None

    @classmethod
    def from_dict(cls, name: str, raw: Mapping[str, Any], env: Mapping[str, str]) -> FeishuConfig:
        s = Settings(name, raw, env)
        config = cls(
            url=s.text("url", "https://open.feishu.cn/open-apis/bot/v2/hook"),
            hook=s.secret("hook") or "",
            secret=s.secret(required=False),
        )
        s.done()
        return config


def _post(title: str, text: str, link: str | None, link_text: str, reference: str) -> dict[str, Any]:
    rows: list[list[dict[str, str]]] = [[{"tag": "text", "text": line}] for line in text.split("\n")]
    if link:
        rows.append([{"tag": "a", "text": link_text, "href": link}])
    rows.append([{"tag": "text", "text": reference}])
    return {"title": title, "content": rows}


def payload(n: Notification, zh: str, en: str) -> dict[str, Any]:
    return {
        "msg_type": "post",
        "content": {
            "post": {
                "zh_cn": _post(n.title_zh, zh, n.link, "查看案件", n.reference),
                "en_us": _post(n.title_en, en, n.link, "Open case", n.reference),
            }
        },
    }


def fit(n: Notification, extra: dict[str, Any]) -> bytes:
    """The body within BODY_MAX_BYTES: the texts are cut (English first) until it fits."""
    zh, en = n.text_zh, n.text_en
    body = json_bytes({**extra, **payload(n, zh, en)})
    while len(body) > BODY_MAX_BYTES and (en or zh):
        excess = len(body) - BODY_MAX_BYTES + 64
        if en:
            en = truncate_utf8(en, max(utf8_len(en) - excess, 0)) if utf8_len(en) > excess else ""
        else:
            zh = truncate_utf8(zh, max(utf8_len(zh) - excess, 0)) if utf8_len(zh) > excess else ""
        body = json_bytes({**extra, **payload(n, zh, en)})
    return body


def classify_reply(status_outcome: Outcome, reply_json: dict[str, Any] | None) -> Outcome:
    if reply_json is not None and isinstance(status_outcome, Permanent):
        status_outcome = Delivered()  # Feishu answers some refusals with HTTP 400 and a code: read the code
    if not isinstance(status_outcome, Delivered):
        return status_outcome
    if reply_json is None:
        return RetryLater("answer is not JSON")
    code = reply_json.get("code", reply_json.get("StatusCode"))
    if code == 0:
        return Delivered()
    reason = f"code {code}: {reply_json.get('msg', reply_json.get('StatusMessage', ''))}"
    if code in RETRY_CODES:
        return RetryLater(f"{reason} ({RETRY_CODES[code]})", 1.0 if code == 9499 else 60.0)
    return Permanent(f"{reason} ({PERMANENT_CODES.get(code, 'refused')})" if isinstance(code, int) else reason)


class FeishuChannel:
    kind = "feishu"

    def __init__(self, config: FeishuConfig, transport: Transport, clock: Callable[[], float]) -> None:
        self.config, self._transport, self._clock = config, transport, clock

    def send(self, notification: Notification) -> Outcome:
        extra: dict[str, Any] = {}
        if self.config.secret:
            timestamp = int(self._clock())
            extra = {"timestamp": str(timestamp), "sign": sign(self.config.secret, timestamp)}
        url = f"{self.config.url.rstrip('/')}/{self.config.hook}"
        reply = self._transport.post(url, fit(notification, extra), {"Content-Type": "application/json"})
        if isinstance(reply, RetryLater):
            return reply
        return classify_reply(classify_status(reply), reply.json())
