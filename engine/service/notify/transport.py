"""The one home of ``httpx``: a POST with a timeout that turns every network failure into an answer.

Channels hand it a URL, a body and headers and get back an ``HttpReply`` or, when the service could not
be reached (refused, reset, timed out), a ``RetryLater``. ``classify_status`` is the rule every channel
starts from: 2xx delivered, 408/429/5xx retry later (honouring Retry-After), any other 4xx permanent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from .outcome import Delivered, Outcome, Permanent, RetryLater

DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    body: bytes
    retry_after: float | None  # seconds, from a numeric Retry-After header

    def json(self) -> dict[str, Any] | None:
        """The body as a JSON object, or None when it is not one."""
        try:
            value = json.loads(self.body)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date, or nothing: the back-off decides
    return seconds if seconds >= 0 else None


class Transport:
    """One connection pool shared by the channels; ``timeout`` bounds connect, read and write of each call.

    ``use_env_proxy`` follows HTTPS_PROXY / NO_PROXY (servers inside a property company often reach the
    internet only through a proxy); tests turn it off so 127.0.0.1 is never sent to a proxy.
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, *, use_env_proxy: bool = True) -> None:
        self._client = httpx.Client(timeout=timeout, follow_redirects=False, trust_env=use_env_proxy)

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpReply | RetryLater:
        try:
            response = self._client.post(url, content=body, headers=dict(headers))
        except httpx.TimeoutException as e:
            return RetryLater(f"timed out: {type(e).__name__}")
        except httpx.TransportError as e:  # refused, reset, DNS: the service may be back soon
            return RetryLater(f"unreachable: {type(e).__name__}: {e}")
        return HttpReply(response.status_code, response.content, _retry_after(response.headers))

    def close(self) -> None:
        self._client.close()


def classify_status(reply: HttpReply) -> Outcome:
    if 200 <= reply.status < 300:
        return Delivered(f"HTTP {reply.status}")
    if reply.status in (408, 425, 429) or reply.status >= 500:
        return RetryLater(f"HTTP {reply.status}", reply.retry_after)
    return Permanent(f"HTTP {reply.status}: {reply.body[:200].decode('utf-8', 'replace')}")


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON, Chinese kept as is (the services count bytes, and \\u escapes triple them)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
