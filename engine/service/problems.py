"""RFC 9457 problem documents: every error the API gives, one shape, a ``type`` per kind.

A client tells "not found" (404) from "refused by the process" (409/422), a stale revision (412) from a
missing ``If-Match`` (428), by ``type`` alone; ``detail`` is the one-line message a person reads.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

TYPE_BASE = "https://complaintflow.dev/problems/"


def problem(status: int, kind: str, detail: str, instance: str | None = None, **extra: Any) -> dict[str, Any]:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {"type": TYPE_BASE + kind, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body
