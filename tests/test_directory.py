"""The service directory's contract, run on both backends: SQLite (in the store file) and PostgreSQL (in the
store's database). Leases are timed by a clock each test moves: the wall clock a notifier passes in on
SQLite, a one-row table standing in for ``clock_timestamp()`` on PostgreSQL (the same SQL reads it)."""

from __future__ import annotations

import pytest
from directories import T0

from complaintflow.store.base import StoreError
from complaintflow.store.directory import Credential, Delivery, User


@pytest.fixture
def directory(directory_place):
    _, open_one, _ = directory_place
    return open_one()


def _delivery(n: int = 1, next_at: int = 100, tenant: str = "default") -> Delivery:
    notification = {"n": n, "text": "案件"}
    return Delivery(f"m:{n}@hook", f"m:{n}", "hook", notification, "pending", 0, next_at, None, None, tenant)


# -- users, credentials, replies, assignments ------------------------------------------------------------


def test_users_are_added_edited_and_disabled_and_the_last_admin_stays(directory):
    directory.add_user(User("boss", "Boss", (), {}, True), 1)
    directory.add_user(User("wang", "王芳", ("receiver", "mall:cs_centre"), {"mobile": "1"}, False, "hash"), 2)
    with pytest.raises(StoreError, match="already exists"):
        directory.add_user(User("wang", "again", (), {}, False), 3)
    assert [u.id for u in directory.users()] == ["boss", "wang"]
    assert directory.user("wang") == User(
        "wang", "王芳", ("receiver", "mall:cs_centre"), {"mobile": "1"}, False, "hash"
    )
    assert [u.id for u in directory.users_holding("mall", "cs_centre", "default")] == ["wang"]
    assert directory.users_holding("other", "cs_centre", "default") == []
    assert directory.count_admins() == 1
    with pytest.raises(StoreError, match="last admin"):
        directory.update_user(User("boss", "Boss", (), {}, False))
    with pytest.raises(StoreError, match="last admin"):
        directory.disable_user("boss", 4)
    directory.update_user(User("wang", "王芳", ("front_desk",), {}, True))
    assert directory.user("wang").roles == ("front_desk",) and directory.count_admins() == 2
    directory.disable_user("boss", 5)
    assert directory.user("boss") is None and directory.count_admins() == 1
    with pytest.raises(StoreError, match="no user 'boss'"):
        directory.update_user(User("boss", "Boss", (), {}, True))


def test_credentials_are_found_by_digest_listed_and_revoked_with_their_user(directory):
    directory.add_user(User("boss", "Boss", (), {}, True), 1)
    directory.add_user(User("wang", "王芳", ("receiver",), {}, False), 1)
    token = Credential("t1", "token", "wang", ("receiver",), "ci", 10, None, None)
    session = Credential("s1", "session", "wang", None, "", 11, 99, None)
    directory.add_credential("digest-t1", token)
    directory.add_credential("digest-s1", session)
    assert directory.credential("digest-t1") == token and directory.credential("nope") is None
    assert [c.id for c in directory.credentials("wang")] == ["t1", "s1"] and directory.credentials("boss") == []
    assert directory.revoke("t1", 20) and not directory.revoke("t1", 21)
    assert directory.credential("digest-t1").revoked_at == 20
    directory.disable_user("wang", 30)
    assert directory.credential("digest-s1").revoked_at == 30


def test_an_idempotent_reply_is_kept_once_and_forgotten_with_its_case(directory):
    assert directory.idempotent_reply("wang", "k1") is None
    directory.remember_reply("wang", "k1", "body", 201, {"id": "c1", "data": {"phone": "138"}}, 1)
    directory.remember_reply("wang", "k1", "other", 201, {"id": "c9"}, 2)  # the first answer stays
    directory.remember_reply("wang", "k2", "body2", 201, {"id": "c2"}, 3)
    assert directory.idempotent_reply("wang", "k1") == ("body", 201, {"id": "c1", "data": {"phone": "138"}})
    assert directory.forget_replies("c1") == 1
    assert directory.idempotent_reply("wang", "k1") is None and directory.idempotent_reply("wang", "k2")


