"""The service's own tables, whatever database holds them: people, credentials, idempotent replies,
assignments, deliveries and the workers that send them.

The engine's tables hold cases and their hash-chained histories; the service needs more that is not
case history: who the users are and which roles they hold, API tokens and login sessions (only their
hashes), the first answer to each ``Idempotency-Key``, and one row per notification and channel with
its attempts. ``Directory`` is the contract; ``SQLDirectory`` writes it once in the SQL both databases
speak, and its two backends (engine/store/sqlite_directory.py, engine/store/pg_directory.py) only bring a
connection, a clock and the few statements that differ. Every change is one transaction; nothing here is
hashed into a history.

Each user belongs to one tenant (its tokens see only that one); user ids stay unique across tenants, so
whatever is keyed by a user (idempotent replies, derived case ids) is too. Each delivery records the
tenant of the case its message is about, so an admin lists only its own tenant's; each idempotent reply,
assignment and assignment log entry records its user's tenant, which is its case's.

Deliveries are sent under leases (docs/postgres.md "Delivery leases"): a notifier claims a due row as
its worker id until ``lease_until``, its heartbeats (``beat``) keep its worker row fresh and push its
leases on while a send is in flight, only the lease's owner may record the outcome, and ``rescue`` puts
back the rows of a worker that stopped beating, counting the attempt that was in flight.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from .base import StoreError

# The tenant of a row written before tenants (the column's default); engine/tenants.py names it too.
DEFAULT_TENANT = "default"
# How long a worker row outlives its last beat once it holds nothing (rows of stopped workers go).
WORKER_ROW_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    roles: tuple[str, ...]  # "role" (every process) or "process_id:role"
    contacts: dict[str, str]
    admin: bool
    password_hash: str | None = None
    tenant: str = DEFAULT_TENANT  # the one tenant whose cases, processes and messages the user works on

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
    owner: str | None = None  # the worker whose lease holds it while a send is in flight
    tenant: str = DEFAULT_TENANT  # the tenant of the case the message is about


def new_worker_id() -> str:
    """A notifier's name in the workers table: the host and process (to find it) and a random part (a
    restarted process with the same pid is a new worker, whose old claims are rescued, not inherited)."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class Directory(Protocol):
    """What the service keeps beside the store; ``wall_now`` is the notifier's real clock, which only the
    SQLite directory uses (on PostgreSQL every lease is timed by the database's clock)."""

    def add_user(self, user: User, at: int) -> None: ...
    def update_user(self, user: User) -> None: ...
    def disable_user(self, user_id: str, at: int) -> None: ...
    def user(self, user_id: str) -> User | None: ...
    def users(self, tenant: str | None = None) -> list[User]: ...
    def users_holding(self, process_id: str, role: str, tenant: str) -> list[User]: ...
    def count_admins(self) -> int: ...
    def add_credential(self, digest: str, credential: Credential) -> None: ...
    def credential(self, digest: str) -> Credential | None: ...
    def credentials(self, user_id: str | None = None) -> list[Credential]: ...
    def revoke(self, credential_id: str, at: int, tenant: str | None = None) -> bool: ...
    def idempotent_reply(self, user_id: str, key: str) -> tuple[str, int, dict[str, Any]] | None: ...
    def remember_reply(self, user_id: str, key: str, body_digest: str, status: int, response: Any, at: int) -> None: ...
    def forget_replies(self, case_id: str) -> int: ...
    def assign(self, case_id: str, user_id: str | None, by: str, at: int) -> None: ...
    def assignee(self, case_id: str) -> str | None: ...
    def assignees(self) -> dict[str, str]: ...
    def assignment_log(self, case_id: str) -> list[tuple[str | None, str, int]]: ...
    def queue(self, deliveries: Sequence[Delivery], at: int) -> int: ...
    def due_deliveries(self, now: int, limit: int) -> list[Delivery]: ...
    def next_delivery_at(self) -> int | None: ...
    def deliveries(self, status: str | None = None, limit: int = 100, tenant: str | None = None) -> list[Delivery]: ...
    def delivery(self, delivery_id: str) -> Delivery | None: ...
    def claim(self, delivery_id: str, now: int, *, owner: str, wall_now: float, lease: float) -> bool: ...
    def beat(self, owner: str, *, wall_now: float, lease: float) -> int: ...
    def rescue(self, *, wall_now: float) -> int: ...
    def retire(self, owner: str) -> None: ...
    def workers(self) -> list[tuple[str, float, float]]: ...
    def record_attempt(
        self,
        delivery_id: str,
        status: str,
        next_at: int,
        error: str | None,
        at: int,
        *,
        owner: str | None = None,
        sent: bool = True,
    ) -> bool: ...
    def redrive(self, delivery_id: str, at: int, tenant: str | None = None) -> bool: ...
    def delivery_counts(self) -> dict[tuple[str, str, str], int]: ...
    def close(self) -> None: ...


