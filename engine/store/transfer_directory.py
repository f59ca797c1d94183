"""The service directory in a whole-store export (store/transfer.py): its lines, their checks, their load.

After the events and upgrade records an export carries the directory's rows, one line each, in this order:
users (with password hashes, roles, contacts, tenant; disabled ones too, since histories name them),
credentials (the SHA-256 digest only: a secret is in neither the store nor the file; revoked and expired
tokens stay listed, sessions that can no longer log anyone in are left behind), idempotent replies (a client
retrying a start must still get its first answer), case assignments, the assignment log (in the order it
was written) and deliveries of every status with their attempts, next time and last error. Leases and the
workers table are not moved: they belong to running processes, so a delivery a worker held goes as pending
and the new store's notifier sends it. JSON-valued columns (roles, contacts, a notification, a reply's body)
travel as the text stored, so a retried request gets its first answer byte for byte.

The rows are read on the store's own connection inside the export's snapshot (the same view as the events)
and loaded on the import's connection inside its one transaction, so a refused import leaves the target's
directory as empty as its cases. Every line is checked in ``DirectoryLines`` as the file is read, before the
target is opened: a credential, reply or assignment of a user not in the file, an assignment of a case not in
it or to a user of another tenant, a bad status, a bad tenant name are refused naming the line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import BadArgumentError, UnusableInputError
from ..tenants import check_tenant
from .base import DirectoryTables, MovableStore


@dataclass(frozen=True, slots=True)
class Table:
    kind: str  # the line's "type"
    name: str
    types: dict[str, str]  # the line's keys (the table's columns) and what each holds: see _KINDS_OF_VALUE
    count: str  # its key in the counts' "directory"
    words: tuple[str, str]  # one row, several rows (a summary's words)
    key: tuple[str, ...]  # the export's order, unique in a file (empty: the order the rows were written)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.types)


TABLES = (
    Table(
        "user",
        "svc_users",
        {
            "id": "text", "name": "text", "roles": "texts", "contacts": "contacts", "password_hash": "text?",
            "admin": "bool", "created_at": "int", "disabled_at": "int?", "tenant": "text",
        },
        "users",
        ("user", "users"),
        ("id",),
    ),
    Table(
        "credential",
        "svc_credentials",
        {
            "digest": "text", "id": "text", "kind": "text", "user_id": "text", "roles": "texts?", "label": "text",
            "created_at": "int", "expires_at": "int?", "revoked_at": "int?",
        },
        "credentials",
        ("credential", "credentials"),
        ("created_at", "id"),
    ),
    Table(
        "reply",
        "svc_idempotency",
        {
            "user_id": "text", "key": "text", "body_digest": "text", "status": "int", "response": "json", "at": "int",
            "tenant": "text",
        },
        "replies",
        ("idempotent reply", "idempotent replies"),
        ("user_id", "key"),
    ),
    Table(
        "assignment",
        "svc_assignments",
        {"case_id": "text", "user_id": "text", "by_user": "text", "at": "int", "tenant": "text"},
        "assignments",
        ("assignment", "assignments"),
        ("case_id",),
    ),
    Table(
        "assignment_log",
        "svc_assignment_log",
        {"case_id": "text", "user_id": "text?", "by_user": "text", "at": "int", "tenant": "text"},
        "assignment_changes",
        ("assignment log entry", "assignment log entries"),
        (),
    ),
    Table(
        "delivery",
        "svc_deliveries",
        {
            "id": "text", "message_id": "text", "channel": "text", "notification": "object", "status": "text",
            "attempts": "int", "next_at": "int", "last_error": "text?", "created_at": "int", "done_at": "int?",
            "tenant": "text",
        },
        "deliveries",
        ("delivery", "deliveries"),
        ("created_at", "id"),
    ),
)  # fmt: skip
KINDS = {table.kind: table for table in TABLES}
# What a value of each kind is (a trailing "?": or null), in the words a refusal uses.
_KINDS_OF_VALUE: dict[str, tuple[Callable[[Any], bool], str]] = {
    "text": (lambda v: type(v) is str, "text"),
    "int": (lambda v: type(v) is int, "a whole number"),
    "bool": (lambda v: type(v) is bool, "true or false"),
    "texts": (lambda v: type(v) is list and all(type(r) is str for r in v), "a list of text"),
    "contacts": (lambda v: type(v) is dict and all(type(c) is str for c in v.values()), "an object of text"),
    "object": (lambda v: type(v) is dict, "an object"),
    "json": (lambda v: True, "JSON"),  # a reply's body, as the API sent it
}
# Columns kept as JSON text: a line holds the text, checked to be JSON of the column's kind.
_JSON = frozenset({"roles", "contacts", "notification", "response"})
_STATUSES = ("pending", "delivered", "dead")
_DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class DirectoryRow:
    """One line's row, as the table stores it."""

    table: Table
    values: tuple[Any, ...]