def test_assignments_replace_each_other_and_every_change_is_logged_in_order(directory):
    directory.assign("c1", "wang", "boss", 1)
    directory.assign("c1", "li", "boss", 2)
    directory.assign("c2", "wang", "wang", 3)
    assert directory.assignee("c1") == "li" and directory.assignees() == {"c1": "li", "c2": "wang"}
    directory.assign("c1", None, "li", 4)
    assert directory.assignee("c1") is None
    assert directory.assignment_log("c1") == [("wang", "boss", 1), ("li", "boss", 2), (None, "li", 4)]


def test_users_and_deliveries_are_kept_apart_by_tenant(directory):
    directory.add_user(User("boss", "Boss", (), {}, True), 1)
    directory.add_user(User("a-boss", "A Boss", (), {}, True, None, "acme"), 1)
    directory.add_user(User("a-wang", "王芳", ("receiver",), {}, False, None, "acme"), 1)
    directory.add_user(User("b-li", "李雷", ("receiver",), {}, False, None, "bolt"), 1)
    with pytest.raises(StoreError, match="already exists"):  # a user id is unique across every tenant
        directory.add_user(User("a-wang", "again", (), {}, False, None, "bolt"), 2)
    assert [u.id for u in directory.users("acme")] == ["a-boss", "a-wang"] and directory.users("none") == []
    assert [u.id for u in directory.users()] == ["a-boss", "a-wang", "b-li", "boss"]
    assert directory.user("b-li").tenant == "bolt" and directory.user("boss").tenant == "default"
    assert [u.id for u in directory.users_holding("mall", "receiver", "bolt")] == ["b-li"]
    with pytest.raises(StoreError, match="last admin"):  # the only admin of acme, though boss is one too
        directory.disable_user("a-boss", 3)
    directory.update_user(User("a-wang", "王芳", ("receiver",), {}, True, None, "bolt"))  # never moves tenant
    assert directory.user("a-wang").tenant == "acme" and directory.count_admins() == 3
    directory.add_credential("d-li", Credential("tli", "token", "b-li", None, "", 1, None, None))
    assert not directory.revoke("tli", 4, "acme") and directory.revoke("tli", 4, "bolt")
    directory.queue([_delivery(1), _delivery(2, 200, "acme")], 50)
    assert [d.id for d in directory.deliveries(tenant="acme")] == ["m:2@hook"]
    assert [d.tenant for d in directory.deliveries()] == ["default", "acme"]
    for n in (1, 2):
        directory.record_attempt(f"m:{n}@hook", "dead", 100, "401", 100)
    assert [d.id for d in directory.deliveries("dead", tenant="default")] == ["m:1@hook"]
    assert not directory.redrive("m:2@hook", 500, "default") and directory.redrive("m:2@hook", 500, "acme")


# -- deliveries -------------------------------------------------------------------------------------------


def test_deliveries_are_queued_once_and_listed(directory):
    assert directory.queue([_delivery(1), _delivery(2, 200)], 50) == 2
    assert directory.queue([_delivery(2, 200), _delivery(3, 300)], 60) == 1  # a re-read batch
    assert directory.queue([_delivery(3), _delivery(4, 400)], 70) == 1
    assert [d.id for d in directory.deliveries()] == ["m:1@hook", "m:2@hook", "m:3@hook", "m:4@hook"]
    assert [d.id for d in directory.due_deliveries(200, 10)] == ["m:1@hook", "m:2@hook"]
    assert directory.next_delivery_at() == 100
    assert directory.delivery("m:1@hook").notification == {"n": 1, "text": "案件"}
    assert directory.record_attempt("m:1@hook", "dead", 100, "401", 100)
    assert directory.deliveries("dead") == [directory.delivery("m:1@hook")]
    assert directory.delivery_counts() == {("default", "hook", "dead"): 1, ("default", "hook", "pending"): 3}
    assert directory.redrive("m:1@hook", 500) and not directory.redrive("m:1@hook", 501)
    again = directory.delivery("m:1@hook")
    assert (again.status, again.attempts, again.next_at) == ("pending", 0, 500)


