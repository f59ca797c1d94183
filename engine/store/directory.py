"""The service's own tables in the store file: people, their credentials, idempotent replies, deliveries.

The engine's tables hold cases and their hash-chained histories; the service needs more that is not
case history: who the users are and which roles they hold, API tokens and login sessions (only their
hashes), the first answer to each ``Idempotency-Key``, and one row per notification and channel with
its attempts. They live beside the engine's tables in the same SQLite file (one file to back up), on a
connection of their own; every change here is one transaction. Nothing here is hashed into a history.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import StoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS svc_users (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, roles TEXT NOT NULL, contacts TEXT NOT NULL,
    password_hash TEXT, admin INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, disabled_at INTEGER);
CREATE TABLE IF NOT EXISTS svc_credentials (
    digest TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, user_id TEXT NOT NULL,
    roles TEXT, label TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER);
CREATE TABLE IF NOT EXISTS svc_idempotency (
    user_id TEXT NOT NULL, key TEXT NOT NULL, body_digest TEXT NOT NULL, status INTEGER NOT NULL,
    response TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (user_id, key));
CREATE TABLE IF NOT EXISTS svc_deliveries (
    id TEXT PRIMARY KEY, message_id TEXT NOT NULL, channel TEXT NOT NULL, notification TEXT NOT NULL,
    status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
    last_error TEXT, created_at INTEGER NOT NULL, done_at INTEGER, lease_until REAL);
CREATE INDEX IF NOT EXISTS svc_deliveries_due ON svc_deliveries (next_at) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS svc_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS svc_assignments (
    case_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, by_user TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS svc_assignments_user ON svc_assignments (user_id);
CREATE TABLE IF NOT EXISTS svc_assignment_log (
    case_id TEXT NOT NULL, user_id TEXT, by_user TEXT NOT NULL, at INTEGER NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    roles: tuple[str, ...]  # "role" (every process) or "process_id:role"
    contacts: dict[str, str]
    admin: bool
    password_hash: str | None = None

    def holds(self, process_id: str, role: str) -> bool:
        return role in self.roles or f"{process_id}:{role}" in self.roles

    def roles_in(self, process_id: str) -> tuple[str, ...]:
        out = []
        for held in self.roles:
            scope, _, role = held.rpartition(":")
            if not scope or scope == process_id:
                out.append(role)
        return tuple(dict.fromkeys(out))


@dataclass(frozen=True, slots=True)
class Credential:
    id: str
    kind: str  # "token" or "session"
    user_id: str
    roles: tuple[str, ...] | None  # a token's scope; None = every role its user holds
    label: str
    created_at: int
    expires_at: int | None
    revoked_at: int | None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    message_id: str
    channel: str
    notification: dict[str, Any]
    status: str  # pending, delivered, dead
    attempts: int
    next_at: int
    last_error: str | None


class Directory:
    """Users, credentials, idempotent replies and deliveries, in the store's SQLite file."""

    def __init__(self, path: str | Path):
        try:
            self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
            _add_missing_columns(self.db)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the service tables: {exc}") from None
        self._lock = threading.RLock()  # the writing connection, one thread at a time
        self._path = str(path)
        self._local = threading.local()  # each thread reads on a connection of its own
        self._readers: list[sqlite3.Connection] = []

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
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

    # -- users --------------------------------------------------------------------------
    def add_user(self, user: User, at: int) -> None:
        with self._writing() as db:
            try:
                db.execute(
                    "INSERT INTO svc_users (id, name, roles, contacts, password_hash, admin, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        user.id,
                        user.name,
                        json.dumps(list(user.roles)),
                        json.dumps(user.contacts, ensure_ascii=False),
                        user.password_hash,
                        int(user.admin),
                        at,
                    ),
                )
            except sqlite3.IntegrityError:
                raise StoreError(f"user {user.id!r} already exists") from None

    def update_user(self, user: User) -> None:
        with self._writing() as db:
            if not user.admin and _is_last_admin(db, user.id):
                raise StoreError(f"{user.id!r} is the last admin: make another user admin first")
            changed = db.execute(
                "UPDATE svc_users SET name=?, roles=?, contacts=?, password_hash=?, admin=? "
                "WHERE id=? AND disabled_at IS NULL",
                (
                    user.name,
                    json.dumps(list(user.roles)),
                    json.dumps(user.contacts, ensure_ascii=False),
                    user.password_hash,
                    int(user.admin),
                    user.id,
                ),
            ).rowcount
            if not changed:
                raise StoreError(f"no user {user.id!r}")

    def disable_user(self, user_id: str, at: int) -> None:
        """A user who has left: they can no longer log in or act, their sessions and tokens stop working,
        and they drop out of the people messages go to; the row stays, so histories still name them.
        The last admin cannot be disabled (nobody could manage the desk)."""
        with self._writing() as db:
            if db.execute("SELECT 1 FROM svc_users WHERE id=? AND disabled_at IS NULL", (user_id,)).fetchone() is None:
                raise StoreError(f"no user {user_id!r}")
            if _is_last_admin(db, user_id):
                raise StoreError(f"{user_id!r} is the last admin: make another user admin first")
            db.execute("UPDATE svc_users SET disabled_at=? WHERE id=?", (at, user_id))
            db.execute("UPDATE svc_credentials SET revoked_at=? WHERE user_id=? AND revoked_at IS NULL", (at, user_id))

    def user(self, user_id: str) -> User | None:
        rows = self._read(
            "SELECT id, name, roles, contacts, admin, password_hash FROM svc_users WHERE id=? AND disabled_at IS NULL",
            (user_id,),
        )
        return _user(rows[0]) if rows else None

    def users(self) -> list[User]:
        rows = self._read(
            "SELECT id, name, roles, contacts, admin, password_hash FROM svc_users WHERE disabled_at IS NULL "
            "ORDER BY id"
        )
        return [_user(r) for r in rows]

    def users_holding(self, process_id: str, role: str) -> list[User]:
        return [u for u in self.users() if u.holds(process_id, role)]

    def count_admins(self) -> int:
        return int(self._read("SELECT count(*) FROM svc_users WHERE admin=1 AND disabled_at IS NULL")[0][0])

    # -- credentials (only their digests are kept) ---------------------------------------
    def add_credential(self, digest: str, credential: Credential) -> None:
        c = credential
        with self._writing() as db:
            db.execute(
                "INSERT INTO svc_credentials (digest, id, kind, user_id, roles, label, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    digest,
                    c.id,
                    c.kind,
                    c.user_id,
                    None if c.roles is None else json.dumps(list(c.roles)),
                    c.label,
                    c.created_at,
                    c.expires_at,
                ),
            )

    def credential(self, digest: str) -> Credential | None:
        rows = self._read(f"SELECT {_CREDENTIAL_COLUMNS} FROM svc_credentials WHERE digest=?", (digest,))
        return _credential(rows[0]) if rows else None

    def credentials(self, user_id: str | None = None) -> list[Credential]:
        where, args = ("WHERE user_id=?", (user_id,)) if user_id else ("", ())
        rows = self._read(f"SELECT {_CREDENTIAL_COLUMNS} FROM svc_credentials {where} ORDER BY created_at, id", args)
        return [_credential(r) for r in rows]

    def revoke(self, credential_id: str, at: int) -> bool:
        with self._writing() as db:
            return bool(
                db.execute(
                    "UPDATE svc_credentials SET revoked_at=? WHERE id=? AND revoked_at IS NULL", (at, credential_id)
                ).rowcount
            )

    # -- idempotency --------------------------------------------------------------------
    def idempotent_reply(self, user_id: str, key: str) -> tuple[str, int, dict[str, Any]] | None:
        rows = self._read(
            "SELECT body_digest, status, response FROM svc_idempotency WHERE user_id=? AND key=?", (user_id, key)
        )
        return (rows[0][0], int(rows[0][1]), json.loads(rows[0][2])) if rows else None

    def remember_reply(self, user_id: str, key: str, body_digest: str, status: int, response: Any, at: int) -> None:
        with self._writing() as db:
            db.execute(
                "INSERT OR IGNORE INTO svc_idempotency VALUES (?, ?, ?, ?, ?, ?)",
                (user_id, key, body_digest, status, json.dumps(response, ensure_ascii=False), at),
            )

    def forget_replies(self, case_id: str) -> int:
        """Delete the remembered replies that show a case (``erase``: they hold its personal values)."""
        with self._writing() as db:
            db.execute("PRAGMA secure_delete=ON")
            return int(db.execute(_FORGET_REPLIES, (case_id,)).rowcount)

    # -- who holds a case inside its owner role ---------------------------------------------
    def assign(self, case_id: str, user_id: str | None, by: str, at: int) -> None:
        """Give the case to ``user_id`` (None: back to the role's shared queue); every change is logged."""
        with self._writing() as db:
            if user_id is None:
                db.execute("DELETE FROM svc_assignments WHERE case_id=?", (case_id,))
            else:
                db.execute("INSERT OR REPLACE INTO svc_assignments VALUES (?, ?, ?, ?)", (case_id, user_id, by, at))
            db.execute("INSERT INTO svc_assignment_log VALUES (?, ?, ?, ?)", (case_id, user_id, by, at))

    def assignee(self, case_id: str) -> str | None:
        rows = self._read("SELECT user_id FROM svc_assignments WHERE case_id=?", (case_id,))
        return str(rows[0][0]) if rows else None

    def assignees(self) -> dict[str, str]:
        return {str(c): str(u) for c, u in self._read("SELECT case_id, user_id FROM svc_assignments")}

    def assignment_log(self, case_id: str) -> list[tuple[str | None, str, int]]:
        rows = self._read(
            "SELECT user_id, by_user, at FROM svc_assignment_log WHERE case_id=? ORDER BY rowid", (case_id,)
        )
        return [(r[0], str(r[1]), int(r[2])) for r in rows]

    # -- the notifier's outbox cursor and deliveries --------------------------------------
    def cursor(self, name: str) -> str | None:
        rows = self._read("SELECT value FROM svc_meta WHERE key=?", (f"cursor:{name}",))
        return str(rows[0][0]) if rows else None

    def enqueue(self, cursor_name: str, cursor: str, deliveries: Sequence[Delivery], at: int) -> None:
        """Queue a batch's deliveries and move the outbox cursor past it, in one transaction: a crash
        before this commit reads the batch again, after it the rows are there (ids make a re-read harmless)."""
        with self._writing() as db:
            _insert_deliveries(db, deliveries, at)
            db.execute("INSERT OR REPLACE INTO svc_meta VALUES (?, ?)", (f"cursor:{cursor_name}", cursor))

    def queue(self, deliveries: Sequence[Delivery], at: int) -> int:
        """Queue deliveries that come from no outbox (the service's own notices); a repeated id is ignored,
        so a notice raised again, or by a second service, is sent once. How many rows were new."""
        with self._writing() as db:
            return _insert_deliveries(db, deliveries, at)

    def due_deliveries(self, now: int, limit: int) -> list[Delivery]:
        rows = self._read(
            f"SELECT {_DELIVERY_COLUMNS} FROM svc_deliveries WHERE status='pending' AND next_at <= ? "
            "ORDER BY next_at, id LIMIT ?",
            (now, limit),
        )
        return [_delivery(r) for r in rows]

    def next_delivery_at(self) -> int | None:
        rows = self._read("SELECT min(next_at) FROM svc_deliveries WHERE status='pending'")
        return None if rows[0][0] is None else int(rows[0][0])

    def deliveries(self, status: str | None = None, limit: int = 100) -> list[Delivery]:
        where, args = ("WHERE status=?", (status, limit)) if status else ("", (limit,))
        rows = self._read(
            f"SELECT {_DELIVERY_COLUMNS} FROM svc_deliveries {where} ORDER BY created_at, id LIMIT ?", args
        )
        return [_delivery(r) for r in rows]

    def delivery(self, delivery_id: str) -> Delivery | None:
        rows = self._read(f"SELECT {_DELIVERY_COLUMNS} FROM svc_deliveries WHERE id=?", (delivery_id,))
        return _delivery(rows[0]) if rows else None

    def claim(self, delivery_id: str, now: int, wall_now: float, lease: float) -> bool:
        """Take a due delivery for ``lease`` seconds of real time; of several notifiers on one store, one
        wins. The lease runs on the wall clock, not the desk's: it guards a send in flight, and a desk clock
        that jumps ahead (a test's, or a stepped system clock) must not hand that send to a second notifier."""
        with self._writing() as db:
            return bool(
                db.execute(
                    "UPDATE svc_deliveries SET lease_until=? WHERE id=? AND status='pending' AND next_at <= ? "
                    "AND (lease_until IS NULL OR lease_until <= ?)",
                    (wall_now + lease, delivery_id, now, wall_now),
                ).rowcount
            )

    def record_attempt(self, delivery_id: str, status: str, next_at: int, error: str | None, at: int) -> None:
        with self._writing() as db:
            db.execute(
                "UPDATE svc_deliveries SET status=?, attempts=attempts+1, next_at=?, last_error=?, lease_until=NULL, "
                "done_at=CASE WHEN ?='pending' THEN NULL ELSE ? END WHERE id=? AND status='pending'",
                (status, next_at, error, status, at, delivery_id),
            )

    def redrive(self, delivery_id: str, at: int) -> bool:
        with self._writing() as db:
            return bool(
                db.execute(
                    "UPDATE svc_deliveries SET status='pending', attempts=0, next_at=?, done_at=NULL "
                    "WHERE id=? AND status='dead'",
                    (at, delivery_id),
                ).rowcount
            )

    def delivery_counts(self) -> dict[tuple[str, str], int]:
        rows = self._read("SELECT channel, status, count(*) FROM svc_deliveries GROUP BY channel, status")
        return {(str(c), str(s)): int(n) for c, s, n in rows}

    def close(self) -> None:
        with self._lock:
            for reader in self._readers:
                reader.close()
            self._readers.clear()
            self.db.close()


