"""Personal values kept beside the hash chain: a salted commitment in the payload, the value apart.

A field its process marks ``pii`` is not written into a hashed payload. In its place the payload holds
``{"pii": "sha256:<hex>"}``, the SHA-256 of a random 16-byte salt followed by the value's RFC 8785 text,
and the event carries the salt and value in ``EventRecord.personal``, which stores keep in a column of
their own. The hash covers the commitment only, so ``complaintflow erase`` can destroy the salts and
values and the history still verifies; while they are kept, ``check`` proves each one is the value the
history committed to. The salt keeps a short value (a phone number) from being found by hashing guesses.
docs/privacy.md says where each value lives.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from .. import canonical
from ..store.base import EventRecord

PARTS = ("data", "inputs")  # the payload maps that carry field values: a start's data, an action's inputs
_PREFIX = "sha256:"


def commitment(salt: str, value: Any) -> str:
    return _PREFIX + hashlib.sha256(bytes.fromhex(salt) + canonical.jcs(value)).hexdigest()


def is_commitment(value: Any) -> bool:
    return type(value) is dict and len(value) == 1 and isinstance(value.get("pii"), str)


def separate(
    payload: dict[str, Any], part: str, pii: Collection[str]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]] | None]:
    """The payload with each personal value of ``payload[part]`` replaced by its commitment, and the
    values apart; the payload unchanged and None when the part holds none (or a value is None: nothing to
    keep)."""
    values = payload[part]
    names = [name for name in values if name in pii and values[name] is not None] if pii else ()
    if not names:
        return payload, None
    kept, personal = dict(values), {}
    for name in names:
        salt = secrets.token_hex(16)
        personal[f"{part}.{name}"] = {"salt": salt, "value": values[name]}
        kept[name] = {"pii": commitment(salt, values[name])}
    return {**payload, part: kept}, personal


def revealed(event: EventRecord, part: str) -> dict[str, Any]:
    """``event.payload[part]`` with each commitment replaced by its value, or None where it was erased."""
    values: dict[str, Any] = event.payload[part]
    personal = event.personal
    if personal is None and not any(type(v) is dict for v in values.values()):
        return values  # the common case for events with no personal value: nothing to copy
    out = dict(values)
    for name, value in values.items():
        if is_commitment(value):
            kept = personal.get(f"{part}.{name}") if personal else None
            out[name] = kept["value"] if kept else None
    return out


def reveal(event: EventRecord) -> dict[str, Any]:
    """The event's payload with its personal values put back (None where erased)."""
    payload = event.payload
    parts = [part for part in PARTS if isinstance(payload.get(part), dict)]
    if not parts:
        return payload
    return {**payload, **{part: revealed(event, part) for part in parts}}


def inline_personal(history: list[EventRecord], pii: Collection[str]) -> list[tuple[int, str]]:
    """(seq, field) of each value of a ``pii`` field written inside a hashed payload, as stores before
    format 5 wrote them (a newer store writes a commitment there)."""
    found = []
    for event in history:
        for part in PARTS:
            values = event.payload.get(part)
            if isinstance(values, dict):
                found += [
                    (event.seq, name)
                    for name, value in values.items()
                    if name in pii and value is not None and not is_commitment(value)
                ]
    return found


def without(personal: dict[str, dict[str, Any]], fields: Collection[str]) -> dict[str, dict[str, Any]] | None:
    """Kept personal values less those of ``fields`` (None when nothing is left): what an erasure keeps."""
    kept = {key: value for key, value in personal.items() if key.split(".", 1)[-1] not in fields}
    return kept or None


def committed_fields(event: EventRecord) -> Iterator[tuple[str, str]]:
    """(part, field) of every commitment in the event's payload."""
    for part in PARTS:
        values = event.payload.get(part)
        if isinstance(values, dict):
            for name, value in values.items():
                if is_commitment(value):
                    yield part, name


def check(event: EventRecord, erased: Mapping[str, int]) -> str | None:
    """Why the event's kept personal values do not match what its history committed to, or None. A missing
    value is a problem unless an ``erased`` event later in the history names its field (``erased`` maps each
    erased field to the seq of its last erasure)."""
    personal = event.personal or {}
    committed = set()
    for part, name in committed_fields(event):
        key = f"{part}.{name}"
        committed.add(key)
        kept = personal.get(key)
        if kept is None:
            if erased.get(name, 0) <= event.seq:
                return f"the personal value {key} is missing, and no erasure of the case names it"
            continue
        try:
            matches = commitment(kept["salt"], kept["value"]) == event.payload[part][name]["pii"]
        except (KeyError, TypeError, ValueError):
            matches = False
        if not matches:
            return f"the personal value {key} is not the one its history committed to (edited in the store)"
    stray = sorted(set(personal) - committed)
    if stray:
        return f"personal value(s) {', '.join(stray)} kept for no commitment in the event (added in the store)"
    return None