# -- export -------------------------------------------------------------------------------------------


def directory_tables(store: DirectoryTables) -> dict[str, frozenset[str]]:
    """The service directory's tables in the store's database, each with its columns."""
    tables: dict[str, set[str]] = {}
    for table, column in store.directory_rows(store.directory_catalog):
        tables.setdefault(table, set()).add(column)
    return {table: frozenset(columns) for table, columns in tables.items()}


def directory_lines(
    store: DirectoryTables, at: int, tenant: str | None = None
) -> Iterator[tuple[Table, dict[str, Any]]]:
    """Each directory row of the store as its line's value, table by table; none for a store that never held
    the service's tables. Call inside the store's ``snapshot`` (a separate directory file is read as it is).
    ``tenant``: only its rows (a credential is its user's tenant's)."""
    present = directory_tables(store)
    if "svc_users" not in present:
        return
    users: set[str] = set()  # the tenant's, once its user rows are read
    for table in TABLES:
        have = present.get(table.name, frozenset())
        if not set(table.columns) <= have:
            raise UnusableInputError(
                f"the service tables of the store have an older layout ({table.name} lacks "
                f"{', '.join(sorted(set(table.columns) - have))}): open them once (complaintflow users list) and "
                "export again; nothing was exported"
            )
        # The log keeps its written order (SQLite's rowid, PostgreSQL's seq column); the rest is sorted here,
        # not in SQL, so both databases write the same bytes whatever their text collation.
        order = (" ORDER BY seq" if "seq" in have else " ORDER BY rowid") if not table.key else ""
        values = [dict(zip(table.columns, row, strict=True)) for row in store.directory_rows(
            f"SELECT {', '.join(table.columns)} FROM {table.name}{order}"
        )]  # fmt: skip
        if table.key:
            values.sort(key=lambda v: tuple(v[k] for k in table.key))
        for value in values:
            if table.kind == "credential" and _dead_session(value, at):
                continue
            if tenant is not None and not _tenants(table, value, tenant, users):
                continue
            yield table, _line(value)


def _tenants(table: Table, value: dict[str, Any], tenant: str, users: set[str]) -> bool:
    """Whether the row is ``tenant``'s: a credential through its user, every other row by its own column."""
    if table.kind == "credential":
        return value["user_id"] in users
    if value["tenant"] != tenant:
        return False
    if table.kind == "user":
        users.add(value["id"])
    return True


def _dead_session(value: dict[str, Any], at: int) -> bool:
    """A session that can no longer log anyone in: nothing would miss it (a token stays, for its listing)."""
    expires = value["expires_at"]
    return bool(
        value["kind"] == "session" and (value["revoked_at"] is not None or (expires is not None and expires <= at))
    )


def _line(value: dict[str, Any]) -> dict[str, Any]:
    if "admin" in value:
        value["admin"] = bool(value["admin"])
    return value


# -- reading and checking the lines ---------------------------------------------------------------------

Fail = Callable[[str], Exception]


