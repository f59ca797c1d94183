"""The PostgreSQL store: the Store contract on a database server, for many processes on one database.

Tables follow docs/postgres.md and carry the same canonical JSON text as the SQLite store
(engine/canonical.py), so a history hashes and verifies the same on either. Each store object holds one
connection that its threads share one at a time, with the SQLite store's group commit
(engine/store/group.py: a change is a transaction, or a SAVEPOINT in the group's open one); a read outside
a change borrows one of a few read connections instead (engine/store/read_pool.py), so it does not wait for
the changes queued on that one. Several
processes on one database are kept apart by the database: a case row read inside a change is locked
(``FOR UPDATE``) until the change commits, so a second writer waits and then reads the first one's result;
the revision check and the unique ``(case_id, seq)`` refuse anything built on a stale row anyway; and
``due_cases`` inside a transaction claims its rows with ``FOR UPDATE SKIP LOCKED``, so two schedulers
never fire one case. The outbox is a table of pending event positions, written with the events and
deleted on acknowledgement. The schema is versioned (``schema_migrations``): opening a database applies
the missing migrations in one transaction; a database with a newer schema, or another program's tables,
is refused with one line. ``connect`` is the one way to open a connection (pg_directory.py uses it too);
the store reopens a lost one on its next call (a change it interrupts fails with ``StoreUnavailableError``),
and needs nothing that outlives a transaction, so it works behind PgBouncer in transaction mode
(docs/postgres.md). psycopg's home, with engine/store/pg_directory.py (the service's tables).
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus

from .. import canonical
from ..runtime.personal import without
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
    StoreUnavailableError,
    UnknownCaseError,
    Upgrade,
    outbox_message,
    split_message_id,
)
from .faults import UnusableStoreError
from .group import Serializer
from .read_pool import READERS, ReadPool
from .rows import CASE_COLUMNS as _CASE_COLUMNS
from .rows import EVENT_COLUMNS as _EVENT_COLUMNS
from .rows import case_and_head_from_row as _case_and_head
from .rows import case_from_row as _case
from .rows import case_row as _row
from .rows import event_values as _event_row
from .rows import moved_values as _moved
from .rows import payload_from_text as _payload
from .rows import personal_from_text as _personal

FORMAT_NAME = "complaintflow-store"

# Schema migrations, in order: MIGRATIONS[n - 1] brings a database from schema version n - 1 to n. Never edit
# one that has shipped; add the next.
MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "cases, events with their personal values, outbox, processes, upgrades",
        """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE processes (
  hash TEXT PRIMARY KEY, id TEXT NOT NULL, version INTEGER NOT NULL, source BYTEA NOT NULL, UNIQUE (id, version));
CREATE TABLE cases (
  id TEXT PRIMARY KEY, process_id TEXT NOT NULL, process_hash TEXT NOT NULL REFERENCES processes(hash),
  state TEXT NOT NULL, branches TEXT NOT NULL, data TEXT NOT NULL, owner_role TEXT, clocks TEXT NOT NULL,
  revision BIGINT NOT NULL, opened_at BIGINT NOT NULL, closed_at BIGINT, last_at BIGINT NOT NULL,
  last_hash TEXT NOT NULL, last_seq BIGINT NOT NULL, next_due BIGINT);
CREATE INDEX cases_opened ON cases (opened_at, id);
CREATE INDEX cases_process_open ON cases (process_id, closed_at);
CREATE INDEX cases_next_due ON cases (next_due, id) WHERE next_due IS NOT NULL;
CREATE TABLE events (
  pos BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  case_id TEXT NOT NULL, seq BIGINT NOT NULL, at BIGINT NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
  kind TEXT NOT NULL, payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, personal TEXT,
  UNIQUE (case_id, seq));
CREATE TABLE outbox (pos BIGINT PRIMARY KEY REFERENCES events(pos));
CREATE TABLE upgrades (
  to_format INTEGER PRIMARY KEY, from_format INTEGER NOT NULL, at BIGINT NOT NULL, cases BIGINT NOT NULL,
  events BIGINT NOT NULL, root TEXT NOT NULL, first_pos BIGINT NOT NULL);
INSERT INTO meta VALUES ('format', 'complaintflow-store');
""",
    ),
    (
        "tenants: a tenant on every case row, process versions deployed per tenant",
        # ADD COLUMN with a constant default rewrites no row (PostgreSQL 11 and later). A process text is kept
        # once; each tenant's deployment of it is a row, unique by (tenant, id, version) as it was by (id, version).
        """
ALTER TABLE cases ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
CREATE INDEX cases_tenant_opened ON cases (tenant, opened_at, id);
CREATE TABLE tenant_processes (
  tenant TEXT NOT NULL, hash TEXT NOT NULL REFERENCES processes(hash), id TEXT NOT NULL, version INTEGER NOT NULL,
  PRIMARY KEY (tenant, hash), UNIQUE (tenant, id, version));
INSERT INTO tenant_processes SELECT 'default', hash, id, version FROM processes;
ALTER TABLE processes DROP CONSTRAINT processes_id_version_key;
""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
# Taken by every process that opens a database, so two never migrate one at once.
_MIGRATION_LOCK = 0x636F6D706C61696E  # "complain"

