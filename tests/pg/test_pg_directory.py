"""The service directory in a PostgreSQL store's database: its migrations and refusals, leases on the
database's clock, and the service commands on a postgresql:// URL without ``--directory`` (still accepted,
deprecated, for one release). The directory's contract is tested on both backends (tests/test_directory.py)."""

from __future__ import annotations

import pytest

from complaintflow.store.base import StoreError
from complaintflow.store.directory import Delivery, User
from complaintflow.store.pg_directory import SCHEMA_VERSION, PostgresDirectory
from complaintflow.store.postgres import NotAStoreError, PostgresStore
from complaintflow.store.sqlite_directory import SQLiteDirectory

from .test_postgres import _run, _sql


def _tables(url: str) -> set[str]:
    return {r[0] for r in _sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}


def test_the_directory_tables_are_migrated_once_into_the_stores_schema(postgres_url):
    PostgresStore(postgres_url).close()
    for _ in range(2):
        PostgresDirectory(postgres_url).close()
    assert {"svc_users", "svc_credentials", "svc_deliveries", "svc_workers", "svc_migrations"} <= _tables(postgres_url)
    assert _sql(postgres_url, "SELECT version FROM svc_migrations") == [(v,) for v in range(1, SCHEMA_VERSION + 1)]
    PostgresStore(postgres_url).close()  # the store still opens its database with the directory's tables in it


def test_a_database_that_is_no_store_or_has_a_newer_directory_is_refused_in_one_line(postgres_url):
    with pytest.raises(NotAStoreError, match="not a complaintflow store"):
        PostgresDirectory(postgres_url)
    assert _tables(postgres_url) == set()  # nothing written
    PostgresStore(postgres_url).close()
    PostgresDirectory(postgres_url).close()
    _sql(postgres_url, f"INSERT INTO svc_migrations (version, name) VALUES ({SCHEMA_VERSION + 1}, 'future')")
    with pytest.raises(NotAStoreError, match="newer than this complaintflow understands") as raised:
        PostgresDirectory(postgres_url)
    assert "\n" not in str(raised.value)


def test_leases_follow_the_database_clock_whatever_the_workers_clocks_say(postgres_url):
    PostgresStore(postgres_url).close()
    a, b = PostgresDirectory(postgres_url), PostgresDirectory(postgres_url)
    try:
        a.queue([Delivery("m:1@hook", "m:1", "hook", {}, "pending", 0, 100, None)], 100)
        assert a.claim("m:1@hook", 100, owner="A", wall_now=0.0, lease=600)  # A's clock says 1970
        assert b.rescue(wall_now=4e9) == 0  # B's says 2096: the database says the lease runs for ten minutes
        a.beat("A", wall_now=0.0, lease=-1)  # a lease that ran out a second ago, by the database's clock
        assert b.rescue(wall_now=0.0) == 1
    finally:
        a.close()
        b.close()


def test_the_service_commands_work_on_a_url_without_a_directory_file(postgres_url, tmp_path):
    code, out, err = _run("users", "add", "wang", "--name", "王芳", "--role", "receiver", "--db", postgres_url)
    assert code == 0, err
    assert "deprecated" not in err
    code, out, err = _run("users", "list", "--db", postgres_url)
    assert code == 0 and "wang" in out, err
    code, token, err = _run("tokens", "create", "wang", "--db", postgres_url)
    assert code == 0 and token.startswith("cft_"), err
    assert _sql(postgres_url, "SELECT id FROM svc_users") == [("wang",)]
    code, out, err = _run("deliveries", "list", "--db", postgres_url)
    assert code == 0 and "no deliveries" in out, err
    assert not list(tmp_path.iterdir())  # no file beside it


def test_a_directory_file_is_still_used_when_named_with_a_deprecation_note(postgres_url, tmp_path):
    missing = str(tmp_path / "nope.db")
    code, _, err = _run("users", "list", "--db", postgres_url, env={"COMPLAINTFLOW_DIRECTORY": missing})
    assert code == 2 and "no directory at" in err and len(err.strip().splitlines()) == 2, err
    legacy = tmp_path / "directory.db"
    kept = SQLiteDirectory(legacy)
    kept.add_user(User("old", "Old", (), {}, False), 1)
    kept.close()
    code, out, err = _run("users", "list", "--db", postgres_url, env={"COMPLAINTFLOW_DIRECTORY": str(legacy)})
    assert code == 0 and "old" in out and "deprecated" in err, err