# -- leases ---------------------------------------------------------------------------------------------


def test_a_claim_is_one_workers_until_its_lease_runs_out_without_a_beat(directory_place):
    _, open_one, clock = directory_place
    a, b = open_one(), open_one()  # two processes' connections
    a.queue([_delivery()], 100)
    assert a.claim("m:1@hook", 100, owner="A", wall_now=clock.t, lease=15)
    assert not b.claim("m:1@hook", 100, owner="B", wall_now=clock.t, lease=15)
    assert b.due_deliveries(100, 10) == [] and b.delivery("m:1@hook").owner == "A"
    # the desk clock jumps an hour; the lease clock moved 10 s: still A's
    clock.at(T0 + 10)
    assert b.rescue(wall_now=clock.t) == 0
    assert not b.claim("m:1@hook", 3700, owner="B", wall_now=clock.t, lease=15)
    clock.at(T0 + 16)  # no beat from A for a whole lease
    assert b.rescue(wall_now=clock.t) == 1 and b.rescue(wall_now=clock.t) == 0
    rescued = b.delivery("m:1@hook")
    assert (rescued.owner, rescued.attempts, rescued.status) == (None, 1, "pending")  # the send in flight counts
    assert "worker A" in rescued.last_error
    assert b.claim("m:1@hook", 100, owner="B", wall_now=clock.t, lease=15)


def test_heartbeats_keep_a_long_send_and_the_workers_row(directory_place):
    _, open_one, clock = directory_place
    a, b = open_one(), open_one()
    a.queue([_delivery(1), _delivery(2)], 100)
    assert a.claim("m:1@hook", 100, owner="A", wall_now=clock.t, lease=15)
    for step in range(1, 5):  # a send of 40 s, beating every 10 s
        clock.at(T0 + 10 * step)
        assert a.beat("A", wall_now=clock.t, lease=15) == 1
        assert b.rescue(wall_now=clock.t) == 0
    assert [w[0] for w in b.workers()] == ["A"] and b.workers()[0][2] == T0 + 40
    assert a.record_attempt("m:1@hook", "delivered", 140, None, 140, owner="A")
    assert a.beat("A", wall_now=clock.t, lease=15) == 0  # it holds nothing now
    assert b.delivery("m:1@hook").attempts == 1


def test_only_the_lease_owner_records_an_outcome(directory_place):
    _, open_one, clock = directory_place
    a, b = open_one(), open_one()
    a.queue([_delivery()], 100)
    assert a.claim("m:1@hook", 100, owner="A", wall_now=clock.t, lease=15)
    assert not b.record_attempt("m:1@hook", "delivered", 100, None, 100, owner="B")
    assert not b.record_attempt("m:1@hook", "delivered", 100, None, 100)  # nobody's: but A holds it
    clock.at(T0 + 20)
    assert b.rescue(wall_now=clock.t) == 1
    assert b.claim("m:1@hook", 100, owner="B", wall_now=clock.t, lease=15)
    assert not a.record_attempt("m:1@hook", "delivered", 100, None, 120, owner="A")  # A's lease was rescued
    assert b.record_attempt("m:1@hook", "pending", 200, "503", 120, owner="B")
    after = b.delivery("m:1@hook")
    assert (after.status, after.attempts, after.last_error, after.owner) == ("pending", 2, "503", None)


def test_a_retired_worker_frees_what_it_held_at_once_without_counting_an_attempt(directory_place):
    _, open_one, clock = directory_place
    a = open_one()
    a.queue([_delivery()], 100)
    assert a.claim("m:1@hook", 100, owner="A", wall_now=clock.t, lease=15)
    a.retire("A")
    assert a.workers() == [] and [d.id for d in a.due_deliveries(100, 10)] == ["m:1@hook"]
    assert a.delivery("m:1@hook").attempts == 0


