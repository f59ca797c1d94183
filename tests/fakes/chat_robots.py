"""Fake WeCom, DingTalk and Feishu robots: their URL shapes, signature checks, limits and error codes.

Chat robots carry no delivery header, so each fake finds the delivery id in the message text (the
channels append ``消息编号 Ref <id>``) to count deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any

from fakes.http_base import FakeHttpServer, Request

REF = re.compile(r"消息编号 Ref (\S+)")


def _ref(text: str) -> str:
    found = REF.search(text)
    return found.group(1) if found else ""


class FakeWecom(FakeHttpServer):
    """``POST /cgi-bin/webhook/send?key=KEY``; errcode 93000 for a wrong key, 45009 when throttled."""

    throttle_answer = (200, {"errcode": 45009, "errmsg": "api freq out of limit"})

    def __init__(self, key: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.key = key

    @property
    def url(self) -> str:
        return f"{self.base_url}/cgi-bin/webhook/send"

    def content(self, request: Request) -> str:
        body = request.json or {}
        return str((body.get(body.get("msgtype", ""), {}) or {}).get("content", ""))

    def delivery_id(self, request: Request) -> str:
        return _ref(self.content(request))

    def handle(self, request: Request) -> tuple[int, Any]:
        if request.path != "/cgi-bin/webhook/send" or request.query.get("key") != self.key:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url, hint: [fake]"}
        body = request.json
        if not isinstance(body, dict) or body.get("msgtype") not in ("markdown", "text"):
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        limit = 4096 if body["msgtype"] == "markdown" else 2048
        content = self.content(request)
        if not content:
            return 200, {"errcode": 44004, "errmsg": "empty content"}
        if len(content.encode("utf-8")) > limit:
            return 200, {"errcode": 40058, "errmsg": f"content exceed max length {limit}"}
        request.accepted = True
        return 200, {"errcode": 0, "errmsg": "ok"}


class FakeDingTalk(FakeHttpServer):
    """``POST /robot/send?access_token=T&timestamp=MS&sign=S``; 310000 for a bad sign or keyword."""

    throttle_answer = (200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})

    def __init__(self, access_token: str, secret: str | None = None, keyword: str | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.access_token, self.secret, self.keyword = access_token, secret, keyword

    @property
    def url(self) -> str:
        return f"{self.base_url}/robot/send"

    def text(self, request: Request) -> str:
        return str(((request.json or {}).get("markdown") or {}).get("text", ""))

    def delivery_id(self, request: Request) -> str:
        return _ref(self.text(request))

    def handle(self, request: Request) -> tuple[int, Any]:
        if request.path != "/robot/send" or request.query.get("access_token") != self.access_token:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        if self.secret is not None:
            timestamp = request.query.get("timestamp", "")
            if not timestamp.isdigit() or abs(int(timestamp) / 1000 - self.clock()) > 3600:
                return 200, {"errcode": 310000, "errmsg": "sign not match, more: timestamp is expired"}
            expected = base64.b64encode(
                hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(), hashlib.sha256).digest()
            ).decode()
            # parse_qs has already URL-decoded the query once, as DingTalk does
            if not hmac.compare_digest(request.query.get("sign", ""), expected):
                return 200, {"errcode": 310000, "errmsg": "sign not match"}
        text = self.text(request)
        if self.keyword is not None and self.keyword not in text:
            return 200, {"errcode": 310000, "errmsg": "keywords not in content"}
        if not text or len(text.encode("utf-8")) > 20000:
            return 200, {"errcode": 40035, "errmsg": "text too long or empty"}
        request.accepted = True
        return 200, {"errcode": 0, "errmsg": "ok"}


class FakeFeishu(FakeHttpServer):
    """``POST /open-apis/bot/v2/hook/<hook>``, signature in the body; 19021 bad sign, 9499 throttled."""

    throttle_answer = (200, {"code": 9499, "msg": "too many request", "data": {}})

    def __init__(self, hook: str, secret: str | None = None, keyword: str | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.hook, self.secret, self.keyword = hook, secret, keyword

    @property
    def url(self) -> str:
        return f"{self.base_url}/open-apis/bot/v2/hook"

    def text(self, request: Request) -> str:
        post = (((request.json or {}).get("content") or {}).get("post") or {}).get("zh_cn") or {}
        return "\n".join(item.get("text", "") for row in post.get("content", []) for item in row)

    def delivery_id(self, request: Request) -> str:
        return _ref(self.text(request))

    def handle(self, request: Request) -> tuple[int, Any]:
        if request.path != f"/open-apis/bot/v2/hook/{self.hook}":
            return 404, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid", "data": {}}
        if len(request.body) > 20 * 1024:
            return 400, {"code": 9499, "msg": "Bad Request", "data": {}}
        body = request.json if isinstance(request.json, dict) else {}
        if self.secret is not None:
            timestamp = str(body.get("timestamp", ""))
            expected = base64.b64encode(
                hmac.new(f"{timestamp}\n{self.secret}".encode(), b"", hashlib.sha256).digest()
            ).decode()
            fresh = timestamp.isdigit() and abs(int(timestamp) - self.clock()) <= 3600
            if not fresh or not hmac.compare_digest(str(body.get("sign", "")), expected):
                return 200, {
                    "code": 19021,
                    "msg": "sign match fail or timestamp is not within one hour from current time",
                    "data": {},
                }
        text = self.text(request)
        if self.keyword is not None and self.keyword not in json.dumps(body, ensure_ascii=False):
            return 200, {"code": 19024, "msg": "Key Words Not Found", "data": {}}
        if body.get("msg_type") != "post" or not text:
            return 200, {"code": 9499, "msg": "Bad Request", "data": {}}
        request.accepted = True
        return 200, {"code": 0, "msg": "success", "data": {}}
