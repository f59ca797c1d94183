"""The service directory through PostgreSQL: an SQLite store with users, tokens, an assignment and deliveries
of every status goes to PostgreSQL and back to SQLite; on each new store the old token authenticates against
a real ``complaintflow serve`` and finds its held case in its queue, the dead delivery is re-drivable and
``verify`` is clean; PostgreSQL exports the very bytes SQLite did; a load that fails midway leaves the
database empty, directory and all."""

from __future__ import annotations

import psycopg
from service.serving import serving
from test_transfer import demo_export
from test_transfer_directory import (
    MOVED_WORDS,
    NOW,
    desk_export,
    desk_store,
    fails_midway_and_leaves_it_empty,
    moved_rows,
)
from test_upgrade import demo_store, run, store

from complaintflow import Engine
from complaintflow.store.pg_directory import PostgresDirectory
from complaintflow.store.postgres import PostgresStore

__all__ = ["demo_export", "demo_store", "desk_export", "desk_store", "store"]  # fixtures, reused


def pg_rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as db:
        return [tuple(r) for r in db.execute(sql).fetchall()]


def token_works(db: str, desk, tmp_path) -> None:
    """bo's old token on a real service over ``db``: it names bo, and bo's held case heads its queue; the
    session that ran out before the export does not log in."""
    tmp_path.mkdir()
    with serving(tmp_path, db=db, start=NOW) as served:  # type: ignore[arg-type]
        with served.client(desk.token) as client:
            me = client.get("/v1/me")
            assert me.status_code == 200 and me.json()["id"] == "bo", me.text
            queue = client.get("/v1/queue").json()
            assert [(c["id"], c["assignee"]) for c in queue if c["why"] == "held"] == [(desk.case, "bo")]
        with served.client(desk.expired) as client:
            assert client.get("/v1/me").status_code == 401


def test_the_directory_goes_to_postgresql_and_back(desk_store, desk_export, postgres_url, tmp_path):
    source, desk = desk_store
    code, _, err = run("import", str(desk_export), "--db", postgres_url)
    assert code == 0 and MOVED_WORDS in err, err
    assert run("verify", "--db", postgres_url)[:2] == (0, "history intact\n")
    assert pg_rows(postgres_url, "SELECT count(*) FROM svc_deliveries WHERE owner IS NOT NULL") == [(0,)]
    directory = PostgresDirectory(postgres_url)
    assert directory.assignee(desk.case) == "bo" and [u for u, _, _ in directory.assignment_log(desk.unassigned)] == [
        "bo",
        None,
    ]
    directory.close()
    token_works(postgres_url, desk, tmp_path / "on-pg")
    # out of PostgreSQL: the very bytes SQLite wrote (order, texts, counts), and into SQLite again
    from_pg = tmp_path / "from-pg.jsonl"
    assert run("export", "--db", postgres_url, "--out", str(from_pg), "--now", NOW)[0] == 0
    assert from_pg.read_bytes() == desk_export.read_bytes()
    back = tmp_path / "back.db"
    code, _, err = run("import", str(from_pg), "--db", str(back))
    assert code == 0 and MOVED_WORDS in err, err
    assert run("verify", "--db", str(back))[:2] == (0, "history intact\n")
    once = tmp_path / "once.db"  # the same file straight into SQLite: the trip through PostgreSQL changed nothing
    assert run("import", str(desk_export), "--db", str(once))[0] == 0
    assert moved_rows(back) == moved_rows(once)
    token_works(str(back), desk, tmp_path / "back")
    for db in (postgres_url, str(back)):
        code, _, err = run("deliveries", "redrive", "d-dead", "--db", db)
        assert code == 0, err
    assert pg_rows(postgres_url, "SELECT status, attempts FROM svc_deliveries WHERE id = 'd-dead'") == [("pending", 0)]


def test_a_load_that_fails_midway_leaves_the_database_empty(desk_export, postgres_url, monkeypatch):
    Engine(postgres_url).close()
    PostgresDirectory(postgres_url).close()  # the service's tables, empty, as the import command makes them
    count = lambda table: pg_rows(postgres_url, f"SELECT count(*) FROM {table}")  # noqa: E731
    fails_midway_and_leaves_it_empty(postgres_url, desk_export, PostgresStore, count, monkeypatch)


def test_the_deprecated_directory_file_beside_a_postgresql_store_is_exported_into_the_database(
    desk_store, desk_export, demo_export, postgres_url, tmp_path, monkeypatch
):
    """A PostgreSQL store whose directory is still the separate SQLite file COMPLAINTFLOW_DIRECTORY names
    exports that directory: the same lines as the store it came from, so an import moves it into a database."""
    source, desk = desk_store
    assert run("import", str(demo_export), "--db", postgres_url)[0] == 0  # the same cases, no directory
    monkeypatch.setenv("COMPLAINTFLOW_DIRECTORY", str(source))
    out = tmp_path / "with-file.jsonl"
    code, _, err = run("export", "--db", postgres_url, "--out", str(out), "--now", NOW)
    assert code == 0 and "deprecated" in err and MOVED_WORDS in err, err
    assert out.read_bytes() == desk_export.read_bytes()
    monkeypatch.setenv("COMPLAINTFLOW_DIRECTORY", str(tmp_path / "missing.db"))
    code, _, err = run("export", "--db", postgres_url, "--out", str(out), "--now", NOW)
    assert code == 2 and "no directory at" in err


def test_one_tenants_part_moves_to_postgresql_and_exports_from_there_byte_for_byte(postgres_url, tmp_path):
    from test_tenants import _two_desks

    source, out, again = tmp_path / "both.db", tmp_path / "acme.jsonl", tmp_path / "acme-again.jsonl"
    cases = _two_desks(source)
    assert run("--tenant", "acme", "export", "--db", str(source), "--out", str(out), "--now", NOW)[0] == 0
    code, _, err = run("import", str(out), "--db", postgres_url)
    assert code == 0, err
    moved = Engine(PostgresStore(postgres_url))
    assert [c.id for c in moved.for_tenant("acme").cases()] == [cases["acme"]]
    assert moved.for_tenant("bigco").cases() == [] and moved.verify() == []
    moved.close()
    assert pg_rows(postgres_url, "SELECT id FROM svc_users") == [("acme-wang",)]
    code, _, err = run("--tenant", "acme", "export", "--db", postgres_url, "--out", str(again), "--now", NOW)
    assert code == 0, err
    assert again.read_bytes() == out.read_bytes()
