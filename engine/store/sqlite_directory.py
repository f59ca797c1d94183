"""The service directory (engine/store/directory.py) in the store's SQLite file, one file to back up.

A connection of its own writes, one transaction per change (``BEGIN IMMEDIATE``); reads run on a
connection per thread, which in WAL mode waits neither for other readers nor for the writer. Leases are
timed by the wall clock the notifier passes in (``wall_now``): every process on one file shares the
machine's clock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .base import StoreError
from .directory import SQLDirectory, Transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS svc_users (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, roles TEXT NOT NULL, contacts TEXT NOT NULL,
    password_hash TEXT, admin INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, disabled_at INTEGER,
    tenant TEXT NOT NULL DEFAULT 'default');
CREATE TABLE IF NOT EXISTS svc_credentials (
    digest TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, user_id TEXT NOT NULL,
    roles TEXT, label TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER);
CREATE TABLE IF NOT EXISTS svc_idempotency (
    user_id TEXT NOT NULL, key TEXT NOT NULL, body_digest TEXT NOT NULL, status INTEGER NOT NULL,
    response TEXT NOT NULL, at INTEGER NOT NULL, tenant TEXT NOT NULL DEFAULT 'default', PRIMARY KEY (user_id, key));
CREATE TABLE IF NOT EXISTS svc_deliveries (
    id TEXT PRIMARY KEY, message_id TEXT NOT NULL, channel TEXT NOT NULL, notification TEXT NOT NULL,
    status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
    last_error TEXT, created_at INTEGER NOT NULL, done_at INTEGER, lease_until REAL, owner TEXT,
    tenant TEXT NOT NULL DEFAULT 'default');
CREATE INDEX IF NOT EXISTS svc_deliveries_due ON svc_deliveries (next_at) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS svc_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS svc_assignments (
    case_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, by_user TEXT NOT NULL, at INTEGER NOT NULL,
    tenant TEXT NOT NULL DEFAULT 'default');
CREATE INDEX IF NOT EXISTS svc_assignments_user ON svc_assignments (user_id);
CREATE TABLE IF NOT EXISTS svc_assignment_log (
    case_id TEXT NOT NULL, user_id TEXT, by_user TEXT NOT NULL, at INTEGER NOT NULL,
    tenant TEXT NOT NULL DEFAULT 'default');
CREATE TABLE IF NOT EXISTS svc_workers (id TEXT PRIMARY KEY, started_at REAL NOT NULL, last_beat REAL NOT NULL);
"""
# The directory's tables and their columns (a whole-store export reads them: store/transfer_directory.py).
DIRECTORY_CATALOG = (
    "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p "
    "WHERE m.type = 'table' AND m.name LIKE 'svc^_%' ESCAPE '^'"
)
# The directory's layout: a file whose ``svc_meta`` says less gains what came since, in one transaction.
LAYOUT_KEY, LAYOUT_VERSION = "directory_layout", 3
# Columns each layout added to a table an older release made: (layout, table, column, type).
_ADDED_COLUMNS = (
    (1, "svc_deliveries", "lease_until", "REAL"),
    (1, "svc_deliveries", "owner", "TEXT"),
    (2, "svc_users", "tenant", "TEXT NOT NULL DEFAULT 'default'"),
    (2, "svc_deliveries", "tenant", "TEXT NOT NULL DEFAULT 'default'"),
    (3, "svc_idempotency", "tenant", "TEXT NOT NULL DEFAULT 'default'"),
    (3, "svc_assignments", "tenant", "TEXT NOT NULL DEFAULT 'default'"),
    (3, "svc_assignment_log", "tenant", "TEXT NOT NULL DEFAULT 'default'"),
)
# What layout 3 fills its new columns with: a reply is its user's tenant's, an assignment its case's (the case
# row beside the directory, else the holder's or, for a hand-back, the assigner's tenant: the same one).
_USER_TENANT = "(SELECT u.tenant FROM svc_users u WHERE u.id = {})"
_FILLS = (
    "UPDATE svc_idempotency SET tenant = coalesce(" + _USER_TENANT.format("svc_idempotency.user_id") + ", tenant)",
    "UPDATE svc_assignments SET tenant = coalesce({case}, "
    + _USER_TENANT.format("svc_assignments.user_id")
    + ", tenant)",
    "UPDATE svc_assignment_log SET tenant = coalesce({case}, "
    + _USER_TENANT.format("coalesce(svc_assignment_log.user_id, svc_assignment_log.by_user)")
    + ", tenant)",
)
# Made once the columns they cover are there.
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS svc_deliveries_leased ON svc_deliveries (owner, lease_until) WHERE owner IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS svc_users_tenant ON svc_users (tenant, id)",
    "CREATE INDEX IF NOT EXISTS svc_deliveries_tenant ON svc_deliveries (tenant, created_at)",
)