def test_a_stopped_workers_row_is_pruned_after_an_hour_by_anothers_beat(directory_place):
    _, open_one, clock = directory_place
    a = open_one()
    a.beat("gone", wall_now=clock.t, lease=15)
    clock.at(T0 + 3599)
    a.beat("live", wall_now=clock.t, lease=15)
    assert [w[0] for w in a.workers()] == ["gone", "live"]
    clock.at(T0 + 3601)
    a.beat("live", wall_now=clock.t, lease=15)
    assert [w[0] for w in a.workers()] == ["live"]


def test_replies_assignments_and_the_log_carry_the_tenant_of_their_user(directory):
    directory.add_user(User("boss", "Boss", (), {}, True), 1)
    directory.add_user(User("ann", "Ann", ("desk",), {}, True, None, "acme"), 1)
    directory.add_user(User("bob", "Bob", ("desk",), {}, False, None, "acme"), 1)
    directory.remember_reply("bob", "k-1", "d", 201, {"id": "c1"}, 2)
    directory.remember_reply("boss", "k-1", "d", 201, {"id": "c0"}, 2)
    directory.assign("c1", "bob", "ann", 3)
    directory.assign("c1", None, "ann", 4)  # handed back: the assigner's tenant, the case's
    directory.assign("c2", "bob", "ann", 5)
    directory.assign("c0", "boss", "boss", 6)

    def tenants(sql: str) -> list[tuple]:
        return [tuple(r) for r in directory._read(sql)]

    assert tenants("SELECT user_id, tenant FROM svc_idempotency ORDER BY user_id") == [
        ("bob", "acme"),
        ("boss", "default"),
    ]
    assert tenants("SELECT case_id, tenant FROM svc_assignments ORDER BY case_id") == [
        ("c0", "default"),
        ("c2", "acme"),
    ]
    assert tenants("SELECT tenant FROM svc_assignment_log ORDER BY at") == [("acme",)] * 3 + [("default",)]


# -- a directory from before tenants ------------------------------------------------------------------------

# The service tables as the release before tenants made them (no tenant columns, no layout in svc_meta).
_BEFORE_TENANTS = """
CREATE TABLE svc_users (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, roles TEXT NOT NULL, contacts TEXT NOT NULL,
    password_hash TEXT, admin INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, disabled_at INTEGER);
CREATE TABLE svc_deliveries (
    id TEXT PRIMARY KEY, message_id TEXT NOT NULL, channel TEXT NOT NULL, notification TEXT NOT NULL,
    status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
    last_error TEXT, created_at INTEGER NOT NULL, done_at INTEGER, lease_until REAL, owner TEXT);
CREATE TABLE svc_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO svc_users VALUES ('boss', 'Boss', '[]', '{}', NULL, 1, 1, NULL);
INSERT INTO svc_deliveries VALUES ('m:1@hook', 'm:1', 'hook', '{}', 'dead', 3, 100, '401', 50, 100, NULL, NULL);
"""


def test_a_directory_from_before_tenants_gains_the_columns_once_with_its_rows_in_the_default_tenant(tmp_path):
    import sqlite3

    from complaintflow.store.sqlite_directory import LAYOUT_KEY, LAYOUT_VERSION, SQLiteDirectory

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(_BEFORE_TENANTS)
    old.close()
    for _ in range(2):  # the second open finds the layout done
        directory = SQLiteDirectory(path)
        assert directory.user("boss").tenant == "default" and [u.id for u in directory.users("default")] == ["boss"]
        assert [d.tenant for d in directory.deliveries("dead", tenant="default")] == ["default"]
        directory.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM svc_meta WHERE key=?", (LAYOUT_KEY,)).fetchone() == (str(LAYOUT_VERSION),)
    assert {r[1] for r in db.execute("PRAGMA index_list(svc_users)")} >= {"svc_users_tenant"}
    db.close()


