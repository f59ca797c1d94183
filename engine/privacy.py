"""``complaintflow export CASE``: the personal data a store holds about one case, for an access request.

A person may ask what a company holds about them (PIPL article 45). For one case this gathers the fields
its process marks ``pii`` with their values, the rest of the case's record, and every place the store
keeps those values: the case row, each event that keeps them beside the chain (the values the case was
opened with, and each action's inputs), and, in histories written before store format 5, each event and
unacknowledged outbox message whose hashed payload carries them. It reads only; what is stored where, and
how ``erase`` removes it, is written in docs/privacy.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .runtime.engine import Engine
from .runtime.personal import PARTS, is_commitment


@dataclass(frozen=True, slots=True)
class Holding:
    """One place a case's personal data is kept: where, which event or message, which fields."""

    place: str  # "case row", "event" (kept beside the chain), "event payload" or "outbox" (before format 5)
    ref: str  # the case id, "seq N" or the message id
    fields: tuple[str, ...]


def personal_data(engine: Engine, case_id: str) -> dict[str, Any]:
    """The case's personal data and where the store keeps it, as plain JSON values."""
    case = engine.case(case_id)
    spec = engine.compiled(case.process_hash).spec
    personal = sorted(name for name, field in spec.fields.items() if field.pii)
    holdings = [Holding("case row", case.id, tuple(n for n in personal if n in case.data))]
    carried: dict[int, tuple[str, ...]] = {}
    for event in engine.history(case_id):
        kept = tuple(sorted({key.split(".", 1)[1] for key in event.personal or ()}))
        if kept:
            holdings.append(Holding("event", f"seq {event.seq} ({event.kind})", kept))
        fields = _carried(event.payload, personal)
        if fields:
            carried[event.seq] = fields
            holdings.append(Holding("event payload", f"seq {event.seq} ({event.kind})", fields))
    after: str | None = None
    while True:  # every unacknowledged message, page by page
        page = engine.store.outbox(after, 500)
        for message in page:
            if message.case_id == case_id and _carried(message.message.get("payload", {}), personal):
                holdings.append(Holding("outbox", message.id, _carried(message.message["payload"], personal)))
        if len(page) < 500:
            break
        after = page[-1].id
    return {
        "case": case.id,
        "process": case.process_id,
        "version": spec.version,
        "opened_at": case.opened_at,
        "personal_data": {name: case.data[name] for name in personal if name in case.data},
        "other_data": {name: value for name, value in sorted(case.data.items()) if name not in personal},
        "stored_in": [{"place": h.place, "ref": h.ref, "fields": list(h.fields)} for h in holdings if h.fields],
    }


def _carried(payload: dict[str, Any], personal: list[str]) -> tuple[str, ...]:
    """The personal fields whose values a hashed payload carries as they are (written before store format 5;
    a newer payload holds commitments): in the values a case opened with, or an action's inputs."""
    found: set[str] = set()
    for part in PARTS:
        values = payload.get(part)
        if isinstance(values, dict):
            found |= {n for n in personal if values.get(n) is not None and not is_commitment(values[n])}
    return tuple(sorted(found))


def describe(exported: dict[str, Any]) -> str:
    """The export as text for a person to read."""
    lines = [f"case {exported['case']} ({exported['process']} v{exported['version']})", "personal data:"]
    lines += [f"  {name}: {value}" for name, value in exported["personal_data"].items()] or ["  (none)"]
    lines.append("other data of the case:")
    lines += [f"  {name}: {value}" for name, value in exported["other_data"].items()] or ["  (none)"]
    lines.append("kept in:")
    lines += [f"  {h['place']} {h['ref']}: {', '.join(h['fields'])}" for h in exported["stored_in"]] or ["  (nowhere)"]
    return "\n".join(lines)
