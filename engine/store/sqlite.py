"""The SQLite store: one file, WAL, one ``BEGIN IMMEDIATE`` transaction per commit or group of commits.

Tables follow docs/architecture.md. Case rows carry a revision that refuses a
commit built on a stale row; events are append-only; cases are indexed by when
their next deadline falls due, so a tick reads only what is due. ``meta``
records the format version; an older file is read as it is (format 3) or not
at all (1 and 2) and written only after ``upgrade`` (audit/upgrade.py), newer
or foreign files are refused. The only home of sqlite3.

A commit's cost is the pages it writes to the WAL, at least one per B-tree it
touches, so formats 3 and 4 write two on most actions: the case row and the event.
Events append at the right edge of their tree (``pos`` counts them in commit
order); each names its case's event before it (``prev_pos``) and the case row
names its latest (``last_pos``), so a history is walked back from the row
instead of kept in a second index. Deadline timers are not rows: the case row
carries ``next_due``, and its partial index is touched only when that moves.
The outbox costs a commit nothing: a message is its event, every event up to
``meta.outbox_cursor`` is acknowledged, and ``outbox_acked`` holds
acknowledgements that came out of order. The case table is ``WITHOUT ROWID``
(one B-tree instead of a table plus its key index), and no index on it holds
a column that changes on every action. JSON is the canonical text made once.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from .. import canonical
from ..runtime.personal import without
from . import faults
from .base import (
    CaseQuery,
    CaseRecord,
    Commit,
    ConflictError,
    EventRecord,
    Head,
    OutboxMessage,
    PlacedEvent,
    StoredProcess,
    StoreError,
    UnknownCaseError,
    Upgrade,
    outbox_message,
    split_message_id,
)
from .group import Serializer
from .rows import CASE_COLUMNS as _CASE_COLUMNS
from .rows import CASE_COLUMNS_BEFORE_TENANTS as _CASE_COLUMNS_BEFORE_TENANTS
from .rows import EVENT_COLUMNS as _EVENT_COLUMNS
from .rows import case_and_head_from_row as _case_and_head
from .rows import case_from_row as _case
from .rows import case_row as _row
from .rows import event_values as _event_values
from .rows import moved_values as _moved
from .rows import payload_from_text as _payload
from .rows import personal_from_text as _personal
from .sqlite_directory import DIRECTORY_CATALOG
from .writer_turns import WriterTurns

FORMAT_NAME = "complaintflow-store"
FORMAT_VERSION = 6
# Format 4 hashes new events under rule 2 (RFC 8785, engine/canonical.py); events of an upgraded store before
# ``meta.rule2_from_pos`` keep rule 1. Format 5 keeps personal values beside the chain, in ``events.personal``
# (runtime/personal.py). Format 6 files cases and process deployments by tenant (engine/tenants.py). Formats 3
# to 6 share their tables otherwise, so an older store is read as it is (every case the default tenant's).
READABLE_FROM = 3

# SQLite's inline copy of the WAL back into the file at FULL and EXTRA: after the commit that fills this many
# pages, and while the scheduler catches up (``SQLiteStore.batch``), after this many at most.
INLINE_PAGES = 1000
DEFERRED_PAGES = 50_000
WRITER_CACHE_KB = 16 * 1024  # the writing connection's page cache

# Format 1, kept so tests can build an old file and check the upgrade.
_SCHEMA_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE processes (hash TEXT PRIMARY KEY, id TEXT NOT NULL, version INTEGER NOT NULL, source BLOB NOT NULL);
CREATE TABLE cases (
  id TEXT PRIMARY KEY, process_id TEXT NOT NULL, process_hash TEXT NOT NULL REFERENCES processes(hash),
  state TEXT NOT NULL, branches TEXT NOT NULL, data TEXT NOT NULL, owner_role TEXT, clocks TEXT NOT NULL,
  revision INTEGER NOT NULL, opened_at INTEGER NOT NULL, closed_at INTEGER, last_at INTEGER NOT NULL,
  last_hash TEXT NOT NULL, last_seq INTEGER NOT NULL);
CREATE INDEX cases_process_state ON cases(process_id, state);
CREATE TABLE events (
  case_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
  kind TEXT NOT NULL, payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
  PRIMARY KEY (case_id, seq));
CREATE TABLE timers (
  case_id TEXT NOT NULL, deadline TEXT NOT NULL, kind TEXT NOT NULL, step INTEGER NOT NULL,
  due_at INTEGER NOT NULL, armed_by_seq INTEGER NOT NULL, PRIMARY KEY (case_id, deadline, kind, step));
CREATE INDEX timers_due ON timers(due_at);
CREATE TABLE outbox (id TEXT PRIMARY KEY, case_id TEXT NOT NULL, at INTEGER NOT NULL, message TEXT NOT NULL);
"""

_TABLES_V2 = """
CREATE TABLE cases (
  id TEXT PRIMARY KEY, process_id TEXT NOT NULL, process_hash TEXT NOT NULL REFERENCES processes(hash),
  state TEXT NOT NULL, branches TEXT NOT NULL, data TEXT NOT NULL, owner_role TEXT, clocks TEXT NOT NULL,
  revision INTEGER NOT NULL, opened_at INTEGER NOT NULL, closed_at INTEGER, last_at INTEGER NOT NULL,
  last_hash TEXT NOT NULL, last_seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX cases_process_open ON cases(process_id, closed_at);
CREATE TABLE events (
  pos INTEGER PRIMARY KEY,
  case_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
  kind TEXT NOT NULL, payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
  UNIQUE (case_id, seq));
CREATE TABLE timers (
  case_id TEXT NOT NULL, deadline TEXT NOT NULL, kind TEXT NOT NULL, step INTEGER NOT NULL,
  due_at INTEGER NOT NULL, armed_by_seq INTEGER NOT NULL, PRIMARY KEY (case_id, deadline, kind, step)) WITHOUT ROWID;
CREATE INDEX timers_due ON timers(due_at);
CREATE TABLE outbox_acked (pos INTEGER PRIMARY KEY);
"""

