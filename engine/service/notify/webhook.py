"""Signed webhook: one CloudEvents 1.0 event (JSON, structured mode) per notification.

The body is the whole event; ``X-Complaintflow-Signature: t=<unix seconds>,v1=<hex>`` carries
HMAC-SHA256 with the shared secret over ``<t>.<body bytes>``, so a receiver checks the body it got and
refuses an old timestamp (a replay). ``X-Complaintflow-Delivery`` is the outbox message id, the same on
every retry, for the receiver to de-duplicate. Over-size bodies have their texts cut, never sent whole.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .config import Settings
from .limits import truncate_utf8, utf8_len
from .message import Notification
from .outcome import Outcome, Permanent, RetryLater
from .transport import Transport, classify_status, json_bytes

SIGNATURE_HEADER = "X-Complaintflow-Signature"
DELIVERY_HEADER = "X-Complaintflow-Delivery"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
EVENT_TYPE_PREFIX = "cn.complaintflow."


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 over ``<timestamp>.<body>``."""
    return hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    url: str
    secret: str
    source: str = "/complaintflow"
    max_bytes: int = 64 * 1024

    @classmethod
    def from_dict(cls, name: str, raw: Mapping[str, Any], env: Mapping[str, str]) -> WebhookConfig:
        s = Settings(name, raw, env)
        config = cls(
            url=s.text("url"),
            secret=s.secret() or "",
            source=s.text("source", "/complaintflow"),
            max_bytes=int(s.number("max_bytes", 64 * 1024)),
        )
        s.done()
        return config


def cloudevent(n: Notification, source: str) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": n.delivery_id,
        "source": source,
        "type": EVENT_TYPE_PREFIX + n.kind,
        "subject": n.case_id,
        "time": datetime.fromtimestamp(n.at, timezone.utc).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": {
            "case_id": n.case_id,
            "process_id": n.process_id,
            "kind": n.kind,
            "title": {"zh": n.title_zh, "en": n.title_en},
            "text": {"zh": n.text_zh, "en": n.text_en},
            "link": n.link,
            "facts": n.facts,
            "recipients": [{"user_id": r.user_id, "name": r.name} for r in n.recipients],
        },
    }


def fit_body(n: Notification, source: str, max_bytes: int) -> bytes | None:
    """The event's bytes within ``max_bytes``, its texts cut if needed; None if even that cannot fit."""
    event = cloudevent(n, source)
    body = json_bytes(event)
    text = event["data"]["text"]
    for key in ("en", "zh"):  # cut English first: Chinese is what the desk reads
        # JSON escapes make the text longer in the body than in memory: cut again until it fits
        while len(body) > max_bytes and text[key] != truncate_utf8(text[key], 0):
            budget = utf8_len(text[key]) - (len(body) - max_bytes) - 16
            text[key] = truncate_utf8(text[key], max(budget, 0))
            body = json_bytes(event)
    return body if len(body) <= max_bytes else None


class WebhookChannel:
    kind = "webhook"

    def __init__(self, config: WebhookConfig, transport: Transport, clock: Callable[[], float]) -> None:
        self.config, self._transport, self._clock = config, transport, clock

    def send(self, notification: Notification) -> Outcome:
        body = fit_body(notification, self.config.source, self.config.max_bytes)
        if body is None:
            return Permanent(f"event over {self.config.max_bytes} bytes even with its texts cut")
        timestamp = int(self._clock())
        headers = {
            "Content-Type": CONTENT_TYPE,
            SIGNATURE_HEADER: signature_header(self.config.secret, timestamp, body),
            DELIVERY_HEADER: notification.delivery_id,
        }
        reply = self._transport.post(self.config.url, body, headers)
        return reply if isinstance(reply, RetryLater) else classify_status(reply)
