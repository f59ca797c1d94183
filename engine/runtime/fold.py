"""Fold events into a case row: the one place that says what each event does.

The engine decides (checks, computes due times) and writes the results into
event payloads; ``apply_event`` only applies them. Replaying a case's history
through it must rebuild the stored row exactly, which ``verify`` checks.
Informational events (deadline met, notifications) change nothing here.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..store.base import CaseRecord, EventRecord
from .machine import CompiledProcess


def apply_event(cp: CompiledProcess, case: CaseRecord | None, event: EventRecord) -> CaseRecord:
    payload = event.payload
    if event.kind == "started":
        return CaseRecord(
            id=event.case_id, process_id=payload["process_id"], process_hash=payload["process_hash"],
            state=payload["state"], branches=dict(payload["branches"]), data=dict(payload["data"]),
            owner_role=payload["owner_role"], clocks=dict(payload["clocks"]), revision=1, opened_at=event.at,
            closed_at=None, last_at=event.at, last_hash=event.hash, last_seq=event.seq)
    assert case is not None, f"event {event.kind!r} before 'started'"
    changes: dict[str, Any] = {}
    clocks = dict(case.clocks)
    if event.kind == "acted":
        changes["data"] = {**case.data, **payload["inputs"]}
        changes["state"], changes["branches"] = payload["state"], dict(payload["branches"])
        changes["owner_role"] = payload["owner_role"]
        for name in payload["ended"]:
            clocks.pop(name, None)
        clocks.update(payload["clocks"])
        if payload["final"]:
            changes["closed_at"] = event.at
    elif event.kind == "deadline_warning":
        clocks[payload["deadline"]] = {**clocks[payload["deadline"]], "warned": True}
    elif event.kind == "deadline_breached":
        clock = clocks[payload["deadline"]]
        if payload.get("next_due") is None:
            clocks[payload["deadline"]] = {**clock, "breached": True}
        else:  # a repeating deadline: count the miss and wait for the next occurrence
            clocks[payload["deadline"]] = {**clock, "misses": clock["misses"] + payload["missed"],
                                           "due": payload["next_due"]}
    elif event.kind == "escalated":
        clocks[payload["deadline"]] = {**clocks[payload["deadline"]], "step": payload["step"],
                                       "step_due": payload["step_due"]}
        if payload["do"] == "reassign":
            changes["owner_role"] = payload["role"]
    changes["clocks"] = clocks
    return replace(case, **changes, last_at=max(case.last_at, event.at), last_hash=event.hash, last_seq=event.seq)


def replay(cp: CompiledProcess, events: list[EventRecord]) -> CaseRecord | None:
    """Rebuild a case from its history alone (revision aside: it counts commits, which events do not record)."""
    case: CaseRecord | None = None
    for event in events:
        case = apply_event(cp, case, event)
    return case