class Rows(Protocol):
    """What a statement returns on either driver (a DB-API cursor)."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Transaction(Protocol):
    """Statements inside one open transaction, with ``?`` placeholders."""

    def execute(self, sql: str, args: Sequence[Any] = (), /) -> Rows: ...


class SQLDirectory:
    """The directory in SQL that SQLite and PostgreSQL both run; a backend supplies the connection
    (``_writing``, ``_read``), the clock leases are timed by (``_now_sql``) and its dialect's few statements."""

    # A start's remembered reply is the case as it answered (engine/service/desk.py case_json): its "id".
    _FORGET_REPLIES = ""
    _LOG_ORDER = ""  # the column that keeps the assignment log in the order it was written

    def _writing(self) -> AbstractContextManager[Transaction]:
        raise NotImplementedError

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def _now_sql(self, wall_now: float) -> tuple[str, tuple[Any, ...]]:
        """The SQL expression (and its arguments) for now, in seconds since the epoch, by the clock leases
        are timed on."""
        raise NotImplementedError

    def _clock(self, tx: Transaction, wall_now: float) -> float:
        sql, args = self._now_sql(wall_now)
        return float(tx.execute(f"SELECT {sql}", args).fetchone()[0])

    def _forgetting(self, tx: Transaction) -> None:
        """Before deleting personal copies (SQLite overwrites the freed pages)."""

    # -- users --------------------------------------------------------------------------
    def add_user(self, user: User, at: int) -> None:
        """A new user in ``user.tenant``; its id is unique in the whole directory, whatever the tenant."""
        with self._writing() as tx:
            added = tx.execute(
                "INSERT INTO svc_users (id, name, roles, contacts, password_hash, admin, created_at, tenant) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (*_user_values(user), at, user.tenant),
            ).rowcount
            if not added:
                raise StoreError(f"user {user.id!r} already exists")

    def update_user(self, user: User) -> None:
        """Change a user's name, roles, contacts, password and admin flag; never its tenant."""
        with self._writing() as tx:
            if not user.admin and _is_last_admin(tx, user.id):
                raise StoreError(f"{user.id!r} is the last admin: make another user admin first")
            values = _user_values(user)
            changed = tx.execute(
                "UPDATE svc_users SET name=?, roles=?, contacts=?, password_hash=?, admin=? "
                "WHERE id=? AND disabled_at IS NULL",
                (*values[1:], user.id),
            ).rowcount
            if not changed:
                raise StoreError(f"no user {user.id!r}")

    def disable_user(self, user_id: str, at: int) -> None:
        """A user who has left: they can no longer log in or act, their sessions and tokens stop working,
        and they drop out of the people messages go to; the row stays, so histories still name them.
        The last admin cannot be disabled (nobody could manage the desk)."""
        with self._writing() as tx:
            if tx.execute("SELECT 1 FROM svc_users WHERE id=? AND disabled_at IS NULL", (user_id,)).fetchone() is None:
                raise StoreError(f"no user {user_id!r}")
            if _is_last_admin(tx, user_id):
                raise StoreError(f"{user_id!r} is the last admin: make another user admin first")
            tx.execute("UPDATE svc_users SET disabled_at=? WHERE id=?", (at, user_id))
            tx.execute("UPDATE svc_credentials SET revoked_at=? WHERE user_id=? AND revoked_at IS NULL", (at, user_id))

    def user(self, user_id: str) -> User | None:
        rows = self._read(f"SELECT {_USER_COLUMNS} FROM svc_users WHERE id=? AND disabled_at IS NULL", (user_id,))
        return _user(rows[0]) if rows else None

    def users(self, tenant: str | None = None) -> list[User]:
        """The users of ``tenant`` (None: of every tenant)."""
        where, args = _tenant_filter(tenant)
        rows = self._read(f"SELECT {_USER_COLUMNS} FROM svc_users WHERE disabled_at IS NULL{where} ORDER BY id", args)
        return [_user(r) for r in rows]

    def users_holding(self, process_id: str, role: str, tenant: str) -> list[User]:
        """The users of ``tenant`` who hold ``role`` in the process: who a message of that tenant goes to."""
        return [u for u in self.users(tenant) if u.holds(process_id, role)]

    def count_admins(self) -> int:
        return int(self._read("SELECT count(*) FROM svc_users WHERE admin=1 AND disabled_at IS NULL")[0][0])

    # -- credentials (only their digests are kept) ---------------------------------------
    def add_credential(self, digest: str, credential: Credential) -> None:
        c = credential
        roles = None if c.roles is None else json.dumps(list(c.roles))
        with self._writing() as tx:
            tx.execute(
                "INSERT INTO svc_credentials (digest, id, kind, user_id, roles, label, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (digest, c.id, c.kind, c.user_id, roles, c.label, c.created_at, c.expires_at),
            )

    def credential(self, digest: str) -> Credential | None:
        rows = self._read(f"SELECT {_CREDENTIAL_COLUMNS} FROM svc_credentials WHERE digest=?", (digest,))
        return _credential(rows[0]) if rows else None

    def credentials(self, user_id: str | None = None) -> list[Credential]:
        where, args = ("WHERE user_id=?", (user_id,)) if user_id else ("", ())
        rows = self._read(f"SELECT {_CREDENTIAL_COLUMNS} FROM svc_credentials {where} ORDER BY created_at, id", args)
        return [_credential(r) for r in rows]

    def revoke(self, credential_id: str, at: int, tenant: str | None = None) -> bool:
        """Revoke a live credential; with ``tenant``, only one whose user is of that tenant."""
        mine, args = _tenant_filter(tenant)
        if mine:
            mine = " AND user_id IN (SELECT id FROM svc_users WHERE tenant=?)"
        with self._writing() as tx:
            sql = f"UPDATE svc_credentials SET revoked_at=? WHERE id=? AND revoked_at IS NULL{mine}"
            return bool(tx.execute(sql, (at, credential_id, *args)).rowcount)

    # -- idempotency --------------------------------------------------------------------
    def idempotent_reply(self, user_id: str, key: str) -> tuple[str, int, dict[str, Any]] | None:
        rows = self._read(
            "SELECT body_digest, status, response FROM svc_idempotency WHERE user_id=? AND key=?", (user_id, key)
        )
        return (rows[0][0], int(rows[0][1]), json.loads(rows[0][2])) if rows else None

    def remember_reply(self, user_id: str, key: str, body_digest: str, status: int, response: Any, at: int) -> None:
        with self._writing() as tx:
            tx.execute(
                "INSERT INTO svc_idempotency (user_id, key, body_digest, status, response, at, tenant) "
                f"VALUES (?, ?, ?, ?, ?, ?, {_TENANT_OF_USER}) ON CONFLICT DO NOTHING",
                (user_id, key, body_digest, status, json.dumps(response, ensure_ascii=False), at, user_id),
            )

    def forget_replies(self, case_id: str) -> int:
        """Delete the remembered replies that show a case (``erase``: they hold its personal values)."""
        with self._writing() as tx:
            self._forgetting(tx)
            return int(tx.execute(self._FORGET_REPLIES, (case_id,)).rowcount)

    # -- who holds a case inside its owner role ---------------------------------------------
    def assign(self, case_id: str, user_id: str | None, by: str, at: int) -> None:
        """Give the case to ``user_id`` (None: back to the role's shared queue); every change is logged. Both rows
        carry the tenant of the holder, or of the assigner handing it back: the case's (the desk lets nobody
        reach another tenant's case)."""
        holder = by if user_id is None else user_id
        with self._writing() as tx:
            if user_id is None:
                tx.execute("DELETE FROM svc_assignments WHERE case_id=?", (case_id,))
            else:
                tx.execute(
                    f"INSERT INTO svc_assignments (case_id, user_id, by_user, at, tenant) VALUES (?, ?, ?, ?, "
                    f"{_TENANT_OF_USER}) ON CONFLICT (case_id) DO UPDATE SET user_id=excluded.user_id, "
                    "by_user=excluded.by_user, at=excluded.at, tenant=excluded.tenant",
                    (case_id, user_id, by, at, holder),
                )
            tx.execute(
                "INSERT INTO svc_assignment_log (case_id, user_id, by_user, at, tenant) "
                f"VALUES (?, ?, ?, ?, {_TENANT_OF_USER})",
                (case_id, user_id, by, at, holder),
            )

    def assignee(self, case_id: str) -> str | None:
        rows = self._read("SELECT user_id FROM svc_assignments WHERE case_id=?", (case_id,))
        return str(rows[0][0]) if rows else None

    def assignees(self) -> dict[str, str]:
        return {str(c): str(u) for c, u in self._read("SELECT case_id, user_id FROM svc_assignments")}

    def assignment_log(self, case_id: str) -> list[tuple[str | None, str, int]]:
        rows = self._read(
            f"SELECT user_id, by_user, at FROM svc_assignment_log WHERE case_id=? ORDER BY {self._LOG_ORDER}",
            (case_id,),
        )
        return [(r[0], str(r[1]), int(r[2])) for r in rows]

    # -- deliveries ---------------------------------------------------------------------------
    def queue(self, deliveries: Sequence[Delivery], at: int) -> int:
        """Queue deliveries (of outbox messages, or the service's own notices); a repeated id is ignored, so a
        message read again after a crash, or by a second service, is sent once. How many rows were new."""
        with self._writing() as tx:
            return _insert_deliveries(tx, deliveries, at)

    def due_deliveries(self, now: int, limit: int) -> list[Delivery]:
        """Pending rows due by ``now`` that no worker holds, oldest first."""
        rows = self._read(
            f"SELECT {_DELIVERY_COLUMNS} FROM svc_deliveries WHERE status='pending' AND next_at <= ? "
            "AND owner IS NULL ORDER BY next_at, id LIMIT ?",
            (now, limit),
        )
        return [_delivery(r) for r in rows]

    def next_delivery_at(self) -> int | None:
        rows = self._read("SELECT min(next_at) FROM svc_deliveries WHERE status='pending' AND owner IS NULL")
        return None if rows[0][0] is None else int(rows[0][0])

    def deliveries(self, status: str | None = None, limit: int = 100, tenant: str | None = None) -> list[Delivery]:
        """Deliveries oldest first, of one status and one tenant when given."""
        where, args = _tenant_filter(tenant)
        if status:
            where, args = f"{where} AND status=?", (*args, status)
        rows = self._read(
            f"SELECT {_DELIVERY_COLUMNS} FROM svc_deliveries WHERE 1=1{where} ORDER BY created_at, id LIMIT ?",
            (*args, limit),
        )
        return [_delivery(r) for r in rows]

    def delivery(self, delivery_id: str) -> Delivery | None:
        rows = self._read(f"SELECT {_DELIVERY_COLUMNS} FROM svc_deliveries WHERE id=?", (delivery_id,))
        return _delivery(rows[0]) if rows else None

    # -- leases ------------------------------------------------------------------------------
    def claim(self, delivery_id: str, now: int, *, owner: str, wall_now: float, lease: float) -> bool:
        """Take a due delivery that nobody holds, as ``owner``, for ``lease`` seconds of real time (not the
        desk's clock: a desk clock that jumps ahead must not hand a send in flight to a second worker); of
        several workers, one wins. The claim also counts as the owner's heartbeat."""
        with self._writing() as tx:
            clock = self._clock(tx, wall_now)
            _beat(tx, owner, clock)
            return bool(
                tx.execute(
                    "UPDATE svc_deliveries SET owner=?, lease_until=? WHERE id=? AND status='pending' "
                    "AND next_at <= ? AND owner IS NULL",
                    (owner, clock + lease, delivery_id, now),
                ).rowcount
            )

    def beat(self, owner: str, *, wall_now: float, lease: float) -> int:
        """The worker's heartbeat: its row says it is alive, and each delivery it holds is leased ``lease``
        seconds on from now (a long send stays its own). Worker rows an hour old that hold nothing go.
        How many deliveries it holds."""
        with self._writing() as tx:
            clock = self._clock(tx, wall_now)
            _beat(tx, owner, clock)
            tx.execute(
                "DELETE FROM svc_workers WHERE last_beat < ? AND NOT EXISTS "
                "(SELECT 1 FROM svc_deliveries d WHERE d.owner = svc_workers.id)",
                (clock - WORKER_ROW_SECONDS,),
            )
            return int(
                tx.execute(
                    "UPDATE svc_deliveries SET lease_until=? WHERE owner=? AND status='pending'", (clock + lease, owner)
                ).rowcount
            )

    def rescue(self, *, wall_now: float) -> int:
        """Give back the deliveries whose lease ran out (their worker stopped beating: it died, hangs or
        lost the database) to be claimed again; the send that was in flight counts as an attempt. A read
        of the few leased rows (a partial index) first, and a change only when one ran out, so every
        notifier step can afford it."""
        now, args = self._now_sql(wall_now)
        if not self._read(
            f"SELECT 1 FROM svc_deliveries WHERE owner IS NOT NULL AND lease_until <= {now} LIMIT 1", args
        ):
            return 0
        with self._writing() as tx:
            return int(
                tx.execute(
                    "UPDATE svc_deliveries SET attempts=attempts+1, last_error='the lease of worker ' || owner || "
                    "' ran out during a send (it stopped beating)', owner=NULL, lease_until=NULL "
                    f"WHERE owner IS NOT NULL AND lease_until <= {now}",
                    args,
                ).rowcount
            )

    def retire(self, owner: str) -> None:
        """A worker that stops cleanly: its row goes, and anything it still held is free again at once
        (no send of it is in flight, so no attempt is counted)."""
        with self._writing() as tx:
            tx.execute("UPDATE svc_deliveries SET owner=NULL, lease_until=NULL WHERE owner=?", (owner,))
            tx.execute("DELETE FROM svc_workers WHERE id=?", (owner,))

    def workers(self) -> list[tuple[str, float, float]]:
        """(worker id, first beat, last beat) of every worker that beat within the last hour."""
        rows = self._read("SELECT id, started_at, last_beat FROM svc_workers ORDER BY id")
        return [(str(r[0]), float(r[1]), float(r[2])) for r in rows]

    def record_attempt(
        self,
        delivery_id: str,
        status: str,
        next_at: int,
        error: str | None,
        at: int,
        *,
        owner: str | None = None,
        sent: bool = True,
    ) -> bool:
        """The outcome of a send, written only by the lease's owner (``owner``; None: a row nobody holds).
        False when the lease is no longer ``owner``'s (it was rescued, and another worker may be sending):
        the late outcome is dropped, and the delivery's row is the rescuer's. ``sent=False``: a verdict
        reached without sending (no attempts left), which counts no attempt."""
        held, args = ("owner=?", (owner,)) if owner is not None else ("owner IS NULL", ())
        counted = "attempts+1" if sent else "attempts"
        with self._writing() as tx:
            return bool(
                tx.execute(
                    f"UPDATE svc_deliveries SET status=?, attempts={counted}, next_at=?, last_error=?, owner=NULL, "
                    "lease_until=NULL, done_at=CASE WHEN ?='pending' THEN NULL ELSE ? END "
                    f"WHERE id=? AND status='pending' AND {held}",
                    (status, next_at, error, status, at, delivery_id, *args),
                ).rowcount
            )

    def redrive(self, delivery_id: str, at: int, tenant: str | None = None) -> bool:
        """A dead delivery pending again; with ``tenant``, only one of that tenant."""
        where, args = _tenant_filter(tenant)
        with self._writing() as tx:
            return bool(
                tx.execute(
                    "UPDATE svc_deliveries SET status='pending', attempts=0, next_at=?, done_at=NULL, owner=NULL, "
                    f"lease_until=NULL WHERE id=? AND status='dead'{where}",
                    (at, delivery_id, *args),
                ).rowcount
            )

    def delivery_counts(self) -> dict[tuple[str, str, str], int]:
        """(tenant, channel, status) -> how many deliveries."""
        rows = self._read(
            "SELECT tenant, channel, status, count(*) FROM svc_deliveries GROUP BY tenant, channel, status"
        )
        return {(str(t), str(c), str(s)): int(n) for t, c, s, n in rows}


