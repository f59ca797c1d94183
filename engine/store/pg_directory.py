"""The service directory (engine/store/directory.py) in the PostgreSQL store's own database and schema.

Its tables are prefixed ``svc_`` and sit beside the store's, so every ``serve`` and ``worker`` on one
database shares users, tokens, idempotent replies, assignments, the notifier's cursor and deliveries.
They are the directory's own (not the Store protocol), with their own versioned migrations
(``svc_migrations``), applied in one transaction under ``pg_advisory_xact_lock`` (a transaction-scoped
lock, which PgBouncer's transaction mode keeps). Leases are timed by the database's clock
(``clock_timestamp()``), so workers whose machines' clocks disagree still agree on when a lease ran out.

Two connections: one writes (one transaction per change), one reads committed rows for the request
threads (every request looks up its token), each guarded by a lock, so a token lookup never waits behind
a write. Neither prepares statements (PgBouncer's transaction mode cannot), neither sets session state.
psycopg's second home (the first is engine/store/postgres.py): these tables are not the Store protocol.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from .base import StoreError, StoreUnavailableError
from .directory import SQLDirectory, Transaction
from .postgres import FORMAT_NAME, NotAStoreError, _first_line, connect, shown_url

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "users, credentials, idempotent replies, assignments, the notifier's cursor, leased deliveries, workers",
        """
CREATE TABLE svc_users (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, roles TEXT NOT NULL, contacts TEXT NOT NULL, password_hash TEXT,
  admin INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL, disabled_at BIGINT);
CREATE TABLE svc_credentials (
  digest TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, user_id TEXT NOT NULL, roles TEXT,
  label TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT, revoked_at BIGINT);
CREATE INDEX svc_credentials_user ON svc_credentials (user_id);
CREATE TABLE svc_idempotency (
  user_id TEXT NOT NULL, key TEXT NOT NULL, body_digest TEXT NOT NULL, status INTEGER NOT NULL,
  response TEXT NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (user_id, key));
CREATE TABLE svc_deliveries (
  id TEXT PRIMARY KEY, message_id TEXT NOT NULL, channel TEXT NOT NULL, notification TEXT NOT NULL,
  status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at BIGINT NOT NULL, last_error TEXT,
  created_at BIGINT NOT NULL, done_at BIGINT, lease_until DOUBLE PRECISION, owner TEXT);
CREATE INDEX svc_deliveries_due ON svc_deliveries (next_at) WHERE status = 'pending';
CREATE INDEX svc_deliveries_leased ON svc_deliveries (owner, lease_until) WHERE owner IS NOT NULL;
CREATE INDEX svc_deliveries_created ON svc_deliveries (created_at, id);
CREATE TABLE svc_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE svc_assignments (
  case_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, by_user TEXT NOT NULL, at BIGINT NOT NULL);
CREATE INDEX svc_assignments_user ON svc_assignments (user_id);
CREATE TABLE svc_assignment_log (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, case_id TEXT NOT NULL, user_id TEXT, by_user TEXT NOT NULL,
  at BIGINT NOT NULL);
CREATE INDEX svc_assignment_log_case ON svc_assignment_log (case_id, seq);
CREATE TABLE svc_workers (id TEXT PRIMARY KEY, started_at DOUBLE PRECISION NOT NULL,
  last_beat DOUBLE PRECISION NOT NULL)
""",
    ),
    (
        "tenants: each user and each delivery belongs to one (rows before them to the default tenant)",
        """
ALTER TABLE svc_users ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
ALTER TABLE svc_deliveries ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
CREATE INDEX svc_users_tenant ON svc_users (tenant, id);
CREATE INDEX svc_deliveries_tenant ON svc_deliveries (tenant, created_at, id)
""",
    ),
    (
        "tenants on idempotent replies (their user's), assignments and the assignment log (their case's)",
        """
ALTER TABLE svc_idempotency ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
ALTER TABLE svc_assignments ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
ALTER TABLE svc_assignment_log ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
UPDATE svc_idempotency i SET tenant = u.tenant FROM svc_users u WHERE u.id = i.user_id;
UPDATE svc_assignments a SET tenant = c.tenant FROM cases c WHERE c.id = a.case_id;
UPDATE svc_assignment_log l SET tenant = c.tenant FROM cases c WHERE c.id = l.case_id
""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
_MIGRATION_LOCK = 0x7376635F64697200  # "svc_dir": two processes never migrate the directory at once
# The database's clock, read inside each lease's transaction (not now(): that is when the transaction began).
DATABASE_CLOCK = "extract(epoch FROM clock_timestamp())::float8"