_CREDENTIAL_COLUMNS = "id, kind, user_id, roles, label, created_at, expires_at, revoked_at"
_DELIVERY_COLUMNS = "id, message_id, channel, notification, status, attempts, next_at, last_error"


def _is_last_admin(db: sqlite3.Connection, user_id: str) -> bool:
    live = "disabled_at IS NULL"
    admin = db.execute(f"SELECT admin FROM svc_users WHERE id=? AND {live}", (user_id,)).fetchone()
    admins = db.execute(f"SELECT count(*) FROM svc_users WHERE admin=1 AND {live}").fetchone()[0]
    return bool(admin and admin[0]) and admins <= 1


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Columns added after a table was first made: a store from an older release gains them on open."""
    have = {row[1] for row in db.execute("PRAGMA table_info(svc_deliveries)")}
    if "lease_until" not in have:
        db.execute("ALTER TABLE svc_deliveries ADD COLUMN lease_until REAL")


def _insert_deliveries(db: sqlite3.Connection, deliveries: Sequence[Delivery], at: int) -> int:
    before = db.total_changes
    db.executemany(
        "INSERT OR IGNORE INTO svc_deliveries (id, message_id, channel, notification, status, next_at, "
        "created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
        [
            (d.id, d.message_id, d.channel, json.dumps(d.notification, ensure_ascii=False), d.next_at, at)
            for d in deliveries
        ],
    )
    return db.total_changes - before


def _user(row: Sequence[Any]) -> User:
    return User(row[0], row[1], tuple(json.loads(row[2])), json.loads(row[3]), bool(row[4]), row[5])


def _credential(row: Sequence[Any]) -> Credential:
    roles = None if row[3] is None else tuple(json.loads(row[3]))
    return Credential(row[0], row[1], row[2], roles, row[4], row[5], row[6], row[7])


def _delivery(row: Sequence[Any]) -> Delivery:
    return Delivery(row[0], row[1], row[2], json.loads(row[3]), row[4], int(row[5]), int(row[6]), row[7])


# A start's remembered reply is the case as it answered (engine/service/desk.py case_json): its "id" is the case.
_FORGET_REPLIES = "DELETE FROM svc_idempotency WHERE json_valid(response) AND json_extract(response, '$.id') = ?"


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
        return int(db.execute(_FORGET_REPLIES, (case_id,)).rowcount)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot clear the service's remembered replies: {exc}") from None
    finally:
        db.close()