class SQLiteDirectory(SQLDirectory):
    """Users, credentials, idempotent replies and deliveries, in the store's SQLite file."""

    _FORGET_REPLIES = "DELETE FROM svc_idempotency WHERE json_valid(response) AND json_extract(response, '$.id') = ?"
    _LOG_ORDER = "rowid"
    directory_catalog = DIRECTORY_CATALOG  # a file of its own (the deprecated --directory) is exported from here

    def __init__(self, path: str | Path):
        self._lock = threading.RLock()  # the writing connection, one thread at a time
        try:
            self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
            with self._writing() as tx:
                _upgrade_layout(tx)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the service tables: {exc}") from None
        self._path = str(path)
        self._local = threading.local()  # each thread reads on a connection of its own
        self._readers: list[sqlite3.Connection] = []

    @contextmanager
    def _writing(self) -> Iterator[Transaction]:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        """Committed rows, read on the calling thread's own connection: every request looks up its token
        here, and in WAL mode readers neither wait for each other nor for the writer (SQLite runs the
        query without holding Python's GIL)."""
        return self._reader().execute(sql, args).fetchall()

    def _reader(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            try:
                db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, timeout=30)
                db.execute("PRAGMA query_only=1")
            except sqlite3.Error as exc:
                raise StoreError(f"{self._path}: cannot read the service tables: {exc}") from None
            self._local.db = db
            with self._lock:
                self._readers.append(db)
        return db

    def directory_rows(self, query: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._read(query)]

    def _now_sql(self, wall_now: float) -> tuple[str, tuple[Any, ...]]:
        return "?", (wall_now,)

    def _forgetting(self, tx: Transaction) -> None:
        tx.execute("PRAGMA secure_delete=ON")

    def close(self) -> None:
        with self._lock:
            for reader in self._readers:
                reader.close()
            self._readers.clear()
            self.db.close()


def _upgrade_layout(db: Transaction) -> None:
    """A store from an older release gains the columns added since its tables were made (rows before
    tenants are the default tenant's), with their indexes, in the caller's one transaction; the layout in
    ``svc_meta`` then says so, and later opens skip the look."""
    row = db.execute("SELECT value FROM svc_meta WHERE key=?", (LAYOUT_KEY,)).fetchone()
    layout = int(row[0]) if row else 0
    if layout >= LAYOUT_VERSION:
        return
    for since, table, column, kind in _ADDED_COLUMNS:
        have = {r[1] for r in db.execute(f"PRAGMA table_info({table})").fetchall()}
        if since > layout and column not in have:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    if layout < 3:
        # A store file's case rows name their tenant (from format 6); a separate directory file has none.
        cases = {r[1] for r in db.execute("PRAGMA table_info(cases)").fetchall()}
        for fill in _FILLS:
            table = fill.split()[1]
            case = f"(SELECT c.tenant FROM cases c WHERE c.id = {table}.case_id)" if "tenant" in cases else "NULL"
            db.execute(fill.format(case=case))
    for index in _INDEXES:
        db.execute(index)
    db.execute(
        "INSERT INTO svc_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value=excluded.value",
        (LAYOUT_KEY, str(LAYOUT_VERSION)),
    )


def forget_replies(path: str | Path, case_id: str) -> int:
    """Delete the service's remembered replies that show a case (an ``Idempotency-Key`` start keeps the case
    as it answered), so ``erase`` leaves no copy of its personal values there. A store the service never
    ran on has no such table: nothing to do. Returns how many replies were deleted."""
    try:
        db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the service tables: {exc}") from None
    try:
        if db.execute("SELECT 1 FROM sqlite_master WHERE name='svc_idempotency'").fetchone() is None:
            return 0
        db.execute("PRAGMA secure_delete=ON")
        return int(db.execute(SQLiteDirectory._FORGET_REPLIES, (case_id,)).rowcount)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot clear the service's remembered replies: {exc}") from None
    finally:
        db.close()
