"""The service directory in a whole-store export, SQLite to SQLite (tests/pg/test_transfer_directory_pg.py goes
through PostgreSQL and a real ``serve``): users, credential digests, idempotent replies, assignments and their
log, deliveries of every status move with the cases; no secret is in the file; a claimed delivery arrives
pending and unleased, a session that can no longer log in is left behind; each bad directory line is refused
naming its line before the target is touched, and a load that fails midway leaves the target empty."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
import test_transfer
import test_upgrade
from helpers import at
from test_transfer import NOW, lines_of, refused, resealed, rows

from complaintflow import Engine
from complaintflow.service import auth
from complaintflow.store.base import StoreError
from complaintflow.store.directory import Delivery, User
from complaintflow.store.sqlite import SQLiteStore
from complaintflow.store.sqlite_directory import SQLiteDirectory
from complaintflow.store.transfer import import_export

demo_store, store, run, demo_export = (
    test_upgrade.demo_store,
    test_upgrade.store,
    test_upgrade.run,
    test_transfer.demo_export,
)
T = at(NOW)
# Every moved table's rows as the directory keeps them, in an order both databases share.
MOVED = {
    "svc_users": "SELECT id, name, roles, contacts, password_hash, admin, created_at, disabled_at, tenant "
    "FROM svc_users ORDER BY id",
    "svc_credentials": "SELECT digest, id, kind, user_id, roles, label, created_at, expires_at, revoked_at "
    "FROM svc_credentials ORDER BY id",
    "svc_idempotency": "SELECT user_id, key, body_digest, status, response, at FROM svc_idempotency ORDER BY key",
    "svc_assignments": "SELECT case_id, user_id, by_user, at FROM svc_assignments ORDER BY case_id",
    "svc_assignment_log": "SELECT case_id, user_id, by_user, at FROM svc_assignment_log ORDER BY rowid",
    "svc_deliveries": "SELECT id, message_id, channel, notification, status, attempts, next_at, last_error, "
    "created_at, done_at, tenant, owner, lease_until FROM svc_deliveries ORDER BY id",
}


@dataclass
class Desk:
    """What a source store's directory holds, as the tests look for it after a move."""

    token: str  # bo's live API token (the secret: never in the store, never in the file)
    session: str  # bo's live login session
    expired: str  # a session that ran out before the export
    case: str  # assigned to bo
    unassigned: str  # assigned to bo, then back to the queue


def with_directory(path: Path) -> Desk:
    """The demo store at ``path`` with a directory: users of two tenants (one disabled), tokens and sessions
    (one revoked, one expired), an idempotent reply, assignments, and deliveries pending, claimed by a
    worker, delivered and dead."""
    cases = [r[0] for r in rows(path, "SELECT id FROM cases WHERE closed_at IS NULL ORDER BY id")]
    d = SQLiteDirectory(path)
    try:
        hashed = auth.hash_password("correct horse")
        d.add_user(User("ada", "Ada", ("manager",), {}, True, hashed), T - 900)
        d.add_user(User("bo", "Bo 波", ("desk", "complaint:handler"), {"email": "bo@example.com"}, False), T - 800)
        d.add_user(User("cy", "Cy", ("desk",), {}, True, None, "acme"), T - 700)
        d.add_user(User("dee", "Dee", ("desk",), {}, False), T - 600)
        d.disable_user("dee", T - 500)
        token, _ = auth.issue(d, "bo", "token", T - 400, label="laptop", roles=("desk",))
        revoked, credential = auth.issue(d, "bo", "token", T - 390, label="old")
        d.revoke(credential.id, T - 380)
        session, _ = auth.issue(d, "bo", "session", T - 60, label="login")
        expired, _ = auth.issue(d, "bo", "session", T - auth.SESSION_SECONDS - 60, label="login")
        d.remember_reply("bo", "k-1", "sha256:body", 201, {"id": cases[0], "customer_name": "张三"}, T - 300)
        d.assign(cases[0], "bo", "ada", T - 200)
        d.assign(cases[1], "bo", "ada", T - 190)
        d.assign(cases[1], None, "ada", T - 180)
        note = {"subject": "逾期 overdue", "case": cases[0]}
        d.queue(
            [
                Delivery(f"d-{name}", f"{cases[0]}:{i}", "webhook", note, "pending", 0, T - 100 + i, None, tenant=t)
                for i, (name, t) in enumerate((("pending", "default"), ("claimed", "default"), ("sent", "default"),
                                               ("dead", "acme")))
            ],
            T - 100,
        )  # fmt: skip
        for name in ("claimed", "sent", "dead"):
            assert d.claim(f"d-{name}", T, owner="w-1", wall_now=1000.0, lease=60)
        assert d.record_attempt("d-sent", "delivered", T, None, T - 50, owner="w-1")
        assert d.record_attempt("d-dead", "dead", T, "HTTP 410 gone", T - 40, owner="w-1")
    finally:
        d.close()
    return Desk(token, session, expired, cases[0], cases[1])