_CASES_EVENTS_V3 = """
CREATE TABLE cases (
  id TEXT PRIMARY KEY, process_id TEXT NOT NULL, process_hash TEXT NOT NULL REFERENCES processes(hash),
  state TEXT NOT NULL, branches TEXT NOT NULL, data TEXT NOT NULL, owner_role TEXT, clocks TEXT NOT NULL,
  revision INTEGER NOT NULL, opened_at INTEGER NOT NULL, closed_at INTEGER, last_at INTEGER NOT NULL,
  last_hash TEXT NOT NULL, last_seq INTEGER NOT NULL, next_due INTEGER, last_pos INTEGER) WITHOUT ROWID;
CREATE INDEX cases_process_open ON cases(process_id, closed_at);
CREATE INDEX cases_next_due ON cases(next_due) WHERE next_due IS NOT NULL;
CREATE TABLE events (
  pos INTEGER PRIMARY KEY, prev_pos INTEGER,
  case_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
  kind TEXT NOT NULL, payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
"""

_SCHEMA_V3 = (
    """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE processes (hash TEXT PRIMARY KEY, id TEXT NOT NULL, version INTEGER NOT NULL, source BLOB NOT NULL);
"""
    + _CASES_EVENTS_V3
    + """
CREATE TABLE outbox_acked (pos INTEGER PRIMARY KEY);
INSERT INTO meta VALUES ('outbox_cursor', '0');
"""
)

# Format 4: what each upgrade verified and sealed (the Merkle root over every case's head then), and from
# which event position on the new hash rule holds.
_UPGRADES_TABLE = """
CREATE TABLE upgrades (
  to_format INTEGER PRIMARY KEY, from_format INTEGER NOT NULL, at INTEGER NOT NULL, cases INTEGER NOT NULL,
  events INTEGER NOT NULL, root TEXT NOT NULL, first_pos INTEGER NOT NULL)
"""
_SCHEMA_V4 = _SCHEMA_V3 + _UPGRADES_TABLE + ";\nINSERT INTO meta VALUES ('rule2_from_pos', '1');\n"
# Format 5: an event's personal values (salts and values its payload commits to), outside its hash.
_PERSONAL_COLUMN = "ALTER TABLE events ADD COLUMN personal TEXT"
_SCHEMA_V5 = _SCHEMA_V4 + _PERSONAL_COLUMN + ";\n"
# Format 6: tenants. A case row names its tenant (an index lists one tenant's cases, and is written only when a
# case opens); a process text is kept once, and each tenant that deploys it has a row of its own.
_TENANTS = """
ALTER TABLE cases ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
CREATE INDEX cases_tenant_opened ON cases(tenant, opened_at);
CREATE TABLE tenant_processes (
  tenant TEXT NOT NULL, hash TEXT NOT NULL REFERENCES processes(hash), PRIMARY KEY (tenant, hash)) WITHOUT ROWID;
INSERT INTO tenant_processes SELECT 'default', hash FROM processes;
"""
_SCHEMA_V6 = _SCHEMA_V5 + _TENANTS

# Layout steps: UPGRADES[n] turns a format-n store into format n+1. They run only in ``upgrade``, in its one
# transaction, before the histories are verified and sealed (3 -> 4).
UPGRADES: dict[int, str] = {
    # 1 -> 2: fewer B-trees written per commit (see the module docstring).
    1: """
ALTER TABLE cases RENAME TO cases_v1;
ALTER TABLE events RENAME TO events_v1;
ALTER TABLE timers RENAME TO timers_v1;
ALTER TABLE outbox RENAME TO outbox_v1;
DROP INDEX cases_process_state;
DROP INDEX timers_due;
"""
    + _TABLES_V2
    + """
INSERT INTO cases SELECT * FROM cases_v1;
INSERT INTO events SELECT rowid, * FROM events_v1 ORDER BY rowid;
INSERT INTO timers SELECT * FROM timers_v1;
CREATE TEMP TABLE pending AS SELECT e.pos FROM outbox_v1 o JOIN events e
  ON e.case_id = o.case_id AND e.seq = CAST(substr(o.id, length(o.case_id) + 2) AS INTEGER);
INSERT INTO meta VALUES ('outbox_cursor',
  (SELECT coalesce(min(pos) - 1, (SELECT coalesce(max(pos), 0) FROM events)) FROM temp.pending));
INSERT INTO outbox_acked SELECT pos FROM events
  WHERE pos > (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'outbox_cursor')
  AND pos NOT IN (SELECT pos FROM temp.pending);
DROP TABLE temp.pending;
DROP TABLE cases_v1;
DROP TABLE events_v1;
DROP TABLE timers_v1;
DROP TABLE outbox_v1;
""",
    # 2 -> 3: timers become the case's next_due; histories are chained instead of indexed (module docstring).
    # A format-2 timer row is what the clocks call for, so the earliest one is the case's next_due.
    2: """
ALTER TABLE cases RENAME TO cases_v2;
ALTER TABLE events RENAME TO events_v2;
DROP INDEX cases_process_open;
"""
    + _CASES_EVENTS_V3
    + """
INSERT INTO events SELECT e.pos,
  (SELECT p.pos FROM events_v2 p WHERE p.case_id = e.case_id AND p.seq = e.seq - 1),
  e.case_id, e.seq, e.at, e.actor, e.role, e.kind, e.payload, e.prev_hash, e.hash
  FROM events_v2 e ORDER BY e.pos;
INSERT INTO cases SELECT c.*, (SELECT min(t.due_at) FROM timers t WHERE t.case_id = c.id),
  (SELECT e.pos FROM events_v2 e WHERE e.case_id = c.id AND e.seq = c.last_seq) FROM cases_v2 c;
DROP TABLE cases_v2;
DROP TABLE events_v2;
DROP TABLE timers;
""",
}