def test_after_the_server_drops_its_connections_reads_go_on_and_the_next_change_does(postgres_url):
    PostgresStore(postgres_url).close()
    directory = PostgresDirectory(postgres_url)
    try:
        directory.add_user(User("wang", "王芳", (), {}, False), 1)
        writer, reader = directory._writer.info.backend_pid, directory._reader.info.backend_pid
        _sql(postgres_url, f"SELECT pg_terminate_backend(pid) FROM unnest(ARRAY[{writer}, {reader}]) AS pid")
        assert directory.user("wang") is not None  # read again on a new connection
        with pytest.raises(StoreError, match="not committed"):
            directory.add_user(User("li", "李雷", (), {}, False), 2)  # a change in flight is not repeated
        directory.add_user(User("li", "李雷", (), {}, False), 2)
        assert [u.id for u in directory.users()] == ["li", "wang"]
    finally:
        directory.close()


def test_a_directory_from_before_tenants_gains_them_by_migration_2_with_its_rows_in_the_default_tenant(
    postgres_url, monkeypatch
):
    from complaintflow.store import pg_directory

    PostgresStore(postgres_url).close()
    with monkeypatch.context() as before:  # the directory as the release before tenants left it
        before.setattr(pg_directory, "MIGRATIONS", pg_directory.MIGRATIONS[:1])
        before.setattr(pg_directory, "SCHEMA_VERSION", 1)
        old = PostgresDirectory(postgres_url)
        old.close()
    assert "tenant" not in {r[0] for r in _sql(postgres_url, _COLUMNS.format("svc_users"))}
    _sql(postgres_url, "INSERT INTO svc_users (id, name, roles, contacts, admin, created_at) VALUES "
         "('boss', 'Boss', '[]', '{}', 1, 1)")  # fmt: skip
    directory = PostgresDirectory(postgres_url)
    try:
        assert directory.user("boss").tenant == "default" and [u.id for u in directory.users("default")] == ["boss"]
        directory.queue([Delivery("m:1@hook", "m:1", "hook", {}, "pending", 0, 1, None, None, "acme")], 1)
        assert [d.id for d in directory.deliveries(tenant="acme")] == ["m:1@hook"]
    finally:
        directory.close()
    assert _sql(postgres_url, "SELECT version FROM svc_migrations ORDER BY version") == [
        (v,) for v in range(1, SCHEMA_VERSION + 1)
    ]
    assert "tenant" in {r[0] for r in _sql(postgres_url, _COLUMNS.format("svc_deliveries"))}


_COLUMNS = (
    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{}'"
)


def test_migration_3_files_each_reply_under_its_users_tenant_and_each_assignment_under_its_cases(
    postgres_url, monkeypatch
):
    from helpers import MINI, at

    from complaintflow import Actor, Engine
    from complaintflow.store import pg_directory

    engine = Engine(postgres_url, tenant="north")
    spec = engine.load_process(MINI.encode())
    data = {"customer_name": "赵六", "severity": "general"}
    engine.start(spec, data, Actor("w", ("desk",)), at=at("2025-11-10 09:00"), case_id="c1")
    engine.close()
    with monkeypatch.context() as before:  # the directory as the release before migration 3 left it
        before.setattr(pg_directory, "MIGRATIONS", pg_directory.MIGRATIONS[:2])
        before.setattr(pg_directory, "SCHEMA_VERSION", 2)
        old = PostgresDirectory(postgres_url)
        old.add_user(User("bob", "Bob", (), {}, False, None, "acme"), 1)
        old.close()
    _sql(postgres_url, "INSERT INTO svc_idempotency VALUES ('bob', 'k', 'd', 201, '{}', 1)")
    _sql(postgres_url, "INSERT INTO svc_assignments VALUES ('c1', 'bob', 'bob', 1)")
    _sql(postgres_url, "INSERT INTO svc_assignment_log (case_id, user_id, by_user, at) VALUES ('c1', 'bob', 'bob', 1)")
    PostgresDirectory(postgres_url).close()
    assert _sql(postgres_url, "SELECT tenant FROM svc_idempotency") == [("acme",)]
    assert _sql(postgres_url, "SELECT tenant FROM svc_assignments") == [("north",)]
    assert _sql(postgres_url, "SELECT tenant FROM svc_assignment_log") == [("north",)]
