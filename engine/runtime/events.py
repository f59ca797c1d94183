"""Events and their hash chain.

Each event's hash covers its own fields, its payload's canonical text and the
previous event's hash, so editing or deleting any stored row breaks every hash
after it. ``verify_chain`` recomputes the chain from the stored text and names
the first event that does not match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import canonical
from ..store.base import CaseRecord, EventKind, EventRecord
from .personal import check

GENESIS = "0" * 64


def event_hash(
    case_id: str,
    seq: int,
    at: int,
    actor: str,
    role: str,
    kind: str,
    payload_json: str,
    prev_hash: str,
    rule: int = canonical.HASH_RULE,
) -> str:
    """The hash of a stored event under ``rule`` (docs/audit.md: rule 2 is RFC 8785 JSON, rule 1 older stores')."""
    return canonical.event_hash(rule, case_id, seq, at, actor, role, kind, payload_json, prev_hash)


def next_event(
    case_id: str,
    prev_seq: int,
    prev_hash: str,
    at: int,
    actor: str,
    role: str,
    kind: EventKind,
    payload: dict[str, Any],
    personal: dict[str, dict[str, Any]] | None = None,
) -> EventRecord:
    """The event after (prev_seq, prev_hash); ``payload`` holds commitments where ``personal`` holds values."""
    seq = prev_seq + 1
    # Encoded once: the hash, the store and the outbox all use this text.
    text, digest = canonical.encode_event(case_id, seq, at, actor, role, kind, payload, prev_hash)
    return EventRecord(case_id, seq, at, actor, role, kind, payload, prev_hash, digest, text, personal=personal)


@dataclass(frozen=True, slots=True)
class ChainProblem:
    case_id: str
    seq: int
    message: str

    def __str__(self) -> str:
        return f"case {self.case_id}: event {self.seq}: {self.message}"


def verify_chain(case: CaseRecord, events: Sequence[EventRecord]) -> list[ChainProblem]:
    """Problems with a case's stored history, empty when it is intact."""
    problems = []
    prev_hash, expected_seq = GENESIS, 1
    for event in events:
        if event.seq != expected_seq:
            problems.append(ChainProblem(case.id, expected_seq, f"missing (found event {event.seq} next)"))
            break
        if event.prev_hash != prev_hash:
            problems.append(
                ChainProblem(case.id, event.seq, "does not follow the event before it (deleted or reordered?)")
            )
            break
        text = event.payload_json or canonical.dumps(event.payload)
        try:
            recomputed = event_hash(
                event.case_id,
                event.seq,
                event.at,
                event.actor,
                event.role,
                event.kind,
                text,
                event.prev_hash,
                event.hash_rule,
            )
        except ValueError as exc:  # a payload that is not JSON, or outside what the hash rule can encode
            problems.append(ChainProblem(case.id, event.seq, f"{event.kind} at {event.at}: the stored payload {exc}"))
            break
        if recomputed != event.hash or event.case_id != case.id:
            problems.append(
                ChainProblem(case.id, event.seq, f"{event.kind} at {event.at} was altered after it was written")
            )
            break
        prev_hash, expected_seq = event.hash, expected_seq + 1
    else:
        if case.last_seq != len(events) or case.last_hash != prev_hash:
            problems.append(
                ChainProblem(
                    case.id,
                    case.last_seq,
                    f"the case row expects {case.last_seq} events but the history has {len(events)}",
                )
            )
    return problems


def personal_problems(case_id: str, events: Sequence[EventRecord]) -> list[ChainProblem]:
    """The first event whose kept personal values do not match their commitments (runtime/personal.py)."""
    erased: dict[str, int] = {}
    for event in events:
        if event.kind == "erased":
            erased.update(dict.fromkeys(event.payload.get("fields", ()), event.seq))
    for event in events:
        problem = check(event, erased)
        if problem is not None:
            return [ChainProblem(case_id, event.seq, f"{event.kind} at {event.at}: {problem}")]
    return []
