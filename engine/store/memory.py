"""An in-memory store with the same contract as the SQLite one, for simulations and tests.

Nothing survives the process; commits are still all-or-nothing and revision
checked, and due timers sit in a heap so a tick costs what is due, not what
is open.
"""
from __future__ import annotations

import heapq
from collections.abc import Sequence

from .base import (CaseQuery, CaseRecord, Commit, ConflictError, EventRecord, OutboxMessage, StoredProcess,
                   StoreError, TimerRecord, UnknownCaseError, outbox_message, split_message_id)

TimerKey = tuple[str, str, str, int]


class MemoryStore:
    def __init__(self, *, keep_outbox: bool = True) -> None:
        self._processes: dict[str, StoredProcess] = {}
        self._cases: dict[str, CaseRecord] = {}
        self._events: dict[str, list[EventRecord]] = {}
        self._timers: dict[TimerKey, TimerRecord] = {}
        self._by_case: dict[str, set[TimerKey]] = {}
        self._heap: list[tuple[int, TimerKey]] = []  # may hold stale entries; checked against _timers
        # The outbox, as in the SQLite store: every event in commit order, a cursor before which all are
        # acknowledged, and the acknowledgements that came out of order.
        self._log: list[EventRecord] = []
        self._cursor = 0
        self._acked: set[tuple[str, int]] = set()
        self._keep_outbox = keep_outbox

    def save_process(self, process: StoredProcess) -> None:
        self._processes.setdefault(process.content_hash, process)

    def process(self, content_hash: str) -> StoredProcess:
        try:
            return self._processes[content_hash]
        except KeyError:
            raise StoreError(f"process version {content_hash[:12]} is not in this store") from None

    def processes(self) -> list[StoredProcess]:
        return sorted(self._processes.values(), key=lambda p: (p.process_id, p.version))

    def case(self, case_id: str) -> CaseRecord:
        try:
            return self._cases[case_id]
        except KeyError:
            raise UnknownCaseError(case_id) from None

    def cases(self, query: CaseQuery) -> list[CaseRecord]:
        out = [c for c in self._cases.values()
               if (query.process_id is None or c.process_id == query.process_id)
               and (query.state is None or c.state == query.state)
               and (query.owner_role is None or c.owner_role == query.owner_role)
               and (not query.open_only or c.closed_at is None)]
        return sorted(out, key=lambda c: (c.opened_at, c.id))[: query.limit]

    def events(self, case_id: str) -> list[EventRecord]:
        return list(self._events.get(case_id, ()))

    def commit(self, change: Commit) -> None:
        case = change.case
        # Check everything before changing anything, so a refused commit leaves no trace.
        if change.fired_timer is not None and change.fired_timer not in self._timers:
            raise ConflictError(f"timer {change.fired_timer} already fired")
        current = self._cases.get(case.id)
        if case.revision == 1 and current is not None:
            raise ConflictError(f"case {case.id!r} already exists")
        if case.revision > 1 and (current is None or current.revision != case.revision - 1):
            raise ConflictError(f"case {case.id!r} was changed by someone else; reload it and try again")
        if change.fired_timer is not None:
            self._drop_timer(change.fired_timer)
        self._cases[case.id] = case
        self._events.setdefault(case.id, []).extend(change.events)
        for key in change.cancel_timers:
            self._drop_timer(key)
        for timer in change.add_timers:
            self._timers[timer.key] = timer
            self._by_case.setdefault(timer.case_id, set()).add(timer.key)
            heapq.heappush(self._heap, (timer.due_at, timer.key))
        if self._keep_outbox:
            self._log += change.events

    def _drop_timer(self, key: TimerKey) -> None:
        if self._timers.pop(key, None) is not None:
            self._by_case[key[0]].discard(key)

    def due_timers(self, now: int, limit: int) -> list[TimerRecord]:
        out: list[TimerRecord] = []
        seen: set[TimerKey] = set()
        while self._heap and self._heap[0][0] <= now and len(out) < limit:
            due_at, key = heapq.heappop(self._heap)
            timer = self._timers.get(key)
            if timer is not None and timer.due_at == due_at and key not in seen:
                out.append(timer)
                seen.add(key)
        for timer in out:  # hand them back: they stay due until a commit fires them
            heapq.heappush(self._heap, (timer.due_at, timer.key))
        return out

    def timers(self, case_id: str) -> list[TimerRecord]:
        return sorted((self._timers[k] for k in self._by_case.get(case_id, ())), key=lambda t: t.due_at)

    def outbox(self, after: str | None, limit: int) -> list[OutboxMessage]:
        pending = [e for e in self._log[self._cursor:] if (e.case_id, e.seq) not in self._acked]
        start = split_message_id(after) if after else None
        keys = [(e.case_id, e.seq) for e in pending]
        if start in keys:
            pending = pending[keys.index(start) + 1:]
        return [outbox_message(e, self._cases[e.case_id].process_id) for e in pending[:limit]]

    def ack_outbox(self, ids: Sequence[str]) -> None:
        pending = {(e.case_id, e.seq) for e in self._log[self._cursor:]}
        self._acked |= {key for key in map(split_message_id, ids) if key in pending}
        while self._cursor < len(self._log) and (key := _key(self._log[self._cursor])) in self._acked:
            self._acked.discard(key)
            self._cursor += 1

    def close(self) -> None:
        return None


def _key(event: EventRecord) -> tuple[str, int]:
    return (event.case_id, event.seq)
