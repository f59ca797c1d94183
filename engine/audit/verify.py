"""``verify`` over a whole store: every case's chain and replay, and what no single case shows.

``Engine.verify`` checks each case that has a row. Someone with the database file can also add an event
row that no history links to (the outbox would deliver it), delete a case row and leave its events, edit
a stored process text (the clocks of new cases would obey the edit), or rewrite history from before an
upgrade. This names each of those, one line apiece, with the case and event where there is one. Stores
that cannot be edited behind the engine's back (the in-memory one) have none of these checks to make.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..runtime.engine import Engine
from ..store.base import CaseQuery, StoreError, Upgrade
from .merkle import leaf_text, merkle_root


@dataclass(frozen=True, slots=True)
class AuditProblem:
    case_id: str | None  # None: the store as a whole
    seq: int
    message: str

    def __str__(self) -> str:
        return f"case {self.case_id}: event {self.seq}: {self.message}" if self.case_id else f"store: {self.message}"


def verify_store(engine: Engine, case_id: str | None = None) -> list[AuditProblem]:
    """Every problem with the store (with ``case_id``: with that case alone); empty when it is intact."""
    problems = [AuditProblem(p.case_id, p.seq, p.message) for p in engine.verify(case_id, every_tenant=True)]
    if case_id is None:
        problems += store_problems(engine)
    return problems


def store_problems(engine: Engine) -> list[AuditProblem]:
    """The problems no case's own verify can see: edited process texts, unlinked event rows, event rows
    of deleted cases, and history from before an upgrade that no longer matches what it sealed."""
    store = engine.store
    problems: list[AuditProblem] = []
    for known in {p.content_hash: p for p in store.processes()}.values():  # each text once, whoever deployed it
        try:
            store.process(known.content_hash)
        except StoreError as exc:
            problems.append(AuditProblem(None, 0, str(exc)))
    unlinked = getattr(store, "unlinked_events", None)
    orphans: dict[str, list[int]] = {}
    for case_id, seq, pos, case_exists in unlinked() if callable(unlinked) else ():
        if case_exists:
            problems.append(
                AuditProblem(
                    case_id,
                    seq,
                    f"the row at position {pos} is not linked into the case's history: the engine did not write "
                    "it (it is never delivered)",
                )
            )
        else:
            orphans.setdefault(case_id, []).append(seq)
    for case_id, seqs in orphans.items():
        problems.append(
            AuditProblem(case_id, min(seqs), f"the case row is gone while {len(seqs)} of its events remain")
        )
    for upgrade in upgrades_of(engine):
        heads = store.heads_before(upgrade.first_pos)  # type: ignore[attr-defined]
        root = merkle_root(leaf_text(*head) for head in heads)
        if root != upgrade.root:
            problems.append(
                AuditProblem(
                    None,
                    0,
                    f"the history from before the upgrade to store format {upgrade.to_format} no longer matches "
                    f"what it verified and sealed ({upgrade.cases} cases then, {len(heads)} now; root "
                    f"{upgrade.root[:12]} then, {root[:12]} now)",
                )
            )
    return problems


def upgrades_of(engine: Engine) -> list[Upgrade]:
    upgrades = getattr(engine.store, "upgrades", None)
    return list(upgrades()) if callable(upgrades) else []


def case_heads(engine: Engine) -> list[tuple[str, int, str]]:
    """(case id, seq, hash) of every case's head, from its row, sorted by case id."""
    return sorted((c.id, c.last_seq, c.last_hash) for c in engine.store.cases(CaseQuery(limit=10**12)))
