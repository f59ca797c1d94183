"""The store interface the runtime needs, and the records that cross it.

The runtime computes every change (new case row, events with their hash
chain) and hands it to ``Store.commit`` as one ``Commit``; a store applies it
in one transaction or not at all. Deadline timers are not stored: they are a
function of the clocks in the row. A store only indexes each open case by
``next_due``, when its first timer falls due, so a tick reads what is due. Every event
is also an outbox message: a store keeps it pending until ``ack_outbox`` and
builds the message from the event when asked. A PostgreSQL store is one more
class implementing ``Store``. A store is shared by threads: a read sees committed
data only, and a ``writing`` block returns only once its change is committed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ..errors import ComplaintflowError
from ..tenants import DEFAULT_TENANT

# What happened, one word per event; runtime/fold.py says how each changes the case row.
EventKind = Literal[
    "started",
    "acted",
    "deadline_met",
    "deadline_warning",
    "deadline_breached",
    "escalated",
    "deadline_recomputed",
    "erased",
    "migrated",
]


class StoreError(ComplaintflowError):
    """The store file cannot be used (not ours, too new, damaged)."""


class StoreUnavailableError(StoreError):
    """The database did not answer or the connection to it was lost: nothing was changed (unless the message
    says the commit's outcome is unknown). Worth trying again later; unusable input for a one-shot command."""

    exit_code = 2


class ConflictError(ComplaintflowError):
    """Someone else changed the case first; reload it and try again."""


class UnknownCaseError(KeyError):
    def __str__(self) -> str:
        return f"no case {self.args[0]!r} in this store"


# Case rows, events and commits are values: nothing changes one after it is built (fold builds a new row).
# They are not frozen dataclasses only because a frozen one costs about five times as much to build
# (1.6 against 0.3 µs for ten fields), and an action builds three or four of them.


@dataclass(slots=True)
class CaseRecord:
    id: str
    process_id: str
    process_hash: str
    state: str
    branches: dict[str, str]  # branch id -> its current state, while in a parallel state
    data: dict[str, Any]
    owner_role: str | None  # who holds the case now (a reassigning escalation changes it)
    clocks: dict[str, Any]  # deadline id -> running clock, see runtime/clocks.py
    revision: int
    opened_at: int
    closed_at: int | None
    last_at: int  # instant of the latest event; later actions may not be earlier
    last_hash: str
    last_seq: int
    # When the first of its deadline timers falls due (runtime/clocks.py ``earliest_due``); None when no
    # clock runs. Derived from ``clocks`` by ``fold``, kept in the row so stores can index it.
    next_due: int | None = None
    # Whose case it is (engine/tenants.py); recorded in its ``started`` event unless it is the default.
    tenant: str = DEFAULT_TENANT


@dataclass(slots=True)
class EventRecord:
    case_id: str
    seq: int
    at: int
    actor: str
    role: str
    kind: EventKind
    payload: dict[str, Any]
    prev_hash: str
    hash: str
    # The stored text of ``payload`` (engine/canonical.py), made once: the store writes it and a verifier
    # hashes its JSON value (rule 2) or the text itself (rule 1). Empty only in hand-built records.
    payload_json: str = field(default="", compare=False, repr=False)
    # Which rule ``hash`` was made under (engine/canonical.py, docs/audit.md): 2 for every event a store of
    # format 4 writes, 1 for those an older store held when it was upgraded.
    hash_rule: int = field(default=2, compare=False, repr=False)
    # The personal values the payload commits to (runtime/personal.py): "data.<field>" or "inputs.<field>" ->
    # {"salt", "value"}. Kept beside the event, outside its hash, so erasing them leaves the chain intact;
    # None when the event carries none or they were erased.
    personal: dict[str, dict[str, Any]] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Head:
    """The event a case row's ``last_pos`` names, as the store holds it: what ``act`` and ``tick`` check the
    row against before writing (audit/rowcheck.py)."""

    seq: int
    at: int
    hash: str


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: str  # stable, for at-least-once delivery with de-duplication: "<case>:<seq>"
    case_id: str
    at: int
    message: dict[str, Any]  # {"kind", "process", "tenant", "actor", "role", "payload"}


def outbox_message(event: EventRecord, process_id: str, tenant: str) -> OutboxMessage:
    return OutboxMessage(
        f"{event.case_id}:{event.seq}",
        event.case_id,
        event.at,
        {
            "kind": event.kind,
            "process": process_id,
            "tenant": tenant,
            "actor": event.actor,
            "role": event.role,
            "payload": event.payload,
        },
    )


def split_message_id(message_id: str) -> tuple[str, int] | None:
    """(case id, seq) from an outbox message id, or None if it is not one."""
    case_id, _, seq = message_id.rpartition(":")
    return (case_id, int(seq)) if case_id and seq.isdigit() else None


@dataclass(slots=True)
class Commit:
    """Everything one state change writes, applied atomically."""

    case: CaseRecord  # the new row; its revision is the old one + 1 (1 for a new case)
    events: Sequence[EventRecord]
    # The row's next_due before this change: a store rewrites its due-time index only when it moved.
    next_due_before: int | None = None
    # Fields whose personal values the store destroys in every event of the case it already holds
    # (``complaintflow erase``): the keys "data.<field>" and "inputs.<field>" of ``EventRecord.personal``.
    erase_personal: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CaseQuery:
    process_id: str | None = None
    state: str | None = None
    owner_role: str | None = None
    open_only: bool = False
    limit: int = 1000
    tenant: str | None = None  # None: every tenant's cases


@dataclass(frozen=True, slots=True)
class Upgrade:
    """One store upgrade as the store records it: every history was verified under its old hash rule and
    the heads then sealed into ``root`` (docs/audit.md); events from position ``first_pos`` on use the new rule."""

    from_format: int
    to_format: int
    at: int
    cases: int
    events: int
    root: str
    first_pos: int


@dataclass
class StoredProcess:
    """A process version as a store files it. The same text may be deployed by several tenants: the store
    keeps it once, and ``processes`` lists it once per tenant."""

    content_hash: str
    process_id: str
    version: int
    source: bytes = field(repr=False, default=b"")
    tenant: str = DEFAULT_TENANT


class Store(Protocol):
    def save_process(self, process: StoredProcess) -> None:
        """File the process text (once, whichever tenant deploys it) and its deployment by ``process.tenant``."""
        ...

    def process(self, content_hash: str) -> StoredProcess:
        """The text of a process version, whoever deployed it (its ``tenant`` is not meaningful here)."""
        ...

    def processes(self, tenant: str | None = None) -> list[StoredProcess]:
        """Every deployment (one per tenant and version, without source), by tenant, id and version; with
        ``tenant``, only that tenant's."""
        ...

    def case(self, case_id: str) -> CaseRecord: ...
    def case_and_head(self, case_id: str) -> tuple[CaseRecord, Head | None]:
        """A case row and, read with it, the latest event of its history (None if the row names none)."""
        ...

    def cases(self, query: CaseQuery) -> list[CaseRecord]: ...
    def events(self, case_id: str) -> list[EventRecord]: ...
    def commit(self, change: Commit) -> None: ...
    def commit_all(self, changes: Sequence[Commit]) -> None:
        """``changes`` in order (a case may appear in several, each built on the one before), as one change:
        every one applied, or, when one is refused (``ConflictError``), none. The scheduler writes a round of
        fired timers so, in a few statements instead of a few per case."""
        ...

    def writing(self) -> AbstractContextManager[None]:
        """A write transaction around reads and the one commit they lead to (the runtime reads a case
        and commits its change inside one); nested uses join it, and any exception rolls it back. No other
        thread's change lands between its reads and its commit; the block exits once the change is committed
        (a store may commit several threads' blocks together)."""
        ...

    def batch(self) -> AbstractContextManager[None]:
        """Many changes of the calling thread (``writing`` blocks inside it) in one transaction, each rolled
        back alone when it fails, committed together when the block ends; the block raises ``StoreError``
        when that commit fails. The scheduler fires a round of due cases in one, for one fsync a round."""
        ...

    def due_cases(self, now: int, limit: int) -> list[CaseRecord]:
        """Up to ``limit`` cases whose ``next_due`` is at or before ``now``, earliest first."""
        ...

    def due_cases_and_heads(self, now: int, limit: int) -> list[tuple[CaseRecord, Head | None]]:
        """``due_cases`` with each row's head (as ``case_and_head``), in one read. Inside a ``batch`` the rows
        are read in the batch's write transaction and stay current for it (claimed, on a store shared by
        processes), so the scheduler fires from them without reading each case again. A row another process
        changed while the read ran may come with the head it had before (PostgreSQL locks the newest row
        version, but a join keeps the statement's snapshot): ``case_and_head`` reads it again."""
        ...

    def outbox(self, after: str | None, limit: int) -> list[OutboxMessage]:
        """Unacknowledged messages in commit order; with ``after`` (the id of a message not yet acknowledged,
        typically the last of the previous page), only those that come after it."""
        ...

    def ack_outbox(self, ids: Sequence[str]) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class PlacedEvent:
    """An event where its store files it, for moving a whole store (store/transfer.py): its position in commit
    order, the position of its case's event before (None for the first) and whether the outbox still holds it."""

    pos: int
    prev_pos: int | None
    event: EventRecord  # with ``payload_json`` (the stored text), ``hash_rule`` and ``personal`` as stored
    pending: bool


class DirectoryTables(Protocol):
    """Where the service directory's tables can be read whole (store/transfer_directory.py): beside a store, or
    in the separate SQLite file of the deprecated ``--directory``."""

    directory_catalog: str  # a query of (table, column) for each service directory table (``svc_*``) there

    def directory_rows(self, query: str) -> list[tuple[Any, ...]]:
        """The rows of a SELECT over the directory's tables (beside a store, inside its ``snapshot``: the view
        the events are read from)."""
        ...


class MovableStore(Store, DirectoryTables, Protocol):
    """A store a whole store can be exported from and imported into (store/transfer.py): the SQL stores.

    The ``load_*`` calls run inside one ``writing`` block on an empty store, which the caller verifies before
    the block ends; ``rule2_from_pos`` is the first position hashed under rule 2 (``EventRecord.hash_rule``)."""

    rule2_from_pos: int

    def snapshot(self) -> AbstractContextManager[None]:
        """Reads inside see one committed state of the store, however long they take (an export)."""
        ...

    def totals(self) -> tuple[int, int]:
        """(cases with events, events) as the store holds them."""
        ...

    def placed_events(self, after: int, limit: int) -> list[PlacedEvent]:
        """Up to ``limit`` event rows after position ``after``, in position order."""
        ...

    def upgrades(self) -> list[Upgrade]: ...
    def holds_anything(self) -> bool:
        """Whether the store holds any process, case or event."""
        ...

    def load_events(self, events: Sequence[PlacedEvent]) -> None: ...
    def load_cases(self, cases: Sequence[CaseRecord], last_pos: Mapping[str, int]) -> None: ...
    def load_history(self, upgrades: Sequence[Upgrade], rule2_from_pos: int) -> None:
        """The upgrade records and the first rule-2 position; after the outbox's pending events are loaded."""
        ...

    def load_directory_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Rows into a directory table, inside the import's ``writing`` block."""
        ...