_USER_COLUMNS = "id, name, roles, contacts, admin, password_hash, tenant"
# The tenant of the user the statement's next argument names (the default tenant's row if there is none).
_TENANT_OF_USER = f"coalesce((SELECT u.tenant FROM svc_users u WHERE u.id = ?), '{DEFAULT_TENANT}')"
_CREDENTIAL_COLUMNS = "id, kind, user_id, roles, label, created_at, expires_at, revoked_at"
_DELIVERY_COLUMNS = "id, message_id, channel, notification, status, attempts, next_at, last_error, owner, tenant"


def _user_values(user: User) -> tuple[Any, ...]:
    roles, contacts = json.dumps(list(user.roles)), json.dumps(user.contacts, ensure_ascii=False)
    return (user.id, user.name, roles, contacts, user.password_hash, int(user.admin))


def _tenant_filter(tenant: str | None) -> tuple[str, tuple[Any, ...]]:
    """The ``AND tenant=?`` that keeps a listing to one tenant (None: every tenant)."""
    return ("", ()) if tenant is None else (" AND tenant=?", (tenant,))


def _is_last_admin(tx: Transaction, user_id: str) -> bool:
    """The user is its tenant's only live admin (without one, nobody could manage that tenant's desk)."""
    live = "disabled_at IS NULL"
    admin = tx.execute(f"SELECT admin, tenant FROM svc_users WHERE id=? AND {live}", (user_id,)).fetchone()
    if not (admin and admin[0]):
        return False
    admins = tx.execute(f"SELECT count(*) FROM svc_users WHERE admin=1 AND tenant=? AND {live}", (admin[1],))
    return int(admins.fetchone()[0]) <= 1


