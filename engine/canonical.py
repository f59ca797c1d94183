"""Canonical JSON text, and the bytes an event's hash covers under each hash rule.

Every event payload and every JSON column of a case row is encoded here, once per write, as sorted-key
JSON text. Rule 2, which
every store of format 4 uses for new events, hashes the RFC 8785 (JCS) canonical JSON of an object of the
event's fields (docs/audit.md says exactly which); rule 1, kept to verify events written before a store's
upgrade, hashed an orjson array of the same fields. The only home of orjson and of rfc8785. rfc8785 is
pure Python and about 50 times slower than orjson (72 against 1.3 µs for an action's payload), so ``jcs``
uses orjson where its output is provably the JCS text (object keys all ASCII, so UTF-8 and UTF-16 orders
agree; no float, whose number form differs; integers within ±2^53, JSON's exact ones; orjson's string
escapes equal JCS's, which tests/test_canonical.py checks against rfc8785 on generated values) and
rfc8785 for anything else.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import rfc8785

_SORTED = orjson.OPT_SORT_KEYS
_SAFE = 2**53  # integers of JSON (I-JSON, RFC 7493): exactly representable as IEEE doubles
HASH_RULE = 2  # the rule new events are hashed under


class NotJSONError(ValueError):
    """Stored text that is not JSON (someone edited the store)."""


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=_SORTED).decode()


def loads(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise NotJSONError(f"is not JSON ({exc})") from None


def _orjson_is_jcs(value: Any) -> bool:
    """Whether orjson's sorted text of ``value`` is its JCS text. A loop over an explicit stack: this runs
    on every event written (about 4 µs for an action's payload, where a recursive walk takes 7)."""
    stack = [value]
    while stack:
        container = stack.pop()
        kind = type(container)
        if kind is dict:
            for key in container:
                if type(key) is not str or not key.isascii():
                    return False
            items = container.values()
        elif kind is list:
            items = container
        else:
            stack = [{"": container}]  # a bare scalar: judged as an object's member below
            continue
        for item in items:
            kind = type(item)
            if kind is str or kind is bool or item is None:
                continue
            if kind is int:
                if -_SAFE < item < _SAFE:
                    continue
                return False
            if kind is dict or kind is list:
                stack.append(item)
                continue
            return False  # floats, and anything JSON does not have
    return True


def jcs(value: Any) -> bytes:
    """The RFC 8785 canonical JSON of ``value`` (UTF-8)."""
    if _orjson_is_jcs(value):
        return orjson.dumps(value, option=_SORTED)
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(f"has no RFC 8785 form ({exc})") from None


def hash_body_v2(
    case_id: str, seq: int, at: int, actor: str, role: str, kind: str, payload_jcs: bytes, prev_hash: str
) -> bytes:
    """Rule 2: the JCS text of {actor, at, case_id, kind, payload, prev_hash, role, seq}, the payload given as
    its own JCS text (JCS of an object is its members' JCS texts in key order, so splicing it in is exact)."""
    if not (-_SAFE < seq < _SAFE and -_SAFE < at < _SAFE):
        raise ValueError("seq and at must be integers within ±2^53")
    envelope = {
        "actor": actor,
        "at": at,
        "case_id": case_id,
        "kind": kind,
        "payload": orjson.Fragment(payload_jcs),
        "prev_hash": prev_hash,
        "role": role,
        "seq": seq,
    }
    return orjson.dumps(envelope, option=_SORTED)  # ASCII keys, strings and safe integers: the JCS text


def hash_body_v1(
    case_id: str, seq: int, at: int, actor: str, role: str, kind: str, payload_json: str | bytes, prev_hash: str
) -> bytes:
    """Rule 1 (store formats 1 to 3): a JSON array of the fields around the stored payload text as it is."""
    return orjson.dumps([case_id, seq, at, actor, role, kind, orjson.Fragment(payload_json), prev_hash])


def event_hash(
    rule: int, case_id: str, seq: int, at: int, actor: str, role: str, kind: str, payload_json: str, prev_hash: str
) -> str:
    """The hex hash of a stored event under ``rule``; rule 2 canonicalizes the stored payload text anew, so
    the hash depends on the payload's JSON value, not on how the text was spelled."""
    if rule == 1:
        body = hash_body_v1(case_id, seq, at, actor, role, kind, payload_json, prev_hash)
    else:
        body = hash_body_v2(case_id, seq, at, actor, role, kind, jcs(loads(payload_json)), prev_hash)
    return hashlib.sha256(body).hexdigest()


def encode_event(
    case_id: str, seq: int, at: int, actor: str, role: str, kind: str, payload: Any, prev_hash: str
) -> tuple[str, str]:
    """A new event's payload text and hash under rule 2, in one step (once or twice per action). The text
    keeps sorted keys and each number's own form (``1.0`` stays a float when read back); the hash covers
    its JCS form, which is the same text unless the payload holds floats or keys that are not ASCII."""
    text = orjson.dumps(payload, option=_SORTED)
    canonical = text if _orjson_is_jcs(payload) else jcs(payload)
    body = hash_body_v2(case_id, seq, at, actor, role, kind, canonical, prev_hash)
    return text.decode(), hashlib.sha256(body).hexdigest()
