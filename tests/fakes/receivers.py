"""Fake signed-webhook receiver and fake generic SMS gateway.

The receiver verifies ``X-Complaintflow-Signature`` (``t=...,v1=hex`` over ``t.body``, five minutes of
tolerance), answers 401 when it fails and 429 with Retry-After when throttled, and de-duplicates by
``X-Complaintflow-Delivery`` like a careful receiver would (``count`` still counts every delivery).
The SMS gateway verifies ``X-Sms-Signature`` the same way and answers gateway-style codes.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from fakes.http_base import FakeHttpServer, Request

TOLERANCE = 300


def verify(secret: str, header: str, body: bytes, now: float) -> bool:
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp = parts.get("t", "")
    if not timestamp.isdigit() or abs(int(timestamp) - now) > TOLERANCE:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(parts.get("v1", ""), expected)


class FakeWebhookReceiver(FakeHttpServer):
    throttle_answer = (429, {"error": "slow down"})

    def __init__(self, secret: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.secret = secret

    @property
    def url(self) -> str:
        return f"{self.base_url}/hooks/complaintflow"

    def handle(self, request: Request) -> tuple[int, Any]:
        if not verify(self.secret, request.headers.get("x-complaintflow-signature", ""), request.body, self.clock()):
            return 401, {"error": "bad signature"}
        event = request.json
        if not request.headers.get("content-type", "").startswith("application/cloudevents+json"):
            return 415, {"error": "expected application/cloudevents+json"}
        required = ("specversion", "id", "source", "type")
        if not isinstance(event, dict) or event.get("specversion") != "1.0" or not all(event.get(k) for k in required):
            return 400, {"error": "not a CloudEvents 1.0 event"}
        if event["id"] != request.headers.get("x-complaintflow-delivery"):
            return 400, {"error": "delivery header and event id differ"}
        request.accepted = True
        return 200, {"ok": True}


class FakeSmsGateway(FakeHttpServer):
    throttle_answer = (200, {"code": "isv.BUSINESS_LIMIT_CONTROL", "message": "触发分钟级流控Permits:1"})

    def __init__(self, api_key: str, templates: set[str], max_variable_chars: int = 20, **kw: Any) -> None:
        super().__init__(**kw)
        self.api_key, self.templates, self.max_variable_chars = api_key, templates, max_variable_chars

    @property
    def url(self) -> str:
        return f"{self.base_url}/sms/send"

    def delivery_id(self, request: Request) -> str:
        return str((request.json or {}).get("out_id", ""))

    def handle(self, request: Request) -> tuple[int, Any]:
        if not verify(self.api_key, request.headers.get("x-sms-signature", ""), request.body, self.clock()):
            return 200, {"code": "SignatureDoesNotMatch", "message": "Specified signature is not matched"}
        body = request.json if isinstance(request.json, dict) else {}
        if body.get("template_code") not in self.templates:
            return 200, {"code": "isv.SMS_TEMPLATE_ILLEGAL", "message": "template not approved"}
        if not body.get("phone_numbers"):
            return 200, {"code": "isv.MOBILE_NUMBER_ILLEGAL", "message": "no phone numbers"}
        params = body.get("template_param") or {}
        if any(len(str(v)) > self.max_variable_chars for v in params.values()):
            return 200, {"code": "isv.PARAM_LENGTH_LIMIT", "message": "variable too long"}
        request.accepted = True
        return 200, {"code": "OK", "message": "OK", "biz_id": f"fake-{len(self.received)}"}
