"""Sealing a store: verify every case, then commit each case's head into one Merkle root.

A seal reads the case rows once (one consistent snapshot of the heads), checks each case with the
engine's own ``verify`` (hash chain and replay) and that its history still holds the head read, runs the
store-wide checks of audit/verify.py, and refuses to vouch for a store that does not verify. Writers are
not held up: events only ever append, so a case that moves on during the seal still holds the head that
was sealed. The time is an argument.
"""

from __future__ import annotations

from ..runtime.engine import Engine
from ..runtime.errors import RefusedError
from ..store.base import CaseQuery
from .checkpoint import PREFIX, Checkpoint, Head
from .merkle import leaf_text, merkle_root
from .verify import store_problems


def seal(engine: Engine, now: int) -> Checkpoint:
    last_pos = getattr(engine.store, "last_event_pos", None)
    last_event_pos = last_pos() if callable(last_pos) else None  # read first: every event up to it is sealed
    rows = sorted(engine.store.cases(CaseQuery(limit=10**12)), key=lambda c: c.id)
    heads = [(c.id, c.last_seq, c.last_hash) for c in rows]
    problems: list[str] = []
    problems += [str(p) for p in store_problems(engine)]
    for case_id, seq, head_hash in heads:
        found = [str(p) for p in engine.verify(case_id, every_tenant=True)]
        if not found:
            events = engine.store.events(case_id)
            if len(events) < seq or events[seq - 1].hash != head_hash:
                found.append(f"case {case_id}: event {seq}: the case row's head is not in its history")
        problems += found
    if problems:
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise RefusedError(f"refused to seal a store that does not verify: {shown}")
    return Checkpoint(
        sealed_at=now,
        root=merkle_root(leaf_text(*head) for head in heads),
        cases=len(heads),
        events=sum(seq for _, seq, _ in heads),
        heads=tuple(Head(case_id, seq, head_hash[:PREFIX]) for case_id, seq, head_hash in heads),
        last_event_pos=last_event_pos if isinstance(last_event_pos, int) else None,
    )