class _Tx:
    """One connection's statements with ``?`` placeholders; a driver failure is a one-line StoreError."""

    def __init__(self, conn: psycopg.Connection[Any], shown: str) -> None:
        self.conn, self.shown = conn, shown

    def execute(self, sql: str, args: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        try:
            return self.conn.execute(sql.replace("%", "%%").replace("?", "%s"), args, prepare=False)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            lost = self.conn.closed or self.conn.broken  # retry-able: the API answers 503, the loops back off
            kind = StoreUnavailableError if lost else StoreError
            raise kind(f"directory {self.shown}: the database connection failed: {_first_line(exc)}") from None
        except psycopg.Error as exc:  # a table dropped or altered by hand, no permission
            raise StoreError(f"directory {self.shown}: the database refused a statement: {_first_line(exc)}") from None


class PostgresDirectory(SQLDirectory):
    """The service's tables in a PostgreSQL store's database (``url``, as ``--db`` gives it)."""

    _FORGET_REPLIES = "DELETE FROM svc_idempotency WHERE response::jsonb ->> 'id' = ?"
    _LOG_ORDER = "seq"

    def __init__(self, url: str, *, clock_sql: str = DATABASE_CLOCK) -> None:
        self.url, self.shown = url, shown_url(url)
        self._clock_sql = clock_sql  # tests put a table they move in place of the real clock
        self._write_lock, self._read_lock = threading.Lock(), threading.Lock()
        self._writer = self._connect()
        try:
            self._migrate()
            self._reader = self._connect()
        except BaseException:
            self._writer.close()
            raise

    def _connect(self) -> psycopg.Connection[Any]:
        return connect(self.url)  # the store's own opening: the same checks, timeouts and one-line failures

    def _migrate(self) -> None:
        try:
            with self._writing() as tx:
                tx.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
                listed = tx.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                tables = {r[0] for r in listed.fetchall()}
                format_row = (
                    tx.execute("SELECT value FROM meta WHERE key = 'format'").fetchone() if "meta" in tables else None
                )
                if format_row is None or format_row[0] != FORMAT_NAME:
                    raise NotAStoreError(f"store {self.shown}: the database is not a complaintflow store")
                if "svc_migrations" not in tables:
                    tx.execute(
                        "CREATE TABLE svc_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                        "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                    )
                current = int(tx.execute("SELECT coalesce(max(version), 0) FROM svc_migrations").fetchone()[0])
                if current > SCHEMA_VERSION:
                    raise NotAStoreError(
                        f"store {self.shown}: the service directory has schema version {current}, newer than this "
                        f"complaintflow understands ({SCHEMA_VERSION}); upgrade complaintflow"
                    )
                for version, (name, script) in enumerate(MIGRATIONS[current:], start=current + 1):
                    tx.execute(script)  # without parameters, one call runs every statement of the script
                    tx.execute("INSERT INTO svc_migrations (version, name) VALUES (?, ?)", (version, name))
        except NotAStoreError:
            raise
        except StoreError as exc:
            raise NotAStoreError(str(exc)) from None  # opening is all or nothing: bad input, exit 2

    def _fresh(self, conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
        """The connection, opened again if the server dropped it (a restart): the call in hand goes on."""
        if not (conn.closed or conn.broken):
            return conn
        conn.close()
        return self._connect()

    @contextmanager
    def _writing(self) -> Iterator[Transaction]:
        with self._write_lock:
            self._writer = self._fresh(self._writer)
            try:
                with self._writer.transaction():
                    yield _Tx(self._writer, self.shown)
            except psycopg.Error as exc:  # the COMMIT itself failed
                kind = StoreUnavailableError if self._writer.closed or self._writer.broken else StoreError
                raise kind(f"directory {self.shown}: the change was not committed: {_first_line(exc)}") from None

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        """Committed rows. A read is safe to repeat, so one the server dropped the connection under runs
        again on a new connection (a change is not: it fails, and the next change reconnects)."""
        with self._read_lock:
            try:
                return self._fetch(sql, args)
            except StoreError:
                if not self._reader.broken:
                    raise
            return self._fetch(sql, args)  # once more, on a new connection

    def _fetch(self, sql: str, args: Sequence[Any]) -> list[Any]:
        self._reader = self._fresh(self._reader)
        return _Tx(self._reader, self.shown).execute(sql, args).fetchall()

    def _now_sql(self, wall_now: float) -> tuple[str, tuple[Any, ...]]:
        return self._clock_sql, ()

    def close(self) -> None:
        with self._write_lock, self._read_lock:
            self._writer.close()
            if hasattr(self, "_reader"):
                self._reader.close()