@pytest.fixture
def desk_store(store) -> tuple[Path, Desk]:
    return store, with_directory(store)


@pytest.fixture
def desk_export(desk_store, tmp_path) -> Path:
    out = tmp_path / "desk.jsonl"
    code, _, err = run("export", "--db", str(desk_store[0]), "--out", str(out), "--now", NOW)
    assert code == 0, err
    assert err.endswith(f" events, {MOVED_WORDS} to {out}\n"), err
    return out


MOVED_WORDS = "4 users, 3 credentials, 1 idempotent reply, 1 assignment, 3 assignment log entries, 4 deliveries"


def moved_rows(path: Path) -> dict[str, list[tuple]]:
    return {table: rows(path, sql) for table, sql in MOVED.items()}


def test_the_directory_moves_with_the_cases_and_the_old_token_still_names_its_user(desk_store, desk_export, tmp_path):
    source, desk = desk_store
    target = tmp_path / "moved.db"
    code, _, err = run("import", str(desk_export), "--db", str(target))
    assert code == 0, err
    assert MOVED_WORDS in err
    assert run("verify", "--db", str(target))[:2] == (0, "history intact\n")
    before, after = moved_rows(source), moved_rows(target)
    for table in ("svc_users", "svc_idempotency", "svc_assignments", "svc_assignment_log"):
        assert after[table] == before[table], table
    # every credential but the session that ran out; the claimed delivery pending and unleased, the rest as was
    expired = auth.digest(desk.expired)
    assert after["svc_credentials"] == [c for c in before["svc_credentials"] if c[0] != expired]
    assert len(after["svc_credentials"]) == 3 and len(before["svc_credentials"]) == 4
    assert [d[:11] for d in after["svc_deliveries"]] == [d[:11] for d in before["svc_deliveries"]]
    assert {d[0]: (d[4], d[11], d[12]) for d in after["svc_deliveries"]} == {
        "d-claimed": ("pending", None, None),
        "d-dead": ("dead", None, None),
        "d-pending": ("pending", None, None),
        "d-sent": ("delivered", None, None),
    }
    assert rows(target, "SELECT count(*) FROM svc_workers") == [(0,)]
    moved = SQLiteDirectory(target)
    try:
        for secret in (desk.token, desk.session):
            assert auth.authenticate(moved, secret, T).user.id == "bo"
        assert moved.credential(expired) is None
        assert moved.assignee(desk.case) == "bo" and moved.assignee(desk.unassigned) is None
        assert [u for u, _, _ in moved.assignment_log(desk.unassigned)] == ["bo", None]
        assert moved.user("dee") is None and moved.user("cy").tenant == "acme"  # type: ignore[union-attr]
        assert moved.idempotent_reply("bo", "k-1") == ("sha256:body", 201, {"id": desk.case, "customer_name": "张三"})
        assert [d.id for d in moved.due_deliveries(T, 10)] == ["d-pending", "d-claimed"]  # the new notifier's
    finally:
        moved.close()
    code, out, err = run("deliveries", "redrive", "d-dead", "--db", str(target))
    assert code == 0, err
    assert rows(target, "SELECT status, attempts FROM svc_deliveries WHERE id='d-dead'") == [("pending", 0)]