# A case row with its latest event (audit/rowcheck.py checks one against the other), in one query.
_WITH_HEAD = (
    f"SELECT {', '.join(f'c.{name}' for name in _CASE_COLUMNS.split(', '))}, h.seq, h.at, h.hash FROM cases c "
    "LEFT JOIN LATERAL (SELECT seq, at, hash FROM events WHERE case_id = c.id ORDER BY seq DESC LIMIT 1) h ON true "
)

# A commit that moves a row on: the row, then its events and their outbox entries only if the row was at the
# revision they follow (one round trip; the count says whether it was). Events go as rows of plain values (one
# statement text per count of events): psycopg quotes text arrays in Python, which cost more than the rest.
_EVENT_ROW = "(%s, %s::bigint, %s::bigint, %s, %s, %s, %s, %s, %s, %s::text)"


def _new_events(count: int, only_if: str) -> str:
    """The CTE parts that insert ``count`` events and their outbox entries, if ``only_if`` returned a row."""
    if not count:
        return ""
    return (
        ", new AS (INSERT INTO events (case_id, seq, at, actor, role, kind, payload, prev_hash, hash, personal) "
        f"SELECT * FROM (VALUES {', '.join([_EVENT_ROW] * count)}) AS v WHERE EXISTS (SELECT 1 FROM {only_if}) "
        "ORDER BY 2 RETURNING pos), queued AS (INSERT INTO outbox SELECT pos FROM new)"
    )


@functools.lru_cache(maxsize=8)
def _update_with_events(count: int) -> str:
    return (
        "WITH moved AS (UPDATE cases SET process_hash=%s, state=%s, branches=%s, data=%s, owner_role=%s, "
        "clocks=%s, revision=%s, closed_at=%s, last_at=%s, last_hash=%s, last_seq=%s, next_due=%s "
        f"WHERE id=%s AND revision=%s RETURNING id){_new_events(count, 'moved')} SELECT count(*) FROM moved"
    )


@functools.lru_cache(maxsize=8)
def _insert_with_events(count: int) -> str:
    """A new case's row and its first events, in one statement (a case already there fails it whole)."""
    return (
        f"WITH opened AS (INSERT INTO cases ({_CASE_COLUMNS}) VALUES ({', '.join(['%s'] * 16)}) RETURNING id)"
        f"{_new_events(count, 'opened')} SELECT count(*) FROM opened"
    )


_P = ParamSpec("_P")
_R = TypeVar("_R")


class NotAStoreError(UnusableStoreError):
    """A database URL that leads to no usable store: bad, unreachable, refused, or another program's."""


class DatabaseUnavailableError(NotAStoreError, StoreUnavailableError):
    """The server did not answer (down, starting, restarting, full): worth waiting for, unlike a refusal."""


class _Lost(Exception):
    """The connection went away under a statement (psycopg marked it broken or closed)."""

    def __init__(self, cause: BaseException) -> None:
        self.cause = cause


# psycopg prepares a statement on the server after its fifth run on a connection, which makes the store's
# calls 1.5 to 2 times as fast (bench/pg_prepare.py, BENCHMARKS.md). Behind PgBouncer in transaction mode
# (1.18 and older) the next transaction may run on a server connection that never saw the statement, so a
# URL there says ``prepare_threshold=none`` (complaintflow's own URL option, taken out before libpq sees the URL).
PREPARE_THRESHOLD: int | None = 5
_OWN_OPTION = re.compile(r"([?&])prepare_threshold=([^&#]*)&?")
_NOT_PREPARED = ("26000", "42P05")  # a prepared statement missing on, or already on, the server connection
_NOT_WRITING = ("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")  # what a lost COMMIT cannot have lost

# What a server says when it exists but cannot take a connection now (a refusal for good says otherwise).
_TRANSIENT = re.compile(
    r"starting up|shutting down|in recovery|not yet accepting|too many clients|remaining connection slots|"
    r"terminating connection|cannot connect to server|server login has been failing|query_wait_timeout|"
    r"no more connections allowed",
    re.IGNORECASE,
)


def shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    url = re.sub(r"(://[^/@:]*):[^/@]*@", r"\1:***@", url)
    return re.sub(r"(password=)[^&]*", r"\1***", url)


# PgBouncer's answer after it waited ``query_wait_timeout`` for a server: not worth a second wait at once.
_POOLER_WAITED = "query_wait_timeout"