# A commit's events in one statement: the first follows the case's latest (none for a new case), each
# other one the event inserted just before it, which is the newest row (the writer holds the file).
_INSERT_EVENT = (
    "INSERT INTO events (prev_pos, case_id, seq, at, actor, role, kind, payload, prev_hash, hash, personal) "
    "VALUES (CASE WHEN ? THEN (SELECT max(pos) FROM events) ELSE (SELECT last_pos FROM cases WHERE id=?) "
    "END, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_NEWEST_EVENT = "(SELECT max(pos) FROM events)"
# An event at a position given (``commit_all``); without a previous position, it follows its case's latest.
_INSERT_PLACED = (
    "INSERT INTO events (pos, prev_pos, case_id, seq, at, actor, role, kind, payload, prev_hash, hash, personal) "
    "VALUES (?, coalesce(?, (SELECT last_pos FROM cases WHERE id=?)), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _with_head(case_columns: str) -> str:
    """A case row with the event its last_pos names (audit/rowcheck.py checks one against the other), and
    that position."""
    return (
        f"SELECT {case_columns.replace('id, ', 'c.id, ', 1)}, e.seq, e.at, e.hash, c.last_pos FROM cases c "
        "LEFT JOIN events e ON e.pos = c.last_pos AND e.case_id = c.id "
    )


# Erasure: every event of the case that keeps personal values (the chain walk, as in ``events``).
_KEEPING_PERSONAL = (
    "WITH RECURSIVE chain(pos) AS (SELECT last_pos FROM cases WHERE id=? "
    "UNION ALL SELECT e.prev_pos FROM events e JOIN chain ON e.pos = chain.pos WHERE e.prev_pos < e.pos) "
    "SELECT pos, personal FROM events WHERE pos IN chain AND personal IS NOT NULL"
)
# A case's history, walked back from its row through prev_pos.
# Positions only go back, so a row edited to point at itself or ahead ends the walk instead of looping.
_CHAIN = (
    "WITH RECURSIVE chain(pos) AS (SELECT last_pos FROM cases WHERE id=? "
    "UNION ALL SELECT e.prev_pos FROM events e JOIN chain ON e.pos = chain.pos WHERE e.prev_pos < e.pos) "
)
# Every event row no case's history reaches: forged rows, and the events of a case whose row was deleted.
_UNLINKED = (
    "WITH RECURSIVE chain(pos) AS (SELECT last_pos FROM cases WHERE last_pos IS NOT NULL "
    "UNION ALL SELECT e.prev_pos FROM events e JOIN chain ON e.pos = chain.pos WHERE e.prev_pos < e.pos) "
    "SELECT e.case_id, e.seq, e.pos, EXISTS (SELECT 1 FROM cases c WHERE c.id = e.case_id) FROM events e "
    "WHERE e.pos NOT IN chain ORDER BY e.pos"
)

# After an import (load_events filed each acknowledged event in outbox_acked): the cursor before the first
# event still pending, or after the last event when none is.
_CURSOR_AFTER_LOAD = (
    "UPDATE meta SET value = CAST(coalesce((SELECT min(pos) - 1 FROM events e WHERE NOT EXISTS "
    "(SELECT 1 FROM outbox_acked a WHERE a.pos = e.pos)), (SELECT max(pos) FROM events), 0) AS TEXT) "
    "WHERE key = 'outbox_cursor'"
)

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _serialized(read: Callable[Concatenate[SQLiteStore, _P], _R]) -> Callable[Concatenate[SQLiteStore, _P], _R]:
    """A read of committed data. Inside the caller's own change or batch it runs on the writing connection
    (it sees the change's writes); otherwise on a connection of the calling thread's own, in one read
    transaction, so it neither waits for the writers' lock and commits (WAL lets readers run beside the
    writer) nor sees a group that is not committed yet."""

    @functools.wraps(read)
    def locked(store: SQLiteStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        if store._readers is None or store._serializer.holding():
            with store._serializer.reading():
                return read(store, *args, **kwargs)
        reader = store._reader()
        store._reading.db = reader
        reader.execute("BEGIN DEFERRED")  # one snapshot for the read's statements
        try:
            return read(store, *args, **kwargs)
        finally:
            reader.execute("COMMIT")
            store._reading.db = None

    return faults.named(locked)


class SQLiteStore:
    def __init__(
        self,
        path: str | Path = "complaintflow.db",
        *,
        synchronous: str = "FULL",
        background_checkpoint: bool | None = None,
        group_commit: bool = True,
        for_upgrade: bool = False,
        writer_turns: bool = False,
    ):
        self.path = str(path)
        self._for_upgrade = for_upgrade
        self.format_version = FORMAT_VERSION
        self._writable = True  # False while the store has an older format: reads only, until ``upgrade``
        self.rule2_from_pos = 1  # events before this position are hashed under rule 1
        self._personal = "personal"  # the column of kept personal values; a store older than format 5 has none
        self._columns(tenants=True)
        synchronous = synchronous.upper() if isinstance(synchronous, str) else synchronous
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise StoreError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
        if background_checkpoint is None:
            # Measured (BENCHMARKS.md): without fsyncs per commit, copying the WAL back inline costs more
            # than the commits; with them, a second connection's fsyncs slow every commit's own.
            background_checkpoint = synchronous in ("OFF", "NORMAL")
        if self.path != ":memory:":
            _refuse_foreign_file(Path(self.path))
            faults.refuse_foreign_wal(self.path)
        self._checkpointer: _Checkpointer | None = None
        # Reads outside a change, on a connection per thread (``_serialized``); an in-memory database is
        # one connection's alone, so there every read takes the lock.
        self._reading = threading.local()
        self._readers: list[sqlite3.Connection] | None = [] if self.path != ":memory:" else None
        self._readers_lock = threading.Lock()
        try:
            # One writing connection serves every thread's changes, one at a time (engine/store/group.py):
            # queued threads' changes commit together. Reads outside a change go on each thread's own
            # connection (``_serialized``), so no thread reads what another has not committed.
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            # Freed space is overwritten with zeros, so an erased personal value, or an older copy of a case
            # row holding one, is not left readable in the file (docs/privacy.md).
            self.db.execute("PRAGMA secure_delete=ON")
            self.db.execute(f"PRAGMA synchronous={synchronous}")
            # A round of due cases reads each case's page and its head event's (each on a page of its own), then
            # writes them: 16 MB keeps a round's pages between the two, where SQLite's 2 MB read half of them
            # again from the file (BENCHMARKS.md).
            self.db.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KB}")
            if background_checkpoint and self.path != ":memory:":
                self.db.execute("PRAGMA wal_autocheckpoint=0")
                self._checkpointer = _Checkpointer(self.path)
            # Else SQLite copies the WAL back inline, except while the scheduler catches up (``batch``).
            self._defer_copy = not background_checkpoint and self.path != ":memory:"
            self._deferring = False  # inline copies are held back now
            self._caught_up = False  # a round found nothing due: time to copy back what was held
            self._read_last_pos: dict[tuple[str, int], int | None] = {}  # (case id, revision) -> last_pos
            # Several processes writing the file (serve --workers) queue for their turns on a lock file.
            self._turns = WriterTurns(self.path) if writer_turns and self.path != ":memory:" else None
            self._serializer = Serializer(
                self._turns.around(self.db.execute) if self._turns is not None else self.db.execute,
                group_commit=group_commit,
                committed=self._checkpointer.committed if self._checkpointer is not None else None,
            )
            self._open()
        except sqlite3.DatabaseError as exc:
            raise faults.describe(exc, self.path) from None

    # -- format ------------------------------------------------------------------
    def _columns(self, *, tenants: bool) -> None:
        """The SQL naming a case's tenant: its column, or (a store older than format 6) the default."""
        self._tenant = "tenant" if tenants else "'default'"
        self._case_columns = _CASE_COLUMNS if tenants else _CASE_COLUMNS_BEFORE_TENANTS
        self._with_head = _with_head(self._case_columns)

    def _open(self) -> None:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            with self.writing():
                self._run_script(_SCHEMA_V6)
                self.db.executemany(
                    "INSERT INTO meta VALUES (?, ?)", [("format", FORMAT_NAME), ("format_version", str(FORMAT_VERSION))]
                )
                self.db.execute(f"PRAGMA user_version={faults.new_store_mark()}")  # tells its WAL from another's
            return
        if "meta" not in tables:
            raise StoreError(f"{self.path} is an SQLite file but not a complaintflow store")
        meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        if not meta:  # a store's meta always has rows: its page was lost (a cut or damaged file)
            raise faults.damaged(self.path, "its meta table is empty")
        if meta.get("format") != FORMAT_NAME:
            raise StoreError(f"{self.path} is an SQLite file but not a complaintflow store")
        version = faults.format_version(
            self.path, meta.get("format_version"), known=(*UPGRADES, *range(READABLE_FROM, FORMAT_VERSION + 1))
        )
        if version > FORMAT_VERSION:
            raise StoreError(
                f"{self.path} has store format {version}, newer than this complaintflow "
                f"understands ({FORMAT_VERSION}); upgrade complaintflow"
            )
        self.format_version = version
        if version < 5:
            self._personal = "NULL"
        if version < 6:
            self._columns(tenants=False)
        if version < FORMAT_VERSION:
            # Nothing is upgraded behind the caller's back: an older store is read as it is, or not at all.
            self._writable = False
            self.rule2_from_pos = int(meta.get("rule2_from_pos", 2**63 - 1))  # before format 4: rule 1 alone
            if version < READABLE_FROM and not self._for_upgrade:
                raise StoreError(
                    f"{self.path} has store format {version}, older than this complaintflow reads; "
                    f"run 'complaintflow upgrade --db {self.path}' first"
                )
        else:
            faults.refuse_missing_tables(self.path, tables)
            self.rule2_from_pos = int(meta.get("rule2_from_pos", "1"))

    def upgrade(self, seal: Callable[[], tuple[int, int, str]], at: int) -> Upgrade | None:
        """Bring an older store to the current format in one transaction, or leave it as it was.

        The layout steps run first; then ``seal`` checks every history under the rule its events were
        hashed with and returns (cases, events, Merkle root over every case's head), raising to refuse;
        then the upgrade is recorded with that seal, and events from the next position on use rule 2.
        Nothing is rehashed. None when the store is current already."""
        if self._writable:
            return None
        self._writable = True
        try:
            with self.writing():
                version = self.format_version
                while version < READABLE_FROM:
                    self._run_script(UPGRADES[version])
                    version += 1
                cases, events, root = seal()
                first_pos = self.last_event_pos() + 1
                if self.format_version < 4:  # 3 -> 4: new events are hashed under rule 2 from here on
                    self._run_script(_UPGRADES_TABLE)
                    self.db.execute("INSERT INTO meta VALUES ('rule2_from_pos', ?)", (str(first_pos),))
                if self.format_version < 5:  # 4 -> 5
                    self.db.execute(_PERSONAL_COLUMN)
                self._run_script(_TENANTS)  # 5 -> 6
                self.db.execute(
                    "INSERT INTO upgrades VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (FORMAT_VERSION, self.format_version, at, cases, events, root, first_pos),
                )
                self.db.execute("UPDATE meta SET value=? WHERE key='format_version'", (str(FORMAT_VERSION),))
                rule2_from = int(self.db.execute("SELECT value FROM meta WHERE key='rule2_from_pos'").fetchone()[0])
        except BaseException:
            self._writable = False
            raise
        upgrade = Upgrade(self.format_version, FORMAT_VERSION, at, cases, events, root, first_pos)
        self._personal = "personal"
        self._columns(tenants=True)
        self.format_version, self.rule2_from_pos = FORMAT_VERSION, rule2_from
        return upgrade

    @_serialized
    def upgrades(self) -> list[Upgrade]:
        """Every upgrade this store went through, oldest first."""
        if self.format_version < FORMAT_VERSION:
            return []
        rows = self.db.execute(
            "SELECT from_format, to_format, at, cases, events, root, first_pos FROM upgrades ORDER BY to_format"
        ).fetchall()
        return [Upgrade(*row) for row in rows]

    @_serialized
    def heads_before(self, pos: int) -> list[tuple[str, int, str]]:
        """(case id, seq, hash) of each case's latest event before position ``pos``, sorted by case id: the
        heads an upgrade sealed, as the store holds them now."""
        return self.db.execute(
            "SELECT case_id, seq, hash FROM events WHERE pos IN "
            "(SELECT max(pos) FROM events WHERE pos < ? GROUP BY case_id) ORDER BY case_id",
            (pos,),
        ).fetchall()

    @_serialized
    def unlinked_events(self) -> list[tuple[str, int, int, bool]]:
        """(case id, seq, position, whether the case row exists) of every event row that no case's history
        reaches from its row: a row someone inserted, or the events of a case whose row was deleted."""
        return [(r[0], r[1], r[2], bool(r[3])) for r in self.db.execute(_UNLINKED).fetchall()]

    def _run_script(self, script: str) -> None:
        """Statements one by one inside the caller's transaction (executescript would commit first)."""
        for statement in script.split(";"):
            if statement.strip():
                self.db.execute(statement)

    def writing(self) -> AbstractContextManager[None]:
        """One change around reads and a commit: what is read inside cannot change before the commit,
        because SQLite lets one writer at a time hold the file. Reading inside it is also cheaper than
        reading before it, which would open a read transaction of its own. Under concurrent callers,
        several changes commit in one transaction, each in its own SAVEPOINT (engine/store/group.py);
        the block exits only once its change is committed."""
        if not self._writable:
            why = "whose events were hashed under an older rule" if self.format_version < 4 else "made before tenants"
            raise StoreError(
                f"{self.path} has store format {self.format_version}, {why}; "
                f"run 'complaintflow upgrade --db {self.path}' to verify and seal it before changing it"
            )
        return self._serializer.writing()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many changes of this thread in one transaction, one SAVEPOINT each (engine/store/group.py).

        At FULL and EXTRA, SQLite copies the WAL back into the file inside the commit that fills 1,000 pages,
        which cost a round about as much as its fsyncs (BENCHMARKS.md). Once a batch writes, that copy
        waits (up to ``DEFERRED_PAGES``) until a round finds nothing due, when the scheduler has caught up;
        then the whole WAL is copied back once, off the firing path (an idle scheduler writes nothing).
        Every commit is still fsynced: a copy back moves committed pages into the file, it makes nothing
        durable."""
        outermost = False
        try:
            with self._serializer.batch():
                outermost = self._serializer._batching == 1
                if outermost:
                    # Each change in the batch is a SAVEPOINT, and SQLite journals the pages it changes; past
                    # 64 KB that journal is a temporary file, so a round wrote its ~300 pages there as well
                    # (20,000 writes for 10,000 due cases). In memory for the batch only: a big sort on this
                    # connection (an export's, an upgrade's) keeps its temporary files.
                    self._temp_store("MEMORY")
                yield
        finally:
            if outermost:
                with self._serializer.reading():  # after the batch's commit: no transaction is open
                    self._temp_store("DEFAULT")
        if self._caught_up:
            self._copy_back()

    def _hold_copies(self) -> None:
        """A batch writes: SQLite's inline copies of the WAL wait until a round finds nothing due."""
        if self._defer_copy and not self._deferring and self._serializer._batching:
            self._db.execute(f"PRAGMA wal_autocheckpoint={DEFERRED_PAGES}")
            self._deferring = True

    def _temp_store(self, where: str) -> None:
        try:
            self._db.execute(f"PRAGMA temp_store={where}")
        except sqlite3.Error:
            pass  # a statement of the connection still runs: the journal stays where it was, only slower

    def _copy_back(self) -> None:
        """The WAL held back during a catch-up copied into the file (PASSIVE: no other connection waits), and
        SQLite's own copies on again."""
        with self._serializer.reading():  # commits an open group first: no transaction is open here
            if not self._caught_up:
                return
            self._caught_up = False
            try:
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error:
                return  # busy or failing: the next round that finds nothing due tries again
            self._db.execute(f"PRAGMA wal_autocheckpoint={INLINE_PAGES}")
            self._deferring = False

    # -- processes -----------------------------------------------------------------
    @faults.named
    def save_process(self, process: StoredProcess) -> None:
        with self.writing():
            self.db.execute(
                "INSERT OR IGNORE INTO processes VALUES (?, ?, ?, ?)",
                (process.content_hash, process.process_id, process.version, process.source),
            )
            self.db.execute(
                "INSERT OR IGNORE INTO tenant_processes VALUES (?, ?)", (process.tenant, process.content_hash)
            )

    @_serialized
    def process(self, content_hash: str) -> StoredProcess:
        row = self.db.execute(
            "SELECT hash, id, version, source FROM processes WHERE hash=?", (content_hash,)
        ).fetchone()
        if row is None:
            raise StoreError(f"process version {content_hash[:12]} is not in this store")
        source = bytes(row[3])
        if hashlib.sha256(source).hexdigest() != row[0]:
            # Cases pin the hash of the text they were opened on; a text edited in the store is not that one.
            raise StoreError(
                f"process {row[1]} version {row[2]}: the stored text does not match its content hash "
                f"{row[0][:12]} (it was edited in the store); nothing runs on it"
            )
        return StoredProcess(row[0], row[1], row[2], source)

    @_serialized
    def processes(self, tenant: str | None = None) -> list[StoredProcess]:
        if self.format_version < 6:
            sql = "SELECT hash, id, version, 'default' AS tenant FROM processes"
        else:
            sql = "SELECT p.hash, p.id, p.version, t.tenant FROM tenant_processes t JOIN processes p ON p.hash = t.hash"
        where, args = (" WHERE tenant = ?", (tenant,)) if tenant is not None else ("", ())
        rows = self.db.execute(f"SELECT * FROM ({sql}){where} ORDER BY tenant, id, version", args).fetchall()
        return [StoredProcess(r[0], r[1], r[2], tenant=r[3]) for r in rows]

    # -- cases and events ------------------------------------------------------------
    @_serialized
    def case(self, case_id: str) -> CaseRecord:
        row = self.db.execute(f"SELECT {self._case_columns} FROM cases WHERE id=?", (case_id,)).fetchone()
        if row is None:
            raise UnknownCaseError(case_id)
        return _case(row)

    @_serialized
    def case_and_head(self, case_id: str) -> tuple[CaseRecord, Head | None]:
        row = self.db.execute(self._with_head + "WHERE c.id=?", (case_id,)).fetchone()
        if row is None:
            raise UnknownCaseError(case_id)
        return _case_and_head(row)

    @_serialized
    def cases(self, query: CaseQuery) -> list[CaseRecord]:
        where, args = [], []
        for column, value in (
            (self._tenant, query.tenant),
            ("process_id", query.process_id),
            ("state", query.state),
            ("owner_role", query.owner_role),
        ):
            if value is not None:
                where.append(f"{column}=?")
                args.append(value)
        if query.open_only:
            where.append("closed_at IS NULL")
        sql = f"SELECT {self._case_columns} FROM cases"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY opened_at, id LIMIT ?"
        return [_case(r) for r in self.db.execute(sql, (*args, query.limit))]

    @_serialized
    def events(self, case_id: str) -> list[EventRecord]:
        columns = f"{_EVENT_COLUMNS}, pos, {self._personal}"
        rows = self.db.execute(
            _CHAIN + f"SELECT {columns} FROM events WHERE pos IN chain ORDER BY pos", (case_id,)
        ).fetchall()
        broken = any(r[1] != n for n, r in enumerate(rows, 1)) or (
            not rows and self.db.execute("SELECT 1 FROM cases WHERE id=?", (case_id,)).fetchone() is not None
        )
        if broken:
            # The chain is broken: someone removed or edited events. Show every event still filed under the
            # case (a scan of the whole table), so verify can name what is missing.
            rows = self.db.execute(f"SELECT {columns} FROM events WHERE case_id=? ORDER BY pos", (case_id,)).fetchall()
        return [_event(r, self.rule2_from_pos) for r in rows]

    @faults.named
    def last_event_pos(self) -> int:
        """The position of the newest event row (0 when there is none), which a seal records."""
        return int(self.db.execute("SELECT coalesce(max(pos), 0) FROM events").fetchone()[0])

    def _pos_of(self, case_id: str, seq: int) -> int | None:
        """Where event ``seq`` of a case is, walking its history back from the latest."""
        row = self.db.execute(
            "SELECT e.pos, e.seq, e.prev_pos FROM cases c JOIN events e ON e.pos = c.last_pos WHERE c.id=?", (case_id,)
        ).fetchone()
        while row is not None and row[1] > seq and row[2] is not None and row[2] < row[0]:
            row = self.db.execute("SELECT pos, seq, prev_pos FROM events WHERE pos=?", (row[2],)).fetchone()
        return row[0] if row is not None and row[1] == seq else None

    @faults.named
    def commit(self, change: Commit) -> None:
        case, db = change.case, self.db
        self._hold_copies()
        with self.writing():
            events = change.events
            if events:
                db.executemany(
                    _INSERT_EVENT,
                    [(n, case.id, *_event_values(e)) for n, e in enumerate(events)],
                )
            if case.revision == 1:
                try:
                    db.execute(
                        f"INSERT INTO cases ({_CASE_COLUMNS}, last_pos) VALUES ({', '.join('?' * 16)}, "
                        f"{_NEWEST_EVENT if events else 'NULL'})",
                        _row(case),
                    )
                except sqlite3.IntegrityError:
                    raise ConflictError(f"case {case.id!r} already exists") from None
                return
            if change.erase_personal:  # before the row names the new events: they keep nothing to erase
                self._erase_personal(case.id, change.erase_personal)
            sql, values = _update(change, None)
            updated = db.execute(sql, values).rowcount
            if updated == 0:
                raise ConflictError(f"case {case.id!r} was changed by someone else; reload it and try again")

    @faults.named
    def commit_all(self, changes: Sequence[Commit]) -> None:
        if any(change.case.revision == 1 or change.erase_personal for change in changes):
            with self.writing():  # not what a round of timers writes: one by one
                for change in changes:
                    self.commit(change)
            return
        self._hold_copies()
        with self.writing():
            # The events in one statement, then the rows in as few as their shapes allow, with every
            # position given: the ones SQLite would have given them committing one change at a time (the
            # writer holds the file, so the newest row is this change's own), so the result is the same.
            (pos,) = self.db.execute("SELECT coalesce(max(pos), 0) FROM events").fetchone()
            events: list[tuple[Any, ...]] = []
            runs: list[tuple[str, list[tuple[Any, ...]]]] = []  # consecutive UPDATEs of one statement
            newest: dict[str, int] = {}  # each case's event written last here
            read = self._read_last_pos
            for change in changes:
                case = change.case
                for event in change.events:
                    pos += 1
                    # The case's first event here follows the one its row names: as the due read saw it at
                    # the revision the change is built on, else looked up (still the old row).
                    before = newest.get(case.id)
                    if before is None:
                        before = read.get((case.id, case.revision - 1))
                    events.append((pos, before, case.id, *_event_values(event)))
                    newest[case.id] = pos
                sql, values = _update(change, pos if change.events else None)
                if runs and runs[-1][0] == sql:
                    runs[-1][1].append(values)
                else:
                    runs.append((sql, [values]))
            self.db.executemany(_INSERT_PLACED, events)
            updated = sum(self.db.executemany(sql, rows).rowcount for sql, rows in runs)
            if updated != len(changes):  # the writing block rolls every change back
                raise ConflictError("a case was changed by someone else meanwhile; reload it and try again")

    def _erase_personal(self, case_id: str, fields: frozenset[str]) -> None:
        """Destroy the kept values of ``fields`` in the case's events (secure_delete zeroes the old text)."""
        changed = []
        for pos, text in self.db.execute(_KEEPING_PERSONAL, (case_id,)).fetchall():
            before = _personal(text) or {}
            kept = without(before, fields)
            if kept != before:
                changed.append((_json(kept) if kept else None, pos))
        self.db.executemany("UPDATE events SET personal=? WHERE pos=?", changed)

    # -- due cases and outbox -------------------------------------------------------------
    @_serialized
    def due_cases(self, now: int, limit: int) -> list[CaseRecord]:
        rows = self.db.execute(
            f"SELECT {self._case_columns} FROM cases WHERE next_due <= ? ORDER BY next_due, id LIMIT ?", (now, limit)
        ).fetchall()
        return [_case(r) for r in rows]

    def due_cases_and_heads(self, now: int, limit: int) -> list[tuple[CaseRecord, Head | None]]:
        # Inside a batch, a change block around the read begins the batch's write transaction (the batch
        # commits it), so no other process's change lands between this read and the changes made from it.
        with self.writing() if self._serializer._batching else nullcontext():
            return self._due_with_heads(now, limit)

    @_serialized
    def _due_with_heads(self, now: int, limit: int) -> list[tuple[CaseRecord, Head | None]]:
        rows = self.db.execute(
            self._with_head + "WHERE c.next_due <= ? ORDER BY c.next_due, c.id LIMIT ?", (now, limit)
        ).fetchall()
        if not rows and self._deferring:
            self._caught_up = True  # the batch copies the WAL back when it ends (``batch``)
        # Where each row's latest event is, at the revision read: ``commit_all`` links the next event to it
        # without looking the case up again (its UPDATE checks the row is still at that revision).
        self._read_last_pos = {(r[0], r[8]): r[19] for r in rows}
        return [_case_and_head(r) for r in rows]

    @_serialized
    def outbox(self, after: str | None, limit: int) -> list[OutboxMessage]:
        start = self._outbox_cursor()
        key = split_message_id(after) if after else None
        if key is not None:
            pos = self._pos_of(*key)
            if pos is not None and pos > start and not self._acked(pos):
                start = pos
        messages: list[OutboxMessage] = []
        while len(messages) < limit:
            rows = self.db.execute(
                "SELECT e.case_id, e.seq, e.at, e.actor, e.role, e.kind, e.payload, e.prev_hash, e.hash, "
                f"c.process_id, e.pos, {self._tenant} FROM events e JOIN cases c ON c.id = e.case_id WHERE e.pos > ? "
                "AND NOT EXISTS (SELECT 1 FROM outbox_acked a WHERE a.pos = e.pos) ORDER BY e.pos LIMIT ?",
                (start, limit - len(messages)),
            ).fetchall()
            if not rows:
                break
            # A row no history reaches was not written by the engine (verify names it): it is never sent.
            linked = self._linked({r[0]: r[10] for r in reversed(rows)})
            messages += [
                outbox_message(
                    EventRecord(r[0], r[1], r[2], r[3], r[4], r[5], _payload(r[6]), r[7], r[8], r[6]), r[9], r[11]
                )
                for r in rows
                if r[10] in linked
            ]
            start = rows[-1][10]
        return messages

    def _linked(self, lowest_by_case: dict[str, int]) -> set[int]:
        """The positions, from each case's lowest one given on, that its history reaches walking back from its
        row. Outbox messages are mostly recent events, so the walks are short."""
        linked: set[int] = set()
        for case_id, lowest in lowest_by_case.items():
            row = self.db.execute("SELECT last_pos FROM cases WHERE id=?", (case_id,)).fetchone()
            pos = row[0] if row is not None else None
            while pos is not None and pos >= lowest:
                linked.add(pos)
                before = self.db.execute("SELECT prev_pos FROM events WHERE pos=?", (pos,)).fetchone()
                pos = before[0] if before is not None and before[0] is not None and before[0] < pos else None
        return linked

    @faults.named
    def ack_outbox(self, ids: Sequence[str]) -> None:
        keys = [key for key in map(split_message_id, ids) if key is not None]
        with self.writing():
            cursor = self._outbox_cursor()
            for key in keys:
                pos = self._pos_of(*key)
                if pos is not None and pos > cursor:
                    self.db.execute("INSERT OR IGNORE INTO outbox_acked VALUES (?)", (pos,))
            # Move the cursor over every acknowledgement that now follows it without a gap.
            for (pos,) in self.db.execute("SELECT pos FROM outbox_acked ORDER BY pos").fetchall():
                if pos != cursor + 1:
                    break
                cursor = pos
            self.db.execute("DELETE FROM outbox_acked WHERE pos <= ?", (cursor,))
            self.db.execute("UPDATE meta SET value=? WHERE key='outbox_cursor'", (str(cursor),))

    def _outbox_cursor(self) -> int:
        return int(self.db.execute("SELECT value FROM meta WHERE key='outbox_cursor'").fetchone()[0])

    def _acked(self, pos: int) -> bool:
        return self.db.execute("SELECT 1 FROM outbox_acked WHERE pos=?", (pos,)).fetchone() is not None

    # -- moving a whole store (store/transfer.py) ---------------------------------------------
    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction: WAL keeps its view while other processes write."""
        with self._serializer.reading():
            self.db.execute("BEGIN DEFERRED")
            try:
                yield
            finally:
                self.db.execute("COMMIT")

    @_serialized
    def totals(self) -> tuple[int, int]:
        row = self.db.execute("SELECT count(DISTINCT case_id), count(*) FROM events").fetchone()
        return int(row[0]), int(row[1])

    @_serialized
    def placed_events(self, after: int, limit: int) -> list[PlacedEvent]:
        cursor = self._outbox_cursor()
        rows = self.db.execute(
            f"SELECT {_EVENT_COLUMNS}, pos, {self._personal}, prev_pos, "
            "pos > ? AND NOT EXISTS (SELECT 1 FROM outbox_acked a WHERE a.pos = events.pos) "
            "FROM events WHERE pos > ? ORDER BY pos LIMIT ?",
            (cursor, after, limit),
        ).fetchall()
        return [PlacedEvent(r[9], r[11], _event(r, self.rule2_from_pos), bool(r[12])) for r in rows]

    @_serialized
    def holds_anything(self) -> bool:
        return any(
            self.db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() for table in ("processes", "cases", "events")
        )

    def load_events(self, events: Sequence[PlacedEvent]) -> None:
        with self.writing():
            self.db.executemany(
                "INSERT INTO events (pos, prev_pos, case_id, seq, at, actor, role, kind, payload, prev_hash, hash, "
                "personal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(p.pos, p.prev_pos, *_event_values(p.event)) for p in events],
            )
            self.db.executemany("INSERT INTO outbox_acked VALUES (?)", [(p.pos,) for p in events if not p.pending])

    def load_cases(self, cases: Sequence[CaseRecord], last_pos: Mapping[str, int]) -> None:
        with self.writing():
            self.db.executemany(
                f"INSERT INTO cases ({_CASE_COLUMNS}, last_pos) VALUES ({', '.join('?' * 17)})",
                [(*_row(case), last_pos[case.id]) for case in cases],
            )

    def load_history(self, upgrades: Sequence[Upgrade], rule2_from_pos: int) -> None:
        with self.writing():
            self.db.executemany(
                "INSERT INTO upgrades VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(u.to_format, u.from_format, u.at, u.cases, u.events, u.root, u.first_pos) for u in upgrades],
            )
            self.db.execute("UPDATE meta SET value=? WHERE key='rule2_from_pos'", (str(rule2_from_pos),))
            # The cursor stops before the first pending event; acknowledgements after it stay rows.
            self.db.execute(_CURSOR_AFTER_LOAD)
            self.db.execute(
                "DELETE FROM outbox_acked WHERE pos <= (SELECT CAST(value AS INTEGER) FROM meta "
                "WHERE key='outbox_cursor')"
            )
            self.rule2_from_pos = rule2_from_pos

    # The service directory's tables, in this file beside the store's: read in the export's snapshot and loaded
    # in the import's transaction, so the directory moves with the cases it names (store/transfer_directory.py).
    directory_catalog = DIRECTORY_CATALOG

    @_serialized
    def directory_rows(self, query: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.db.execute(query).fetchall()]

    def load_directory_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        with self.writing():
            marks = ", ".join("?" * len(columns))
            self.db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    @faults.named
    def scrub(self) -> bool:
        """Copy the WAL into the file and empty it, so no page image from before an erasure is left in it;
        False when a reader kept the copy from finishing (run it again later)."""
        with self._serializer.reading():
            busy, _, _ = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return bool(busy == 0)

    @property
    def db(self) -> sqlite3.Connection:
        """The connection this thread's statement runs on: its reading connection inside a read outside a
        change, else the writing one."""
        reader: sqlite3.Connection | None = getattr(self._reading, "db", None)
        return reader if reader is not None else self._db

    def _reader(self) -> sqlite3.Connection:
        reader: sqlite3.Connection | None = getattr(self._reading, "connection", None)
        if reader is None:
            reader = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=False)
            reader.execute("PRAGMA query_only=1")
            self._reading.connection = reader
            with self._readers_lock:
                assert self._readers is not None
                self._readers.append(reader)
        return reader

    def close(self) -> None:
        with self._serializer.reading():  # commits an open group first
            if self._checkpointer is not None:
                self._checkpointer.close()
            with self._readers_lock:
                for reader in self._readers or ():
                    reader.close()
            self._db.close()  # the last connection to close checkpoints what is left
            if self._turns is not None:
                self._turns.close()


class _Checkpointer:
    """Checkpoints the WAL on its own connection and thread, so no commit waits for it.

    Every ``every`` commits it runs a PASSIVE checkpoint, which blocks neither writers nor readers. Under a
    steady stream of commits the WAL may never be fully copied at the instant a writer starts, which is
    when SQLite rewinds it, so once it holds ``restart_frames`` frames a RESTART checkpoint makes the next
    writer wait for the copy to finish and rewind. The thread starts with the first batch of commits.
    """

    def __init__(self, path: str, every: int = 100, restart_frames: int = 2000):
        self.path, self.every, self.restart_frames = path, every, restart_frames
        self._commits = 0
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def committed(self) -> None:
        self._commits += 1
        if self._commits < self.every:
            return
        self._commits = 0
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="complaintflow-checkpoint", daemon=True)
            self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0, check_same_thread=False)
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                try:
                    _, frames, _ = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames >= self.restart_frames:
                        db.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
                except sqlite3.Error:
                    pass  # busy or closing: the next batch of commits tries again
        finally:
            db.close()

    def close(self) -> None:
        if self._thread is not None:
            self._stopping = True
            self._wake.set()
            self._thread.join()


def _refuse_foreign_file(path: Path) -> None:
    """An existing file that is not SQLite at all gets a clear message before sqlite3 touches it."""
    if path.exists() and path.stat().st_size > 0:
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise StoreError(f"{path} is not a complaintflow store (not an SQLite file)")


_json = canonical.dumps


def _update(change: Commit, last_pos: int | None) -> tuple[str, tuple[Any, ...]]:
    """The UPDATE of a changed case row and its values; the row names its newest event at ``last_pos``, or (None)
    the newest event row when the change has events."""
    case = change.case
    # SQLite rewrites every index on a column the SET names, even to the same value, so only a closing
    # commit names closed_at and only a commit that moves next_due names it.
    extra = ""
    args: list[int | None] = []
    if case.closed_at is not None:
        extra += ", closed_at=?"
        args.append(case.closed_at)
    if case.next_due != change.next_due_before:
        extra += ", next_due=?"
        args.append(case.next_due)
    if last_pos is not None:
        extra += ", last_pos=?"
        args.append(last_pos)
    elif change.events:
        extra += ", last_pos=" + _NEWEST_EVENT
    sql = (
        "UPDATE cases SET process_hash=?, state=?, branches=?, data=?, owner_role=?, clocks=?, revision=?, "
        f"last_at=?, last_hash=?, last_seq=?{extra} WHERE id=? AND revision=?"
    )
    return sql, (*_moved(case), case.last_at, case.last_hash, case.last_seq, *args, case.id, case.revision - 1)


def _event(r: Sequence[Any], rule2_from: int) -> EventRecord:
    """An event from ``_EVENT_COLUMNS``, ``pos`` and ``personal``, with the hash rule its position says."""
    rule = 2 if r[9] >= rule2_from else 1
    return EventRecord(r[0], r[1], r[2], r[3], r[4], r[5], _payload(r[6]), r[7], r[8], r[6], rule, _personal(r[10]))