def test_the_file_holds_digests_not_secrets_and_no_lease(desk_store, desk_export):
    _, desk = desk_store
    text = desk_export.read_text(encoding="utf-8")
    for secret in (desk.token, desk.session):
        assert secret not in text and auth.digest(secret) in text
    values = lines_of(desk_export)
    kinds = [v["type"] for v in values[1:-1]]
    last_upgrade_or_event = max(i for i, k in enumerate(kinds) if k in ("event", "upgrade"))
    directory = kinds[last_upgrade_or_event + 1 :]
    assert (
        directory
        == ["user"] * 4 + ["credential"] * 3 + ["reply", "assignment"] + ["assignment_log"] * 3 + ["delivery"] * 4
    )
    delivery = next(v for v in values if v.get("type") == "delivery" and v["id"] == "d-claimed")
    assert "owner" not in delivery and "lease_until" not in delivery and delivery["status"] == "pending"
    user = next(v for v in values if v.get("type") == "user" and v["id"] == "bo")
    assert json.loads(user["roles"]) == ["desk", "complaint:handler"]  # the stored text, byte for byte
    assert json.loads(user["contacts"]) == {"email": "bo@example.com"}
    assert values[0]["counts"] == values[-1]["counts"] and values[0]["counts"]["directory"]["deliveries"] == 4


def test_a_store_the_service_never_ran_on_has_no_directory_lines_and_makes_no_tables(demo_export, tmp_path):
    assert {v.get("type") for v in lines_of(demo_export)} <= {None, "process", "event", "upgrade"}
    target = tmp_path / "plain.db"
    assert run("import", str(demo_export), "--db", str(target))[0] == 0
    assert rows(target, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'svc_%'") == [(0,)]


def test_a_version_1_export_is_still_read(demo_export, tmp_path):
    values = lines_of(demo_export)
    values[0]["version"] = 1
    for line in (values[0], values[-1]):
        del line["counts"]["directory"]
    old = resealed(values, tmp_path / "v1.jsonl")
    target = tmp_path / "v1.db"
    code, _, err = run("import", str(old), "--db", str(target))
    assert code == 0, err
    assert run("verify", "--db", str(target))[:2] == (0, "history intact\n")


# -- bad directory lines: one line naming it, exit 2, the target untouched ------------------------------


def _edit(line_type: str, match: dict, **changes):
    def edit(values: list[dict]) -> None:
        line = next(v for v in values if v.get("type") == line_type and all(v.get(k) == m for k, m in match.items()))
        line.update(changes)

    return edit


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (_edit("credential", {"label": "laptop"}, user_id="ghost"), "names user 'ghost', who is not in the export"),
        (_edit("reply", {"key": "k-1"}, user_id="ghost"), "names user 'ghost', who is not in the export"),
        (_edit("assignment", {}, user_id="ghost"), "names user 'ghost', who is not in the export"),
        (_edit("assignment", {}, case_id="no-such-case"), "names case 'no-such-case', which is not in the export"),
        (_edit("assignment_log", {"user_id": None}, case_id="x"), "names case 'x', which is not in the export"),
        (_edit("delivery", {"id": "d-dead"}, status="lost"), "status 'lost' is not one of pending, delivered, dead"),
        (_edit("delivery", {"id": "d-dead"}, tenant="Not A Tenant"), "'Not A Tenant' is not a tenant name"),
        (_edit("user", {"id": "cy"}, tenant="../etc"), "user cy: '../etc' is not a tenant name"),
        (_edit("user", {"id": "bo"}, admin="yes"), "the user line's admin is not true or false"),
        (_edit("user", {"id": "bo"}, roles="desk"), "the user line's roles is not JSON text"),
        (_edit("user", {"id": "bo"}, roles='{"a": 1}'), "the user line's roles is not JSON text of a list of text"),
        (_edit("credential", {"label": "laptop"}, kind="cookie"), "kind 'cookie' is neither token nor session"),
        (_edit("credential", {"label": "laptop"}, digest="cft_secret"), "its digest is not a SHA-256 in hex"),
        (_edit("delivery", {"id": "d-sent"}, attempts=-1), "-1 attempts"),
        (_edit("delivery", {"id": "d-sent"}, notification="[]"), "notification is not JSON text of an object"),
        (_edit("user", {"id": "dee"}, id="bo"), "user bo a second time"),
        (_edit("assignment", {}, user_id="cy"), "to user cy of tenant acme"),  # the case is the default tenant's
        (_edit("assignment", {}, tenant="acme"), "is filed under tenant acme, case "),
        (_edit("reply", {"key": "k-1"}, tenant="acme"), "is filed under tenant acme, its user under default"),
    ],
)
def test_a_bad_directory_line_is_refused_naming_it(desk_export, tmp_path, edit, says):
    values = lines_of(desk_export)
    edit(values)
    bad = resealed(values, tmp_path / "bad.jsonl")
    message = refused(bad, tmp_path)
    assert message.startswith(f"{bad}: line ") and says in message and message.endswith("; nothing was imported")
    number = int(message.split(": line ", 1)[1].split(":", 1)[0])
    assert lines_of(bad)[number - 1]["type"] in ("user", "credential", "reply", "assignment", "assignment_log",
                                                 "delivery")  # fmt: skip