def connect(url: str, *, timeout: int | None = None) -> psycopg.Connection[Any]:
    """An autocommit connection to the database ``url`` names, with no session state (so PgBouncer's
    transaction mode can share it; the URL's ``prepare_threshold=none`` turns prepared statements off for
    that). Each failure is one line without the password: ``DatabaseUnavailableError`` while the server does
    not answer (worth waiting for), ``NotAStoreError`` when it refuses. Name and signature are stable."""
    shown = shown_url(url)
    url, threshold = _prepare_threshold(url)
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise NotAStoreError(f"--db {shown}: not a PostgreSQL URL ({_first_line(exc)})") from None
    port = params.get("port")
    if port is not None and not str(port).isdigit():
        raise NotAStoreError(f"--db {shown}: the port {port!r} is not a number")
    params.setdefault("connect_timeout", "10")
    if timeout is not None:  # a caller that must not wait long (the clock) overrides the URL's
        params["connect_timeout"] = str(timeout)
    params.setdefault("application_name", "complaintflow")
    try:
        return psycopg.connect(make_conninfo("", **params), autocommit=True, prepare_threshold=threshold)
    except psycopg.Error as exc:
        text = _first_line(exc)
        answered = re.search(r"\b(FATAL|ERROR):", text) is not None
        if not answered or _TRANSIENT.search(text):
            raise DatabaseUnavailableError(f"database not answering at {database_named(url)}: {_reason(exc)}") from None
        hint = ""
        if "unsupported startup parameter" in text:
            hint = " (behind PgBouncer, set the schema with ALTER ROLE ... SET search_path: docs/postgres.md)"
        raise NotAStoreError(f"store {shown}: cannot connect to PostgreSQL: {text}{hint}") from None


def database_time(url: str) -> float:
    """The database server's clock now, as epoch seconds: the one clock every process on the database can
    agree on (``serve`` and ``worker`` set theirs by it, engine/service/skew.py)."""
    with connect(url, timeout=2) as db:  # asked from a request's thread: never a long wait for it
        row = db.execute("SELECT extract(epoch FROM clock_timestamp())").fetchone()
    return float(row[0]) if row is not None else 0.0


def _prepare_threshold(url: str) -> tuple[str, int | None]:
    """The URL without complaintflow's ``prepare_threshold`` option, and the threshold (None: never prepare)."""
    found = _OWN_OPTION.search(url)
    if found is None:
        return url, PREPARE_THRESHOLD
    value = found.group(2).lower()
    if value not in ("none", "off") and not value.isdigit():
        raise NotAStoreError(f"--db {shown_url(url)}: prepare_threshold={value!r} is not a number or none")
    rest = _OWN_OPTION.sub(lambda m: m.group(1), url, count=1).rstrip("?&")
    return rest, None if value in ("none", "off") else int(value)


def database_named(url: str) -> str:
    """``host[:port]/database`` of a URL, as the messages about its server name it (never a password)."""
    try:
        params = conninfo_to_dict(_OWN_OPTION.sub(lambda m: m.group(1), url, count=1).rstrip("?&"))
    except psycopg.ProgrammingError:
        return shown_url(url)
    host = params.get("host") or params.get("hostaddr") or "localhost"
    port = f":{params['port']}" if params.get("port") else ""
    return f"{host}{port}/{params.get('dbname') or params.get('user') or '?'}"


def _reason(exc: BaseException) -> str:
    """The end of libpq's first line ("... failed: Connection refused"), without the address repeated."""
    text = _first_line(exc)
    text = text.rsplit(" failed: ", 1)[-1]
    return re.sub(r"\s+", " ", text.replace("FATAL:", "").replace("ERROR:", "")).strip() or type(exc).__name__


