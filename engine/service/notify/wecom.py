"""WeCom (企业微信) group robot: POST JSON to ``<url>?key=<KEY>``.

Markdown carries the message and mentions people by WeCom user id (``<@userid>`` in the content);
markdown cannot mention by mobile, so when some recipient has only a mobile the message goes as text
with ``mentioned_list`` and ``mentioned_mobile_list``. Limits: markdown content 4096 bytes, text 2048,
20 messages a minute per robot. ``errcode`` 45009 (over the frequency limit) and -1 (busy) retry after
a minute; 93000 (invalid webhook key) and any other non-zero code are permanent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .config import Settings
from .limits import truncate_utf8
from .message import Notification
from .outcome import Outcome, RetryLater, errcode_outcome
from .transport import Transport, classify_status, json_bytes

MARKDOWN_MAX_BYTES = 4096
TEXT_MAX_BYTES = 2048
MENTIONS_MAX_BYTES = 1024  # of the 4096: the text needs room too
RETRY_CODES = {-1: "system busy", 45009: "over the robot's frequency limit (20/min)"}
PERMANENT_CODES = {93000: "invalid webhook key", 40008: "invalid message type", 44004: "empty content"}


@dataclass(frozen=True, slots=True)
class WecomConfig:
    url: str  # https://qyapi.weixin.qq.com/cgi-bin/webhook/send
    key: str

    @classmethod
    def from_dict(cls, name: str, raw: Mapping[str, Any], env: Mapping[str, str]) -> WecomConfig:
        s = Settings(name, raw, env)
        config = cls(url=s.text("url", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"), key=s.secret("key") or "")
        s.done()
        return config


def payload(n: Notification) -> dict[str, Any]:
    user_ids = n.contacts("wecom_userid")
    mobile_only = [
        r.contacts["mobile"].strip()
        for r in n.recipients
        if not r.contacts.get("wecom_userid", "").strip() and r.contacts.get("mobile", "").strip()
    ]
    if mobile_only:
        body = f"{n.title_zh}\n{n.text_zh}\n\n{n.title_en}\n{n.text_en}"
        ref = f"\n{n.reference}"
        return {
            "msgtype": "text",
            "text": {
                "content": truncate_utf8(body, TEXT_MAX_BYTES - len(ref.encode("utf-8"))) + ref,
                "mentioned_list": user_ids,
                "mentioned_mobile_list": mobile_only,
            },
        }
    mentions = " ".join(f"<@{u}>" for u in user_ids)
    if len(mentions.encode("utf-8")) > MENTIONS_MAX_BYTES:  # a huge role: mention whom fits, the text still goes
        mentions = truncate_utf8(mentions, MENTIONS_MAX_BYTES, marker="").rpartition(" ")[0]
    tail = f"\n{n.reference}" + (f"\n{mentions}" if mentions else "")
    link = f"\n[查看案件 Open case]({n.link})" if n.link else ""
    text = f"**{n.title_zh}**\n{n.text_zh}\n\n> {n.title_en}\n> " + n.text_en.replace("\n", "\n> ")
    # the mentions and the link go after the cut, so a long message still reaches its people
    content = truncate_utf8(text, MARKDOWN_MAX_BYTES - len((link + tail).encode("utf-8"))) + link + tail
    return {"msgtype": "markdown", "markdown": {"content": content}}


def classify_reply(status_outcome: Outcome, reply_json: dict[str, Any] | None) -> Outcome:
    return errcode_outcome(status_outcome, reply_json, RETRY_CODES, PERMANENT_CODES)


class WecomChannel:
    kind = "wecom"

    def __init__(self, config: WecomConfig, transport: Transport) -> None:
        self.config, self._transport = config, transport

    def send(self, notification: Notification) -> Outcome:
        url = f"{self.config.url}?{urlencode({'key': self.config.key})}"
        reply = self._transport.post(url, json_bytes(payload(notification)), {"Content-Type": "application/json"})
        if isinstance(reply, RetryLater):
            return reply
        return classify_reply(classify_status(reply), reply.json())
