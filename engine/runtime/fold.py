"""Fold events into a case row: the one place that says what each event does.

The engine decides (checks, computes due times) and writes the results into
event payloads; ``fold`` only applies them. Replaying a case's history through
it must rebuild the stored row exactly, which ``verify`` checks. Informational
events (deadline met, notifications) change nothing but the last-event fields.

Rows and payloads are never changed in place, so the new row shares every
dict an event did not touch instead of copying it, and it is built once per
commit however many events the commit holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..store.base import CaseRecord, EventRecord
from ..tenants import DEFAULT_TENANT
from .clocks import earliest_due
from .machine import CompiledProcess
from .personal import revealed


def fold(case: CaseRecord | None, events: Sequence[EventRecord], revision: int) -> CaseRecord:
    """The row after ``events`` (at least one), stamped with ``revision``."""
    first = events[0]
    if case is None:
        if first.kind != "started":
            raise ValueError(f"event {first.kind!r} before 'started'")
        p = first.payload
        case_id, process_id, process_hash, opened_at = first.case_id, p["process_id"], p["process_hash"], first.at
        state, branches, owner, clocks = p["state"], p["branches"], p["owner_role"], p["clocks"]
        tenant = p.get("tenant", DEFAULT_TENANT)
        data = revealed(first, "data")
        closed_at, last_at = None, first.at
        events = events[1:]
    else:
        case_id, process_id, process_hash, opened_at = case.id, case.process_id, case.process_hash, case.opened_at
        state, branches, data, owner, clocks = case.state, case.branches, case.data, case.owner_role, case.clocks
        closed_at, last_at, tenant = case.closed_at, case.last_at, case.tenant
    for event in events:
        kind, p = event.kind, event.payload
        if kind == "acted":
            if p["inputs"]:
                data = {**data, **revealed(event, "inputs")}
            state, branches, owner = p["state"], p["branches"], p["owner_role"]
            if p["ended"] or p["clocks"]:
                clocks = {**clocks, **p["clocks"]}
                for name in p["ended"]:
                    if name not in p["clocks"]:  # a repeating deadline ended and restarted keeps its new clock
                        del clocks[name]
            if p["final"]:
                closed_at = event.at
        elif kind == "deadline_warning":
            clock = clocks[p["deadline"]]
            if p.get("reminder"):
                clocks = _with(clocks, p["deadline"], reminded=True)
            elif clock.get("warn_later"):  # the next warning of the same clock is now the one to wait for
                later = clock["warn_later"]
                clocks = _with(clocks, p["deadline"], warn=later[0], warn_later=later[1:])
            else:
                clocks = _with(clocks, p["deadline"], warned=True)
        elif kind == "deadline_breached":
            if p.get("next_due") is None:
                clocks = _with(clocks, p["deadline"], breached=True)
            else:  # a repeating deadline: count the miss and wait for the next occurrence
                missed = clocks[p["deadline"]]["misses"] + p["missed"]
                clocks = _with(clocks, p["deadline"], misses=missed, due=p["next_due"])
        elif kind == "deadline_recomputed":
            clocks = _with(clocks, p["deadline"], due=p["due"], provisional=p["provisional"], warn=p["warn"])
            if "warn_later" in p:
                clocks = _with(clocks, p["deadline"], warn_later=p["warn_later"])
            if "warned" in p:  # an extension re-arms the warnings
                clocks = _with(clocks, p["deadline"], warned=p["warned"])
        elif kind == "escalated":
            clocks = _with(clocks, p["deadline"], step=p["step"], step_due=p["step_due"])
            if p.get("set"):
                data = {**data, **p["set"]}
            if p["do"] == "reassign":
                owner = p["role"]
        elif kind == "migrated":  # a newer version of the process: its state and clocks from here on
            process_hash, state, branches, clocks = p["to_hash"], p["state"], p["branches"], p["clocks"]
        elif kind == "erased":
            data = {**data, **{name: None for name in p["fields"] if name in data}}
        elif kind == "started":
            raise ValueError(f"case {case_id}: a second 'started' event (seq {event.seq})")
        if event.at > last_at:
            last_at = event.at
    last = events[-1] if events else first
    next_due = case.next_due if case is not None and clocks is case.clocks else earliest_due(clocks)
    return CaseRecord(
        case_id,
        process_id,
        process_hash,
        state,
        branches,
        data,
        owner,
        clocks,
        revision,
        opened_at,
        closed_at,
        last_at,
        last.hash,
        last.seq,
        next_due,
        tenant,
    )


def _with(clocks: dict[str, Any], name: str, **changes: Any) -> dict[str, Any]:
    return {**clocks, name: {**clocks[name], **changes}}


def replay(cp: CompiledProcess, events: list[EventRecord]) -> CaseRecord | None:
    """Rebuild a case from its history alone. Revision counts commits, which events do not record, so the
    rebuilt row carries revision 1 and ``verify`` compares everything but it."""
    return fold(None, events, revision=1) if events else None
