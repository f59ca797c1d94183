"""The check ``act`` and ``tick`` make before they write: does the case row still agree with its history?

A case row is a cache of its history, rebuilt by replay, and ``verify`` compares the two. But a row edited
in the database (its ``last_at`` moved back to allow a back-dated action, its ``next_due`` moved on to hide
a breach from the scheduler) would be carried into the next event the engine writes, and so into a hashed
history. Replaying the whole history before each write would cost what the write costs many times over,
so this checks what can be checked against the row's chain head alone, which the store reads in the same
query as the row: the head is the event the row names (seq and hash), its time is the row's ``last_at``
(events never go back in time), and ``next_due`` is when the row's own clocks next fall due.
"""

from __future__ import annotations

from ..runtime.clocks import earliest_due
from ..store.base import CaseRecord, Head


def row_problem(case: CaseRecord, head: Head | None) -> str | None:
    """What is wrong with the row against its head, or None when they agree."""
    if head is None:
        return f"its row names event {case.last_seq}, which is not in the store"
    if head.seq != case.last_seq or head.hash != case.last_hash:
        return f"its row names event {case.last_seq} ({case.last_hash[:12]}), not its history's event {head.seq}"
    if head.at != case.last_at:
        return f"its row's last_at ({case.last_at}) is not the time of its latest event ({head.at})"
    due = earliest_due(case.clocks)
    if case.next_due != due:
        return f"its row's next_due ({case.next_due}) is not when its clocks next fall due ({due})"
    return None
