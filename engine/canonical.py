"""Canonical JSON text: object keys sorted, no spaces, non-ASCII kept as UTF-8.

Every event payload and every JSON column of a case row is encoded here, once
per write. The hash chain covers the very text the store keeps, so verifying a
history never depends on re-encoding. The only home of orjson, chosen because
it encodes a sorted-key payload about 6x faster than the standard library
(0.9 µs against 5.5 µs for an action's payload) and decodes 4x faster; for the
values the engine accepts (text, 64-bit integers, finite floats, booleans) its
output equals ``json.dumps(v, ensure_ascii=False, sort_keys=True,
separators=(",", ":"))`` except for the exponent form of very large or small
floats, which the chain never re-derives.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

_SORTED = orjson.OPT_SORT_KEYS


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=_SORTED).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)


def hash_body(
    case_id: str, seq: int, at: int, actor: str, role: str, kind: str, payload_json: str | bytes, prev_hash: str
) -> bytes:
    """The bytes an event's hash covers: a JSON array of its fields around the stored payload text."""
    return orjson.dumps([case_id, seq, at, actor, role, kind, orjson.Fragment(payload_json), prev_hash])


def encode_event(
    case_id: str, seq: int, at: int, actor: str, role: str, kind: str, payload: Any, prev_hash: str
) -> tuple[str, str]:
    """A new event's payload text and hash, in one step (this runs once or twice per action)."""
    text = orjson.dumps(payload, option=_SORTED)
    body = hash_body(case_id, seq, at, actor, role, kind, text, prev_hash)
    return text.decode(), hashlib.sha256(body).hexdigest()
