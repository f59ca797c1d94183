"""Who sees personal data: a case's record and an event's payload as one caller may read them.

A process marks personal fields ``pii: true`` and may say which of its roles see them (``visible_to``;
without it every role of the process does). A caller is the set of roles it acts in; an empty set or None
is a caller with no role (an operator without ``--as-role``, a report, a webhook, an admin token) and sees
no personal value. Each value the caller may not see becomes ``"***"``; None stays None, since it is an
erased value and says nothing about the person. In an event payload a personal value may already be a
commitment ``{"pii": "sha256:..."}`` (the value itself is kept outside the hash chain): it becomes the
revealed value when the caller may see it and one is given, else ``"***"``. Every output masks here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from .language.spec import Field, Process
from .runtime.personal import is_commitment, reveal
from .store.base import EventRecord

HIDDEN = "***"
# The parts of an event payload that carry field values: a case's opening data, an action's inputs, and
# the fields an action or escalation step sets.
VALUE_PARTS = ("data", "inputs", "set")

Roles = Collection[str] | None


def may_see(spec: Process, field: Field, roles: Roles) -> bool:
    """Whether a caller acting in ``roles`` may read the value of ``field`` (always, when it is not pii)."""
    if not field.pii:
        return True
    allowed = spec.roles.keys() if field.visible_to is None else field.visible_to
    return any(role in allowed for role in roles or ())


def hidden_fields(spec: Process, roles: Roles) -> frozenset[str]:
    """The ids of the fields whose values the caller sees as ``"***"``."""
    return frozenset(name for name, field in spec.fields.items() if not may_see(spec, field, roles))


def mask_data(spec: Process, data: Mapping[str, Any], roles: Roles) -> dict[str, Any]:
    """``data`` (a case's record) with each value the caller may not see replaced by ``"***"``."""
    hidden = hidden_fields(spec, roles)
    return {name: HIDDEN if name in hidden and value is not None else value for name, value in data.items()}


def mask_payload(
    spec: Process, payload: Mapping[str, Any], roles: Roles, revealed: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """An event's payload as the caller may read it: ``data``, ``inputs`` and ``set`` masked field by field.

    ``revealed`` is the same payload with the personal values put back in place of their commitments;
    without it a commitment reads ``"***"`` even for a caller who may see the field.
    """
    hidden = hidden_fields(spec, roles)
    out = dict(payload)
    for part in VALUE_PARTS:
        values = payload.get(part)
        if not isinstance(values, Mapping):
            continue
        shown_values = revealed.get(part) if revealed is not None else None
        shown = shown_values if isinstance(shown_values, Mapping) else {}
        masked = {}
        for name, value in values.items():
            if is_commitment(value):  # kept beside the chain: the revealed value (None once erased), else ***
                value = shown.get(name, HIDDEN)
                value = HIDDEN if is_commitment(value) else value
            masked[name] = HIDDEN if name in hidden and value is not None else value
        out[part] = masked
    return out


def event_specs(
    events: Iterable[EventRecord], spec_of: Callable[[str], Process], current: Process
) -> list[tuple[EventRecord, Process]]:
    """Each event with the process version its case ran on when it was written (a migration changes it),
    so each is masked as that version declares its fields; ``current`` when a history does not say."""
    out, spec = [], current
    for event in events:
        if event.kind == "started" and "process_hash" in event.payload:
            spec = spec_of(event.payload["process_hash"])
        out.append((event, spec))
        if event.kind == "migrated":
            spec = spec_of(event.payload["to_hash"])
    return out


def mask_event(spec: Process, event: EventRecord, roles: Roles) -> dict[str, Any]:
    """An event's payload as the caller may read it: the personal values kept beside the chain are put
    back (``runtime.personal``) only where the caller may see them; an older store's payload holds them."""
    return mask_payload(spec, event.payload, roles, reveal(event))