def _beat(tx: Transaction, owner: str, clock: float) -> None:
    tx.execute(
        "INSERT INTO svc_workers (id, started_at, last_beat) VALUES (?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET last_beat=excluded.last_beat",
        (owner, clock, clock),
    )


def _insert_deliveries(tx: Transaction, deliveries: Sequence[Delivery], at: int) -> int:
    added = 0
    for d in deliveries:
        added += tx.execute(
            "INSERT INTO svc_deliveries (id, message_id, channel, notification, status, next_at, created_at, tenant) "
            "VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT DO NOTHING",
            (d.id, d.message_id, d.channel, json.dumps(d.notification, ensure_ascii=False), d.next_at, at, d.tenant),
        ).rowcount
    return added


def _user(row: Sequence[Any]) -> User:
    return User(row[0], row[1], tuple(json.loads(row[2])), json.loads(row[3]), bool(row[4]), row[5], row[6])


def _credential(row: Sequence[Any]) -> Credential:
    roles = None if row[3] is None else tuple(json.loads(row[3]))
    return Credential(row[0], row[1], row[2], roles, row[4], row[5], row[6], row[7])


def _delivery(row: Sequence[Any]) -> Delivery:
    return Delivery(
        row[0], row[1], row[2], json.loads(row[3]), row[4], int(row[5]), int(row[6]), row[7], row[8], row[9]
    )