def test_a_directory_line_out_of_place_or_in_a_version_1_file_is_refused(desk_export, tmp_path):
    values = lines_of(desk_export)
    user = next(i for i, v in enumerate(values) if v.get("type") == "user")
    moved = values[:user] + values[user + 1 : -1] + [values[user], values[-1]]  # a user after the deliveries
    message = refused(resealed(moved, tmp_path / "late.jsonl"), tmp_path)
    assert "a user line out of place" in message
    values[0]["version"] = 1
    message = refused(resealed(values, tmp_path / "v1.jsonl"), tmp_path)
    assert f": line {user + 1}: unknown line type 'user'" in message


def fails_midway_and_leaves_it_empty(db: str, export: Path, kind: type, count, monkeypatch) -> None:
    """Import ``export`` into the empty store ``db`` (of store class ``kind``) while its database refuses the
    deliveries, the last rows written; then every table ``count(table)`` reads is empty, and the same store
    takes the file once the database accepts it."""
    real = kind.load_directory_rows

    def refusing(self, table, columns, values):
        if table == "svc_deliveries":
            raise StoreError("the database refused a delivery")
        real(self, table, columns, values)

    monkeypatch.setattr(kind, "load_directory_rows", refusing)
    engine = Engine(db)
    with pytest.raises(StoreError, match="refused a delivery"):
        import_export(engine, export)
    engine.close()
    for table in ("processes", "cases", "events", *MOVED):
        assert count(table) == [(0,)], table
    monkeypatch.setattr(kind, "load_directory_rows", real)
    assert run("import", str(export), "--db", db)[0] == 0


def test_a_load_that_fails_midway_leaves_the_target_empty(desk_export, tmp_path, monkeypatch):
    """The directory's rows go in the import's one transaction: a failure after the events and the users are
    written (here, the database refusing the deliveries) undoes all of it."""
    target = tmp_path / "t.db"
    SQLiteStore(target).close()
    SQLiteDirectory(target).close()  # the service's tables, empty, as the import command makes them
    count = lambda table: rows(target, f"SELECT count(*) FROM {table}")  # noqa: E731
    fails_midway_and_leaves_it_empty(str(target), desk_export, SQLiteStore, count, monkeypatch)


def test_a_target_whose_directory_holds_a_user_is_refused_unchanged(desk_export, tmp_path):
    target = tmp_path / "t.db"
    SQLiteStore(target).close()
    d = SQLiteDirectory(target)
    d.add_user(User("root", "Root", (), {}, True), T)
    d.close()
    code, _, err = run("import", str(desk_export), "--db", str(target))
    assert code == 2 and "already holds service users" in err and len(err.splitlines()) == 1, err
    assert rows(target, "SELECT id FROM svc_users") == [("root",)]
    assert rows(target, "SELECT count(*) FROM events") == [(0,)]


def test_an_older_directory_layout_is_brought_up_to_date_before_the_export(desk_store, tmp_path):
    """A file whose service tables an older release made (no tenant columns) exports as the current layout."""
    source, _ = desk_store
    db = sqlite3.connect(source)
    for table in ("svc_users", "svc_deliveries"):
        db.execute(f"DROP INDEX {table}_tenant")
        db.execute(f"ALTER TABLE {table} DROP COLUMN tenant")
    db.execute("DELETE FROM svc_meta")
    db.commit()
    db.close()
    out = tmp_path / "old.jsonl"
    code, _, err = run("export", "--db", str(source), "--out", str(out), "--now", NOW)
    assert code == 0, err
    assert {v["tenant"] for v in lines_of(out) if v.get("type") == "user"} == {"default"}
