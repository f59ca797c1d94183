"""An in-memory store with the same contract as the SQLite one, for simulations and tests.

Nothing survives the process; commits are still all-or-nothing and revision
checked, and open cases sit in a heap by ``next_due`` so a tick costs what is
due, not what is open. One re-entrant lock makes each call, and each
``writing`` block, one thread's at a time.

Histories are kept the way a database keeps them, as encoded rows: per event a
tuple of scalars, the payload's canonical UTF-8 bytes and the 32-byte hash.
That takes about a third of the memory of live event objects, and the garbage
collector, which would otherwise walk every payload dict of every case on each
full collection, soon stops looking at them (tuples of scalars are untracked).
``events`` decodes a history when someone reads it.
"""

from __future__ import annotations

import functools
import heapq
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Concatenate, ParamSpec, TypeVar, cast

from .. import canonical
from ..runtime.personal import without
from .base import (
    CaseQuery,
    CaseRecord,
    Commit,
    ConflictError,
    EventKind,
    EventRecord,
    Head,
    OutboxMessage,
    StoredProcess,
    StoreError,
    UnknownCaseError,
    outbox_message,
    split_message_id,
)

# seq, at, actor, role, kind, payload text (UTF-8), hash and previous hash (raw; the same object as the row
# before's hash, so it costs a pointer), and the kept personal values' text (None when there are none)
Row = tuple[int, int, str, str, EventKind, bytes, bytes, bytes, bytes | None]
_GENESIS = bytes(32)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _serialized(call: Callable[Concatenate[MemoryStore, _P], _R]) -> Callable[Concatenate[MemoryStore, _P], _R]:
    """A call that holds the store's lock: threads share one store, and a read never meets a half-made change."""

    @functools.wraps(call)
    def locked(store: MemoryStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with store._lock:
            return call(store, *args, **kwargs)

    return locked


class MemoryStore:
    def __init__(self, *, keep_outbox: bool = True) -> None:
        self._processes: dict[str, StoredProcess] = {}  # content hash -> the text
        self._deployed: dict[tuple[str, str], StoredProcess] = {}  # (tenant, content hash) -> its deployment
        self._cases: dict[str, CaseRecord] = {}
        self._events: dict[str, list[Row]] = {}  # a case's history, in seq order
        # (next_due, case id) each time a case's next_due moved; entries it has since left are skipped
        self._heap: list[tuple[int, str]] = []
        # The outbox, as in the SQLite store: every event (case, seq) in commit order, a cursor before which
        # all are acknowledged, and the acknowledgements that came out of order.
        self._log: list[tuple[str, int]] = []
        self._cursor = 0
        self._acked: set[tuple[str, int]] = set()
        self._keep_outbox = keep_outbox
        self._lock = threading.RLock()

    @_serialized
    def save_process(self, process: StoredProcess) -> None:
        self._processes.setdefault(process.content_hash, process)
        self._deployed.setdefault((process.tenant, process.content_hash), process)

    @_serialized
    def process(self, content_hash: str) -> StoredProcess:
        try:
            return self._processes[content_hash]
        except KeyError:
            raise StoreError(f"process version {content_hash[:12]} is not in this store") from None

    @_serialized
    def processes(self, tenant: str | None = None) -> list[StoredProcess]:
        found = [p for (t, _), p in self._deployed.items() if tenant is None or t == tenant]
        return sorted(found, key=lambda p: (p.tenant, p.process_id, p.version))

    def case(self, case_id: str) -> CaseRecord:
        # No lock: one dict read is atomic, and a commit stores the row only once all its checks passed.
        try:
            return self._cases[case_id]
        except KeyError:
            raise UnknownCaseError(case_id) from None

    @_serialized
    def case_and_head(self, case_id: str) -> tuple[CaseRecord, Head | None]:
        return self._with_head(self.case(case_id))

    def _with_head(self, case: CaseRecord) -> tuple[CaseRecord, Head | None]:
        history = self._events.get(case.id)
        if not history:
            return case, None
        seq, at, digest = history[-1][0], history[-1][1], history[-1][6]
        return case, Head(seq, at, digest.hex())

    @_serialized
    def cases(self, query: CaseQuery) -> list[CaseRecord]:
        out = [
            c
            for c in self._cases.values()
            if (query.tenant is None or c.tenant == query.tenant)
            and (query.process_id is None or c.process_id == query.process_id)
            and (query.state is None or c.state == query.state)
            and (query.owner_role is None or c.owner_role == query.owner_role)
            and (not query.open_only or c.closed_at is None)
        ]
        return sorted(out, key=lambda c: (c.opened_at, c.id))[: query.limit]

    @_serialized
    def events(self, case_id: str) -> list[EventRecord]:
        return [_record(case_id, row) for row in self._events.get(case_id, ())]

    def _event(self, case_id: str, seq: int) -> EventRecord:
        return next(_record(case_id, row) for row in reversed(self._events[case_id]) if row[0] == seq)

    def writing(self) -> AbstractContextManager[None]:
        """Each commit is all-or-nothing by itself; holding the lock keeps what is read inside from changing."""
        return cast(AbstractContextManager[None], self._lock)  # the lock itself: nothing is bound by ``as``

    def batch(self) -> AbstractContextManager[None]:
        """Held across the batch; each commit is durable at once, as memory is."""
        return cast(AbstractContextManager[None], self._lock)

    @_serialized
    def commit(self, change: Commit) -> None:
        case = change.case
        # Check everything before changing anything, so a refused commit leaves no trace.
        current = self._cases.get(case.id)
        if case.revision == 1 and current is not None:
            raise ConflictError(f"case {case.id!r} already exists")
        if case.revision > 1 and (current is None or current.revision != case.revision - 1):
            raise ConflictError(f"case {case.id!r} was changed by someone else; reload it and try again")
        history = self._events.get(case.id, [])
        if change.events and history and change.events[0].seq <= history[-1][0]:
            raise ConflictError(f"case {case.id!r} already has event {change.events[0].seq}")
        self._cases[case.id] = case
        if change.erase_personal:
            history = [_erased(row, change.erase_personal) if row[8] is not None else row for row in history]
        self._events[case.id] = history
        for e in change.events:
            text = e.payload_json.encode() if e.payload_json else canonical.dumps(e.payload).encode()
            prev = history[-1][6] if history else bytes.fromhex(e.prev_hash)
            personal = canonical.dumps(e.personal).encode() if e.personal else None
            history.append((e.seq, e.at, e.actor, e.role, e.kind, text, bytes.fromhex(e.hash), prev, personal))
            if self._keep_outbox:
                self._log.append((e.case_id, e.seq))
        if case.next_due is not None and case.next_due != change.next_due_before:
            heapq.heappush(self._heap, (case.next_due, case.id))

    @_serialized
    def commit_all(self, changes: Sequence[Commit]) -> None:
        # Every revision is checked before anything changes, so a refused list leaves no trace; each case's
        # changes follow one another (the revision each expects is the one the change before it wrote).
        after: dict[str, int] = {}
        for change in changes:
            case = change.case
            current = self._cases.get(case.id)
            before = after.get(case.id, current.revision if current is not None else 0)
            if case.revision != before + 1:
                raise ConflictError(f"case {case.id!r} was changed by someone else; reload it and try again")
            after[case.id] = case.revision
        for change in changes:
            self.commit(change)

    @_serialized
    def due_cases(self, now: int, limit: int) -> list[CaseRecord]:
        out: list[CaseRecord] = []
        taken: list[tuple[int, str]] = []
        while self._heap and self._heap[0][0] <= now and len(out) < limit:
            due_at, case_id = heapq.heappop(self._heap)
            case = self._cases[case_id]
            if case.next_due == due_at and (not out or out[-1] is not case):
                out.append(case)
                taken.append((due_at, case_id))
        for entry in taken:  # hand them back: they stay due until a commit moves them on
            heapq.heappush(self._heap, entry)
        return out

    @_serialized
    def due_cases_and_heads(self, now: int, limit: int) -> list[tuple[CaseRecord, Head | None]]:
        return [self._with_head(case) for case in self.due_cases(now, limit)]

    @_serialized
    def outbox(self, after: str | None, limit: int) -> list[OutboxMessage]:
        pending = [key for key in self._log[self._cursor :] if key not in self._acked]
        start = split_message_id(after) if after else None
        if start in pending:
            pending = pending[pending.index(start) + 1 :]
        return [
            outbox_message(self._event(c, seq), self._cases[c].process_id, self._cases[c].tenant)
            for c, seq in pending[:limit]
        ]

    @_serialized
    def ack_outbox(self, ids: Sequence[str]) -> None:
        pending = set(self._log[self._cursor :])
        self._acked |= {key for key in map(split_message_id, ids) if key in pending}
        while self._cursor < len(self._log) and self._log[self._cursor] in self._acked:
            self._acked.discard(self._log[self._cursor])
            self._cursor += 1
        if self._cursor * 2 > len(self._log):  # forget the acknowledged prefix (at most twice the work of acks)
            del self._log[: self._cursor]
            self._cursor = 0
        if not self._acked:
            self._acked = set()  # a set keeps its largest table after discards

    def close(self) -> None:
        return None


def _erased(row: Row, fields: frozenset[str]) -> Row:
    kept = without(canonical.loads(cast(bytes, row[8])), fields)
    return (*row[:8], canonical.dumps(kept).encode() if kept else None)


def _record(case_id: str, row: Row) -> EventRecord:
    seq, at, actor, role, kind, text, digest, prev, personal = row
    return EventRecord(
        case_id,
        seq,
        at,
        actor,
        role,
        kind,
        canonical.loads(text),
        prev.hex(),
        digest.hex(),
        text.decode(),
        personal=canonical.loads(personal) if personal is not None else None,
    )
