"""Case rows and event columns as the SQL stores (SQLite, PostgreSQL) keep them: one codec for both.

Both stores hold the same canonical JSON text (engine/canonical.py) in the same columns, so a history
hashes and verifies alike on either. Stored text that is not JSON (someone edited the database) reads as
a value ``verify`` then names, instead of failing the read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import canonical
from .base import CaseRecord, EventRecord, Head

CASE_COLUMNS = (
    "id, process_id, process_hash, state, branches, data, owner_role, clocks, revision, opened_at, "
    "closed_at, last_at, last_hash, last_seq, next_due, tenant"
)
# A store older than format 6 has no tenant column: every case is the default tenant's.
CASE_COLUMNS_BEFORE_TENANTS = CASE_COLUMNS.replace(", tenant", ", 'default'")
EVENT_COLUMNS = "case_id, seq, at, actor, role, kind, payload, prev_hash, hash"


def payload_from_text(text: str) -> dict[str, Any]:
    """A stored payload; text that is not JSON reads as an empty one, and verify names the event (its hash
    covers the text, which is kept beside it)."""
    try:
        value = canonical.loads(text)
    except canonical.NotJSONError:
        return {}
    return value if isinstance(value, dict) else {}


def personal_from_text(text: str | None) -> dict[str, Any] | None:
    """An event's kept personal values; text that is not JSON reads as a value no commitment matches, so
    verify names the event."""
    if text is None:
        return None
    try:
        value = canonical.loads(text)
    except canonical.NotJSONError:
        return {"?": {}}
    return value if isinstance(value, dict) else {"?": {}}


def case_row(case: CaseRecord) -> tuple[Any, ...]:
    """The values of ``CASE_COLUMNS`` for a case."""
    return (
        case.id,
        case.process_id,
        *moved_values(case),
        case.opened_at,
        case.closed_at,
        case.last_at,
        case.last_hash,
        case.last_seq,
        case.next_due,
        case.tenant,
    )


def moved_values(case: CaseRecord) -> tuple[Any, ...]:
    """What an UPDATE of a case row sets first, in this order: process_hash (a migration moves a case to a
    newer version), state, branches, data, owner_role, clocks, revision."""
    json = canonical.dumps
    return (
        case.process_hash,
        case.state,
        json(case.branches),
        json(case.data),
        case.owner_role,
        json(case.clocks),
        case.revision,
    )


def case_from_row(row: Sequence[Any]) -> CaseRecord:
    """A case from the values of ``CASE_COLUMNS``."""
    loads = canonical.loads
    return CaseRecord(
        row[0],
        row[1],
        row[2],
        row[3],
        loads(row[4]),
        loads(row[5]),
        row[6],
        loads(row[7]),
        row[8],
        row[9],
        row[10],
        row[11],
        row[12],
        row[13],
        row[14],
        row[15],
    )


def event_values(e: EventRecord) -> tuple[Any, ...]:
    """The values of ``EVENT_COLUMNS`` and then ``personal`` for an event: its payload as the text it was
    hashed from, its kept personal values as canonical text (None when it keeps none)."""
    text = e.payload_json or canonical.dumps(e.payload)
    personal = canonical.dumps(e.personal) if e.personal else None
    return (e.case_id, e.seq, e.at, e.actor, e.role, e.kind, text, e.prev_hash, e.hash, personal)


def case_and_head_from_row(row: Sequence[Any]) -> tuple[CaseRecord, Head | None]:
    """A case from ``CASE_COLUMNS`` followed by its head event's seq, at and hash (null when it names none)."""
    return case_from_row(row), (Head(row[16], row[17], row[18]) if row[16] is not None else None)