def _serialized(read: Callable[Concatenate[PostgresStore, _P], _R]) -> Callable[Concatenate[PostgresStore, _P], _R]:
    """A read of committed data. Inside the caller's own change or batch it runs on the change connection (it
    sees the change's writes, and locks or claims what it reads); otherwise on a borrowed read connection,
    each statement in autocommit. When none can be borrowed, or the borrowed one turns out lost, it takes its
    turn on the change connection, which reconnects or says the database is away."""

    @functools.wraps(read)
    def locked(store: PostgresStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        lent = None if store._readers is None or store._serializer.holding() else store._readers.borrow()
        if lent is not None:
            store._reading.conn = lent
            try:
                return read(store, *args, **kwargs)
            except _Lost:
                pass  # a read is safe to run again: once more, on the change connection
            finally:
                store._reading.conn = None
                store._readers.give_back(lent)  # type: ignore[union-attr]
        with store._serializer.reading():
            return read(store, *args, **kwargs)

    return locked


class PostgresStore:
    def __init__(self, url: str, *, group_commit: bool = True, readers: int = READERS) -> None:
        """``readers``: connections lent to reads outside a change (0: every read takes its turn on the
        change connection)."""
        self.url = url
        self.shown = shown_url(url)
        self.where = database_named(url)
        self.conn = connect(url)
        self._readers = ReadPool(lambda: connect(url), readers) if readers > 0 else None
        self._reading = threading.local()  # ``conn``: the read connection this thread's read borrowed
        self._open = False  # a transaction this store began is open on ``conn``
        self._committing = False  # a COMMIT is on its way: a connection lost now leaves its outcome unknown
        self._wrote = False  # the open transaction ran a statement that writes (else a lost COMMIT lost nothing)
        self._serializer = Serializer(self._control, group_commit=group_commit)
        # Transaction control the serializer asked for and not sent yet: it goes as one query before the next
        # statement, so a change inside a batch costs two round trips, not three or four (RELEASE of the one
        # before and SAVEPOINT together, then the change; a change that ran nothing sends nothing). A
        # pipeline would send them with the statement, but psycopg's costs more here than the round trip.
        # Only the thread holding the connection touches it.
        self._deferred: list[str] = []
        self._savepoint_unsent = False  # the change's SAVEPOINT was dropped unsent: so is its RELEASE
        self._batching = 0  # nested ``batch`` blocks the connection's holder is inside
        # Events before this position are hashed under rule 1: only those imported from an upgraded store
        # (store/transfer.py); ``meta.rule2_from_pos``, 1 when absent.
        self.rule2_from_pos = 1
        try:
            self._migrate()
        except StoreError as exc:
            self.conn.close()
            if isinstance(exc, NotAStoreError | StoreUnavailableError):
                raise
            raise NotAStoreError(str(exc)) from None  # opening is all or nothing: bad input, exit 2
        except BaseException:
            self.conn.close()
            raise

    # -- connection and schema ------------------------------------------------------------
    def _sql(self, query: str, args: Sequence[Any] | None = None) -> psycopg.Cursor[Any]:
        """One statement, after the deferred transaction control; a lost server or a lock conflict becomes a
        store error of ours. A connection found lost while no transaction of ours is open on the server (a
        read, or a change whose BEGIN is still deferred) is opened again and the statement sent again, once;
        inside one, the change fails. A read on a borrowed connection runs there (``_serialized``)."""
        lent = self._lent()
        if lent is not None:
            return self._read_on(lent, query, args)
        try:
            return self._send(query, args)
        except StoreUnavailableError:
            if query.endswith(("COMMIT", "ROLLBACK")):
                self._open = False  # the transaction is over, whatever became of it: the next change reconnects
            raise

    def _send(self, query: str, args: Sequence[Any] | None) -> psycopg.Cursor[Any]:
        if self._in_transaction() and not query.startswith(_NOT_WRITING):
            self._wrote = True
        deferred, self._deferred = self._deferred, []
        if self.conn.closed or self.conn.broken:
            if self._open:
                raise self._lost(None, sent=False)
            self._reconnect()
        try:
            return self._execute(deferred, query, args)
        except _Lost as lost:
            if self._open or _POOLER_WAITED in str(lost.cause):
                raise self._lost(lost.cause) from None
        self._reconnect()  # nothing was in flight: the statement may run again on a new connection
        try:
            return self._execute(deferred, query, args)
        except _Lost as lost:
            raise self._lost(lost.cause) from None

    def _execute(self, deferred: list[str], query: str, args: Sequence[Any] | None) -> psycopg.Cursor[Any]:
        try:
            if deferred:
                self.conn.execute("; ".join(deferred))  # no parameters: one simple query for them all
            cursor = self.conn.execute(query, args)
            self._open = self.conn.info.transaction_status != TransactionStatus.IDLE
            return cursor
        except (pg_errors.DeadlockDetected, pg_errors.SerializationFailure, pg_errors.LockNotAvailable) as exc:
            raise ConflictError(f"another writer holds the same case; try again ({_first_line(exc)})") from None
        except psycopg.IntegrityError:
            self._open = self.conn.info.transaction_status != TransactionStatus.IDLE
            raise  # the callers say which row was there already
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            if self.conn.closed or self.conn.broken:
                raise _Lost(exc) from None  # ``_open`` stays: the change that was open must fail whole
            raise StoreError(f"store {self.shown}: the database connection failed: {_first_line(exc)}") from None
        except psycopg.Error as exc:  # a table dropped or altered by hand, a missing schema, no permission
            self._open = self.conn.info.transaction_status != TransactionStatus.IDLE
            raise self._refused(exc) from None

    def _read_on(self, lent: psycopg.Connection[Any], query: str, args: Sequence[Any] | None) -> psycopg.Cursor[Any]:
        try:
            return lent.execute(query, args)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            if lent.closed or lent.broken:
                raise _Lost(exc) from None  # ``_serialized`` runs the read again on the change connection
            raise StoreError(f"store {self.shown}: the database connection failed: {_first_line(exc)}") from None
        except psycopg.Error as exc:
            raise self._refused(exc) from None

    def _refused(self, exc: psycopg.Error) -> StoreError:
        if exc.sqlstate in _NOT_PREPARED:
            return StoreError(
                f"store {self.shown}: the database refused a statement: {_first_line(exc)} (behind PgBouncer "
                "in transaction mode, add prepare_threshold=none to the URL: docs/postgres.md)"
            )
        return StoreError(f"store {self.shown}: the database refused a statement: {_first_line(exc)}")

    def _reconnect(self) -> None:
        self.conn.close()
        self.conn = connect(self.url)  # StoreUnavailableError when the server still does not answer

    def _lost(self, cause: BaseException | None, *, sent: bool = True) -> StoreUnavailableError:
        why = f": {_reason(cause)}" if cause is not None else ""
        if not self._open:
            return StoreUnavailableError(f"database not answering at {self.where}{why}")
        if self._committing and sent and self._wrote:
            return StoreUnavailableError(
                f"database connection to {self.where} lost at commit; whether the change was saved is unknown: "
                f"look before trying again{why}"
            )
        return StoreUnavailableError(
            f"database connection to {self.where} lost during a change; nothing of it was saved, try again{why}"
        )

    def _control(self, statement: str) -> None:
        """Transaction control for the serializer (which speaks SQLite's ``BEGIN IMMEDIATE``). BEGIN,
        SAVEPOINT and RELEASE wait for the next statement (``_deferred``); a change that ran none sends none."""
        deferred = self._deferred
        if statement.startswith("BEGIN"):
            deferred.append("BEGIN")
            self._wrote = False
        elif statement == "SAVEPOINT change":
            deferred.append(statement)
        elif statement == "RELEASE change":
            if self._savepoint_unsent:
                self._savepoint_unsent = False
            elif deferred and deferred[-1] == "SAVEPOINT change":
                deferred.pop()  # the change ran no statement
            else:
                deferred.append(statement)
        elif statement == "ROLLBACK TO change" and deferred and deferred[-1] == "SAVEPOINT change":
            deferred.pop()  # nothing of the change reached the server
            self._savepoint_unsent = True
        elif statement in ("COMMIT", "ROLLBACK") and deferred and deferred[0] == "BEGIN":
            self._deferred = []  # no statement ran since BEGIN: the transaction never reached the server
        elif statement == "ROLLBACK":
            self._deferred = []  # undone with everything else
            if self.conn.closed or self.conn.broken:
                self._open = False  # the server dropped the transaction with the connection
            elif self._open:
                self._sql("ROLLBACK")
        elif statement == "COMMIT" and self.conn.info.transaction_status == TransactionStatus.INERROR:
            # PostgreSQL answers COMMIT of a failed transaction with a rollback, not an error.
            self._deferred = []
            raise StoreError(f"store {self.shown}: a statement of the transaction failed; nothing was committed")
        else:  # COMMIT or ROLLBACK TO, in one query with what is still owed before it
            owed, self._deferred = self._deferred, []
            self._committing = statement == "COMMIT"
            try:
                self._sql("; ".join([*owed, statement]))
            finally:
                self._committing = False

    def _in_transaction(self) -> bool:
        """Whether the calling thread is inside its own change or batch (other threads wait for the lock, or
        read on a borrowed connection: never inside the change another thread holds)."""
        if self._lent() is not None:
            return False
        return bool(self._deferred) or self._open

    def _lent(self) -> psycopg.Connection[Any] | None:
        """The read connection the calling thread's read borrowed, if it is inside one."""
        lent: psycopg.Connection[Any] | None = getattr(self._reading, "conn", None)
        return lent

    def _in_batch(self) -> bool:
        """Whether the calling thread holds the change connection inside a ``batch`` whose transaction it has
        not begun yet (``_batching`` is the holder's; a borrowed read is outside it)."""
        return bool(self._batching) and self._lent() is None and not self._in_transaction()

    def _migrate(self) -> None:
        with self.writing():
            self._sql("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            tables = {r[0] for r in self._sql("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
            if "schema_migrations" not in tables:
                if tables:
                    raise NotAStoreError(
                        f"store {self.shown}: the database holds tables of another program "
                        f"({', '.join(sorted(tables)[:3])}); give complaintflow a database of its own"
                    )
                self._sql(
                    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                    "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                )
            row = self._sql("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
            current = int(row[0]) if row is not None else 0
            if current > SCHEMA_VERSION:
                raise NotAStoreError(
                    f"store {self.shown} has schema version {current}, newer than this complaintflow "
                    f"understands ({SCHEMA_VERSION}); upgrade complaintflow"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                name, script = MIGRATIONS[version - 1]
                for statement in script.split(";"):
                    if statement.strip():
                        self._sql(statement)
                self._sql("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))
            meta = self._sql("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if meta is None or meta[0] != FORMAT_NAME:
                raise NotAStoreError(f"store {self.shown}: the database is not a complaintflow store")
            rule2 = self._sql("SELECT value FROM meta WHERE key = 'rule2_from_pos'").fetchone()
            self.rule2_from_pos = int(rule2[0]) if rule2 is not None else 1

    def writing(self) -> AbstractContextManager[None]:
        """One change around reads and a commit; case rows read inside are locked until it commits, so no
        other process changes them in between (engine/store/group.py groups this process's threads)."""
        return self._serializer.writing()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many changes of this thread in one transaction, one SAVEPOINT each (engine/store/group.py)."""
        with self._serializer.batch():
            self._batching += 1  # only the batch's thread runs until it ends: it holds the connection
            try:
                yield
            finally:
                self._batching -= 1

    # -- processes ------------------------------------------------------------------------
    def save_process(self, process: StoredProcess) -> None:
        with self.writing():
            try:
                self._sql(
                    "WITH text AS (INSERT INTO processes VALUES (%s, %s, %s, %s) ON CONFLICT (hash) DO NOTHING) "
                    "INSERT INTO tenant_processes VALUES (%s, %s, %s, %s) ON CONFLICT (tenant, hash) DO NOTHING",
                    (
                        *(process.content_hash, process.process_id, process.version, process.source),
                        *(process.tenant, process.content_hash, process.process_id, process.version),
                    ),
                )
            except pg_errors.UniqueViolation:
                raise ConflictError(
                    f"process {process.process_id!r} version {process.version} was just filed with other content"
                ) from None

    @_serialized
    def process(self, content_hash: str) -> StoredProcess:
        row = self._sql("SELECT hash, id, version, source FROM processes WHERE hash = %s", (content_hash,)).fetchone()
        if row is None:
            raise StoreError(f"process version {content_hash[:12]} is not in this store")
        source = bytes(row[3])
        if hashlib.sha256(source).hexdigest() != row[0]:
            raise StoreError(
                f"process {row[1]} version {row[2]}: the stored text does not match its content hash "
                f"{row[0][:12]} (it was edited in the store); nothing runs on it"
            )
        return StoredProcess(row[0], row[1], row[2], source)

    @_serialized
    def processes(self, tenant: str | None = None) -> list[StoredProcess]:
        where, args = ("WHERE tenant = %s ", (tenant,)) if tenant is not None else ("", ())
        rows = self._sql(
            f"SELECT hash, id, version, tenant FROM tenant_processes {where}ORDER BY tenant, id, version", args
        ).fetchall()
        return [StoredProcess(r[0], r[1], r[2], tenant=r[3]) for r in rows]

    # -- cases and events -----------------------------------------------------------------
    def _lock(self) -> str:
        """Inside a change, a case row read is locked until the change ends."""
        return " FOR UPDATE" if self._in_transaction() else ""

    @_serialized
    def case(self, case_id: str) -> CaseRecord:
        row = self._sql(f"SELECT {_CASE_COLUMNS} FROM cases WHERE id = %s{self._lock()}", (case_id,)).fetchone()
        if row is None:
            raise UnknownCaseError(case_id)
        return _case(row)

    @_serialized
    def case_and_head(self, case_id: str) -> tuple[CaseRecord, Head | None]:
        if not self._in_transaction():  # committed data: one statement, so the row and its head agree
            joined = self._sql(_WITH_HEAD + "WHERE c.id = %s", (case_id,)).fetchone()
            if joined is None:
                raise UnknownCaseError(case_id)
            return _case_and_head(joined)
        # Inside a change, two statements, not one join: a read that waited for the row's lock sees the row as
        # the other writer left it, but a join's read of events keeps the statement's older snapshot.
        row = self._sql(f"SELECT {_CASE_COLUMNS} FROM cases WHERE id = %s{self._lock()}", (case_id,)).fetchone()
        if row is None:
            raise UnknownCaseError(case_id)
        head = self._sql(
            "SELECT seq, at, hash FROM events WHERE case_id = %s ORDER BY seq DESC LIMIT 1", (case_id,)
        ).fetchone()
        return _case(row), (Head(head[0], head[1], head[2]) if head is not None else None)

    @_serialized
    def cases(self, query: CaseQuery) -> list[CaseRecord]:
        where: list[str] = []
        args: list[Any] = []
        for column, value in (
            ("tenant", query.tenant),
            ("process_id", query.process_id),
            ("state", query.state),
            ("owner_role", query.owner_role),
        ):
            if value is not None:
                where.append(f"{column} = %s")
                args.append(value)
        if query.open_only:
            where.append("closed_at IS NULL")
        sql = f"SELECT {_CASE_COLUMNS} FROM cases"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY opened_at, id LIMIT %s"
        return [_case(r) for r in self._sql(sql, (*args, query.limit))]

    @_serialized
    def events(self, case_id: str) -> list[EventRecord]:
        rows = self._sql(
            f"SELECT {_EVENT_COLUMNS}, personal, pos FROM events WHERE case_id = %s ORDER BY seq", (case_id,)
        ).fetchall()
        return [_event(r, 2 if r[10] >= self.rule2_from_pos else 1) for r in rows]

    def commit(self, change: Commit) -> None:
        case = change.case
        with self.writing():
            if change.erase_personal:  # before the new events are in: they keep nothing to erase
                self._erase_personal(case.id, change.erase_personal)
            if case.revision > 1:
                self._update(case, change.events)
                return
            try:
                self._sql(_insert_with_events(len(change.events)), (*_row(case), *_event_values(change.events)))
            except pg_errors.UniqueViolation:
                raise ConflictError(f"case {case.id!r} already exists") from None

    def commit_all(self, changes: Sequence[Commit]) -> None:
        with self.writing():  # one SAVEPOINT in a batch: a refused change rolls back every one
            for change in changes:
                self.commit(change)

    def _update(self, case: CaseRecord, events: Sequence[EventRecord]) -> None:
        """The row moved on and its new events, in one statement: the events go in only if the row was still
        at the revision they follow."""
        try:
            (updated,) = self._sql(
                _update_with_events(len(events)),
                (
                    *_moved(case),
                    case.closed_at,
                    case.last_at,
                    case.last_hash,
                    case.last_seq,
                    case.next_due,
                    case.id,
                    case.revision - 1,
                    *_event_values(events),
                ),
            ).fetchone() or (0,)
        except pg_errors.UniqueViolation:
            raise ConflictError(f"case {case.id!r} already has event {events[0].seq}") from None
        if updated == 0:
            raise ConflictError(f"case {case.id!r} was changed by someone else; reload it and try again")

    def _erase_personal(self, case_id: str, fields: frozenset[str]) -> None:
        """Destroy the kept values of ``fields`` in the case's events (``complaintflow erase``)."""
        changed: list[tuple[str | None, int]] = []
        rows = self._sql(
            "SELECT pos, personal FROM events WHERE case_id = %s AND personal IS NOT NULL", (case_id,)
        ).fetchall()
        for pos, text in rows:
            before = _personal(text) or {}
            kept = without(before, fields)
            if kept != before:
                changed.append((_json(kept) if kept else None, pos))
        if changed:
            self._sql(
                "UPDATE events SET personal = k.personal FROM unnest(%s::text[], %s::bigint[]) AS k(personal, pos) "
                "WHERE events.pos = k.pos",
                ([c[0] for c in changed], [c[1] for c in changed]),
            )

    # -- due cases and outbox --------------------------------------------------------------
    @_serialized
    def due_cases(self, now: int, limit: int) -> list[CaseRecord]:
        """Inside a batch the rows are claimed: read in the batch's transaction (begun here if no change began
        it yet) with ``FOR UPDATE SKIP LOCKED``, so they stay locked until the batch commits and every other
        process's claim passes them by meanwhile; two schedulers never fire one case."""
        if self._in_batch():
            with self.writing():  # begins the batch's transaction; the batch commits it
                return self._due(now, limit)
        return self._due(now, limit)

    def _due(self, now: int, limit: int) -> list[CaseRecord]:
        claim = " FOR UPDATE SKIP LOCKED" if self._in_transaction() else ""
        rows = self._sql(
            f"SELECT {_CASE_COLUMNS} FROM cases WHERE next_due <= %s ORDER BY next_due, id LIMIT %s{claim}",
            (now, limit),
        ).fetchall()
        return [_case(r) for r in rows]

    @_serialized
    def due_cases_and_heads(self, now: int, limit: int) -> list[tuple[CaseRecord, Head | None]]:
        """``due_cases`` (claimed alike inside a batch) with each row's latest event, in one query."""
        if self._in_batch():
            with self.writing():
                return self._due_with_heads(now, limit)
        return self._due_with_heads(now, limit)

    def _due_with_heads(self, now: int, limit: int) -> list[tuple[CaseRecord, Head | None]]:
        claim = " FOR UPDATE OF c SKIP LOCKED" if self._in_transaction() else ""
        rows = self._sql(
            _WITH_HEAD + f"WHERE c.next_due <= %s ORDER BY c.next_due, c.id LIMIT %s{claim}", (now, limit)
        ).fetchall()
        return [_case_and_head(r) for r in rows]

    @_serialized
    def outbox(self, after: str | None, limit: int) -> list[OutboxMessage]:
        start = 0
        key = split_message_id(after) if after else None
        if key is not None:
            found = self._sql(
                "SELECT o.pos FROM outbox o JOIN events e ON e.pos = o.pos WHERE e.case_id = %s AND e.seq = %s", key
            ).fetchone()
            start = found[0] if found is not None else 0
        rows = self._sql(
            f"SELECT {', '.join('e.' + c for c in _EVENT_COLUMNS.split(', '))}, e.personal, c.process_id, c.tenant "
            "FROM outbox o JOIN events e ON e.pos = o.pos JOIN cases c ON c.id = e.case_id "
            "WHERE o.pos > %s ORDER BY o.pos LIMIT %s",
            (start, limit),
        ).fetchall()
        return [outbox_message(_event(r[:10]), r[10], r[11]) for r in rows]

    def ack_outbox(self, ids: Sequence[str]) -> None:
        keys = [key for key in map(split_message_id, ids) if key is not None]
        if not keys:
            return
        with self.writing():
            self._sql(
                "DELETE FROM outbox WHERE pos IN (SELECT e.pos FROM events e JOIN unnest(%s::text[], %s::bigint[]) "
                "AS k(case_id, seq) ON e.case_id = k.case_id AND e.seq = k.seq)",
                ([k[0] for k in keys], [k[1] for k in keys]),
            )

    # -- what the audit reads ----------------------------------------------------------------
    @_serialized
    def last_event_pos(self) -> int:
        """The position of the newest event row (0 when there is none), which a seal records."""
        row = self._sql("SELECT coalesce(max(pos), 0) FROM events").fetchone()
        return int(row[0]) if row is not None else 0

    @_serialized
    def upgrades(self) -> list[Upgrade]:
        """Every upgrade this store went through, oldest first (none yet: the schema is migrated in place)."""
        rows = self._sql(
            "SELECT from_format, to_format, at, cases, events, root, first_pos FROM upgrades ORDER BY to_format"
        ).fetchall()
        return [Upgrade(*row) for row in rows]

    @_serialized
    def heads_before(self, pos: int) -> list[tuple[str, int, str]]:
        """(case id, seq, hash) of each case's latest event before position ``pos``, sorted by case id."""
        rows = self._sql(
            "SELECT case_id, seq, hash FROM events WHERE pos IN "
            "(SELECT max(pos) FROM events WHERE pos < %s GROUP BY case_id) ORDER BY case_id",
            (pos,),
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    @_serialized
    def unlinked_events(self) -> list[tuple[str, int, int, bool]]:
        """(case id, seq, position, whether the case row exists) of every event row past its case row's
        latest event, or of a case whose row is gone: rows the engine did not write."""
        rows = self._sql(
            "SELECT e.case_id, e.seq, e.pos, c.id IS NOT NULL FROM events e LEFT JOIN cases c ON c.id = e.case_id "
            "WHERE c.id IS NULL OR e.seq > c.last_seq ORDER BY e.pos"
        ).fetchall()
        return [(r[0], r[1], r[2], bool(r[3])) for r in rows]

    # -- moving a whole store (store/transfer.py) ---------------------------------------------
    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """One REPEATABLE READ transaction: every read inside sees the same committed state."""
        with self._serializer.reading():
            self._sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield
            finally:
                self._sql("COMMIT")

    @_serialized
    def totals(self) -> tuple[int, int]:
        row = self._sql("SELECT count(DISTINCT case_id), count(*) FROM events").fetchone()
        return (int(row[0]), int(row[1])) if row is not None else (0, 0)

    @_serialized
    def placed_events(self, after: int, limit: int) -> list[PlacedEvent]:
        """The events after position ``after``; ``prev_pos`` is None (this store links events by seq)."""
        rows = self._sql(
            f"SELECT {', '.join('e.' + c for c in _EVENT_COLUMNS.split(', '))}, e.personal, e.pos, "
            "EXISTS (SELECT 1 FROM outbox o WHERE o.pos = e.pos) FROM events e WHERE e.pos > %s "
            "ORDER BY e.pos LIMIT %s",
            (after, limit),
        ).fetchall()
        rule2_from = self.rule2_from_pos
        return [PlacedEvent(r[10], None, _event(r, 2 if r[10] >= rule2_from else 1), bool(r[11])) for r in rows]

    @_serialized
    def holds_anything(self) -> bool:
        row = self._sql(
            "SELECT EXISTS (SELECT 1 FROM processes) OR EXISTS (SELECT 1 FROM cases) OR EXISTS (SELECT 1 FROM events)"
        ).fetchone()
        return bool(row[0]) if row is not None else False

    def load_events(self, events: Sequence[PlacedEvent]) -> None:
        with self.writing():
            # COPY writes the given positions into the identity column, as OVERRIDING SYSTEM VALUE would
            self._copy(f"events (pos, {_EVENT_COLUMNS}, personal)", [(p.pos, *_event_row(p.event)) for p in events])
            self._copy("outbox (pos)", [(p.pos,) for p in events if p.pending])

    def load_cases(self, cases: Sequence[CaseRecord], last_pos: Mapping[str, int]) -> None:
        with self.writing():
            self._copy(f"cases ({_CASE_COLUMNS})", [_row(c) for c in cases])

    def _copy(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        """Rows into ``table (columns)`` with one COPY: a bulk load costs no statement per row."""
        try:
            with self.conn.cursor().copy(f"COPY {table} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.Error as exc:
            raise StoreError(f"store {self.shown}: the database refused a row of {table}: {_first_line(exc)}") from None

    def load_history(self, upgrades: Sequence[Upgrade], rule2_from_pos: int) -> None:
        with self.writing():
            for u in upgrades:
                self._sql(
                    "INSERT INTO upgrades VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (u.to_format, u.from_format, u.at, u.cases, u.events, u.root, u.first_pos),
                )
            self._sql(
                "INSERT INTO meta VALUES ('rule2_from_pos', %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(rule2_from_pos),),
            )
            # New events continue after the loaded positions (a sequence is not rolled back: a refused import
            # leaves a gap in the numbering, nothing else).
            self._sql(
                "SELECT setval(pg_get_serial_sequence('events', 'pos'), greatest(max(pos), %s)) FROM events "
                "HAVING count(*) > 0",
                (rule2_from_pos - 1,),
            )
            self.rule2_from_pos = rule2_from_pos

    # The service directory's tables (engine/store/pg_directory.py) in this database and schema: read in the
    # export's snapshot and loaded in the import's transaction (store/transfer_directory.py).
    directory_catalog = (
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name LIKE 'svc^_%' ESCAPE '^'"
    )

    @_serialized
    def directory_rows(self, query: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._sql(query).fetchall()]

    def load_directory_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        with self.writing():
            self._copy(f"{table} ({', '.join(columns)})", rows)

    def close(self) -> None:
        with self._serializer.reading():  # commits an open group first
            self.conn.close()
        if self._readers is not None:
            self._readers.close()


def _event_values(events: Sequence[EventRecord]) -> list[Any]:
    """The events' values, row after row, as ``_EVENT_ROW`` takes them."""
    return [value for e in events for value in _event_row(e)]


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


_json = canonical.dumps


def _event(r: Sequence[Any], hash_rule: int = 2) -> EventRecord:
    """An event from its columns (``_EVENT_COLUMNS``, then ``personal``)."""
    return EventRecord(r[0], r[1], r[2], r[3], r[4], r[5], _payload(r[6]), r[7], r[8], r[6], hash_rule, _personal(r[9]))
