"""``verify --against``: prove that nothing a checkpoint sealed was altered or removed since.

For every sealed head ``(case, seq, hash)`` the case must still exist, pass the engine's own ``verify``
(hash chain and replay) and still hold, at event ``seq``, the event whose hash was sealed. A chain
recomputed with the project's own hash function passes ``verify`` but not this: its event ``seq`` has
another hash. The Merkle root over the current hashes at the sealed positions must then equal the
sealed root, and the store must not end before the highest event position sealed. Cases opened after
the seal are only verified; they are not covered by it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..runtime.engine import Engine
from ..runtime.errors import RefusedError
from ..store.base import CaseQuery
from .checkpoint import PREFIX, Checkpoint
from .merkle import leaf_text, merkle_root
from .verify import AuditProblem, store_problems


@dataclass(frozen=True, slots=True)
class AuditResult:
    problems: list[AuditProblem]
    sealed_cases: int
    sealed_events: int
    new_cases: int  # opened after the seal: verified, not covered by it


def verify_against(engine: Engine, checkpoint: Checkpoint) -> AuditResult:
    sealed = {head.case_id for head in checkpoint.heads}
    problems: list[AuditProblem] = []
    current_hashes: list[str] = []
    for head in checkpoint.heads:
        try:
            verified = [
                AuditProblem(p.case_id, p.seq, p.message) for p in engine.verify(head.case_id, every_tenant=True)
            ]
        except RefusedError:  # the case row is gone
            problems.append(AuditProblem(head.case_id, 1, f"missing: the case is gone (sealed with {head.seq} events)"))
            continue
        found: list[AuditProblem] = []
        events = engine.store.events(head.case_id)
        if len(events) < head.seq or events[head.seq - 1].seq != head.seq:
            first_missing = min(len(events) + 1, head.seq)
            found.append(
                AuditProblem(
                    head.case_id,
                    first_missing,
                    f"missing: the history now ends at event {len(events)} (sealed with {head.seq} events)",
                )
            )
        else:
            now_hash = events[head.seq - 1].hash
            current_hashes.append(now_hash)
            if now_hash[:PREFIX] != head.hash_prefix:
                found.append(
                    AuditProblem(
                        head.case_id,
                        head.seq,
                        f"not the event that was sealed (hash {head.hash_prefix[:12]} then, {now_hash[:12]} now): "
                        f"the history up to event {head.seq} was rewritten after the seal",
                    )
                )
        # The first difference in each case; at the same event, the seal's finding is the clearer one.
        problems += sorted(found + verified, key=lambda p: p.seq)[:1]
    if not problems:
        leaves = (leaf_text(h.case_id, h.seq, hash_) for h, hash_ in zip(checkpoint.heads, current_hashes, strict=True))
        if merkle_root(leaves) != checkpoint.root:
            problems.append(AuditProblem(None, 0, "the root differs from the sealed one although every head matches"))
    last_pos = getattr(engine.store, "last_event_pos", None)
    now_last = last_pos() if callable(last_pos) else None
    if checkpoint.last_event_pos is not None and isinstance(now_last, int) and now_last < checkpoint.last_event_pos:
        problems.append(
            AuditProblem(
                None,
                0,
                f"the event log now ends at position {now_last}, before the sealed {checkpoint.last_event_pos} "
                "(events were removed from its end)",
            )
        )
    new_cases = [c for c in engine.store.cases(CaseQuery(limit=10**12)) if c.id not in sealed]
    for case in new_cases:
        problems += [AuditProblem(p.case_id, p.seq, p.message) for p in engine.verify(case.id, every_tenant=True)][:1]
    problems += store_problems(engine)
    return AuditResult(problems, checkpoint.cases, checkpoint.events, len(new_cases))