class DirectoryLines:
    """The checks of an export's directory lines, in file order (users before what names them)."""

    def __init__(self, fail: Fail) -> None:
        self.fail = fail
        self.users: dict[str, str] = {}  # id: tenant
        self.seen: dict[str, set[tuple[Any, ...]]] = {table.kind: set() for table in TABLES}
        self.counts = {table.count: 0 for table in TABLES}
        self.credential_ids: set[str] = set()

    def line(self, table: Table, value: dict[str, Any], cases: Mapping[str, str]) -> DirectoryRow:
        row = {column: self._field(table, column, kind, value) for column, kind in table.types.items()}
        getattr(self, f"_check_{table.kind}")(row, cases)
        if table.key:
            unique = tuple(row[k] for k in (("digest",) if table.kind == "credential" else table.key))
            if unique in self.seen[table.kind]:
                raise self.fail(f"{table.kind} {'/'.join(map(str, unique))} a second time")
            self.seen[table.kind].add(unique)
        self.counts[table.count] += 1
        return DirectoryRow(table, tuple(_stored(column, row[column]) for column in table.columns))

    def _field(self, table: Table, column: str, kind: str, value: dict[str, Any]) -> Any:
        if column not in value:
            raise self.fail(f"the {table.kind} line has no {column}")
        found = value[column]
        if found is None and kind.endswith("?"):
            return None
        holds, words = _KINDS_OF_VALUE[kind.rstrip("?")]
        if column in _JSON:
            if type(found) is not str:
                raise self.fail(f"the {table.kind} line's {column} is not JSON text")
            try:
                parsed = json.loads(found)
            except ValueError:
                raise self.fail(f"the {table.kind} line's {column} is not JSON text") from None
            if not holds(parsed):
                raise self.fail(f"the {table.kind} line's {column} is not JSON text of {words}")
        elif not holds(found):
            raise self.fail(f"the {table.kind} line's {column} is not {words}")
        return found

    def _tenant(self, row: dict[str, Any], what: str) -> None:
        try:
            check_tenant(row["tenant"])
        except BadArgumentError:
            raise self.fail(f"{what}: {row['tenant']!r} is not a tenant name") from None

    def _user(self, user_id: str | None, what: str) -> None:
        if user_id is not None and user_id not in self.users:
            raise self.fail(f"{what} names user {user_id!r}, who is not in the export")

    def _check_user(self, row: dict[str, Any], cases: Mapping[str, str]) -> None:
        if not row["id"]:
            raise self.fail("a user with an empty id")
        self._tenant(row, f"user {row['id']}")
        self.users[row["id"]] = row["tenant"]

    def _check_credential(self, row: dict[str, Any], cases: Mapping[str, str]) -> None:
        what = f"credential {row['id']}"
        if row["kind"] not in ("token", "session"):
            raise self.fail(f"{what}: kind {row['kind']!r} is neither token nor session")
        if not _DIGEST.fullmatch(row["digest"]):
            raise self.fail(f"{what}: its digest is not a SHA-256 in hex")
        if row["id"] in self.credential_ids:
            raise self.fail(f"{what} a second time")
        self.credential_ids.add(row["id"])
        self._user(row["user_id"], what)

    def _check_reply(self, row: dict[str, Any], cases: Mapping[str, str]) -> None:
        what = f"the idempotent reply {row['key']!r}"
        self._user(row["user_id"], what)
        self._tenant(row, what)
        if row["tenant"] != self.users[row["user_id"]]:
            raise self.fail(
                f"{what} is filed under tenant {row['tenant']}, its user under {self.users[row['user_id']]}"
            )

    def _check_assignment(self, row: dict[str, Any], cases: Mapping[str, str]) -> None:
        self._holder(row, cases, "the assignment")

    def _check_assignment_log(self, row: dict[str, Any], cases: Mapping[str, str]) -> None:
        self._holder(row, cases, "the assignment log entry")

    def _holder(self, row: dict[str, Any], cases: Mapping[str, str], what: str) -> None:
        """The case is in the file, and whoever holds it is a user of the case's own tenant."""
        case_id, user_id = row["case_id"], row["user_id"]
        if case_id not in cases:
            raise self.fail(f"{what} names case {case_id!r}, which is not in the export")
        self._tenant(row, what)
        if row["tenant"] != cases[case_id]:
            raise self.fail(f"{what} is filed under tenant {row['tenant']}, case {case_id} under {cases[case_id]}")
        self._user(user_id, f"{what} of case {case_id}")
        if user_id is not None and self.users[user_id] != cases[case_id]:
            raise self.fail(
                f"{what} gives case {case_id} of tenant {cases[case_id]} to user {user_id} of tenant "
                f"{self.users[user_id]}"
            )

    def _check_delivery(self, row: dict[str, Any], cases: Mapping[str, str]) -> None:
        what = f"delivery {row['id']}"
        if row["status"] not in _STATUSES:
            raise self.fail(f"{what}: status {row['status']!r} is not one of {', '.join(_STATUSES)}")
        if row["attempts"] < 0:
            raise self.fail(f"{what}: {row['attempts']} attempts")
        self._tenant(row, what)


def _stored(column: str, value: Any) -> Any:
    """A line's value as the directory stores it (an integer flag for admin)."""
    return int(value) if column == "admin" else value


# -- import --------------------------------------------------------------------------------------------


def refuse_unless_ready(target: MovableStore, name: str) -> None:
    """The target has the directory's tables (its service opened them once) and none of their rows."""
    present = directory_tables(target)
    for table in TABLES:
        missing = set(table.columns) - present.get(table.name, frozenset())
        if missing:
            raise UnusableInputError(
                f"the export holds the service directory, but {name} has no service tables of this release "
                f"({table.name}); import with 'complaintflow import', which makes them (nothing was imported)"
            )
        if target.directory_rows(f"SELECT 1 FROM {table.name} LIMIT 1"):
            raise UnusableInputError(
                f"{name} already holds service {table.words[1]}; import into a new, empty store (nothing was imported)"
            )


def load(target: MovableStore, rows: list[DirectoryRow]) -> None:
    """The rows into the target's tables, each table's in file order, inside the import's transaction."""
    for table in TABLES:
        mine = [row.values for row in rows if row.table is table]
        if mine:
            target.load_directory_rows(table.name, table.columns, mine)