def test_a_failed_layout_step_changes_nothing(tmp_path):
    import sqlite3

    from complaintflow.store.sqlite_directory import SQLiteDirectory

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    # an index of that name that is in the way: the step's last index fails after the columns were added
    old.executescript(_BEFORE_TENANTS + "CREATE TABLE svc_deliveries_tenant (x);")
    old.close()
    with pytest.raises(StoreError, match="cannot open the service tables"):
        SQLiteDirectory(path)
    db = sqlite3.connect(path)
    assert "tenant" not in {r[1] for r in db.execute("PRAGMA table_info(svc_users)")}  # rolled back
    assert db.execute("SELECT count(*) FROM svc_meta").fetchone() == (0,)
    db.close()


# Layout 2's tables of a store file: replies and assignments without their tenant (users have theirs).
_LAYOUT_2 = """
CREATE TABLE cases (id TEXT PRIMARY KEY, tenant TEXT NOT NULL DEFAULT 'default');
INSERT INTO cases VALUES ('c1', 'north');
CREATE TABLE svc_users (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, roles TEXT NOT NULL, contacts TEXT NOT NULL,
    password_hash TEXT, admin INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, disabled_at INTEGER,
    tenant TEXT NOT NULL DEFAULT 'default');
CREATE TABLE svc_idempotency (
    user_id TEXT NOT NULL, key TEXT NOT NULL, body_digest TEXT NOT NULL, status INTEGER NOT NULL,
    response TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (user_id, key));
CREATE TABLE svc_assignments (
    case_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, by_user TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE svc_assignment_log (case_id TEXT NOT NULL, user_id TEXT, by_user TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE svc_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO svc_meta VALUES ('directory_layout', '2');
INSERT INTO svc_users VALUES ('bob', 'Bob', '[]', '{}', NULL, 0, 1, NULL, 'acme');
INSERT INTO svc_idempotency VALUES ('bob', 'k', 'd', 201, '{}', 1), ('gone', 'k', 'd', 201, '{}', 1);
INSERT INTO svc_assignments VALUES ('c1', 'bob', 'bob', 1), ('c9', 'bob', 'bob', 2);
INSERT INTO svc_assignment_log VALUES ('c1', 'bob', 'bob', 1), ('c9', NULL, 'bob', 2), ('c8', NULL, 'gone', 3);
"""


def test_layout_3_files_each_reply_under_its_users_tenant_and_each_assignment_under_its_cases(tmp_path):
    """Where the case row is beside the directory its tenant wins; else the holder's (or the assigner's, for a
    hand-back); a row naming nobody known stays in the default tenant."""
    import sqlite3

    from complaintflow.store.sqlite_directory import LAYOUT_KEY, LAYOUT_VERSION, SQLiteDirectory

    path = tmp_path / "layout2.db"
    old = sqlite3.connect(path)
    old.executescript(_LAYOUT_2)
    old.close()
    SQLiteDirectory(path).close()
    db = sqlite3.connect(path)
    try:
        assert db.execute("SELECT user_id, tenant FROM svc_idempotency ORDER BY user_id").fetchall() == [
            ("bob", "acme"),
            ("gone", "default"),
        ]
        assert db.execute("SELECT case_id, tenant FROM svc_assignments ORDER BY case_id").fetchall() == [
            ("c1", "north"),
            ("c9", "acme"),
        ]
        assert db.execute("SELECT case_id, tenant FROM svc_assignment_log ORDER BY at").fetchall() == [
            ("c1", "north"),
            ("c9", "acme"),
            ("c8", "default"),
        ]
        assert db.execute("SELECT value FROM svc_meta WHERE key=?", (LAYOUT_KEY,)).fetchone() == (str(LAYOUT_VERSION),)
    finally:
        db.close()
