"""When the database goes away: a backend terminated or a server restarted between two calls (the next call
reconnects), or during a change (it fails, retry-able, and nothing of it is kept); ``serve`` and ``worker``
waiting for a database that is not up yet; and the refusals that are not waited for (a wrong password,
another program's database, a schema newer than the code), each one line and exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from helpers import MINI, at, ids
from service.serving import eventually, serving
from service.test_serve import CASE, _user

import cli
from complaintflow import Actor, Engine
from complaintflow.store.base import StoreUnavailableError
from complaintflow.store.postgres import DatabaseUnavailableError, PostgresStore
from pg.test_worker import Worker

DESK = Actor("wang", ("desk",))
DATA = {"customer_name": "张三", "severity": "general"}


def _engine_with_case(url: str, tmp_path: Path) -> tuple[Engine, str]:
    engine = Engine(url, new_case_id=ids())
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    spec = engine.load_process(tmp_path / "mini.yaml")
    return engine, engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00")).id


def _terminate(url: str, pid: int) -> None:
    """End the backend ``pid`` and return once it is gone (pg_terminate_backend only signals it)."""
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))


def _tables(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as db:
        rows = db.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
        return [r[0] for r in rows]


def test_a_backend_terminated_between_two_calls_is_reconnected_on_the_next(postgres_url, tmp_path):
    engine, case_id = _engine_with_case(postgres_url, tmp_path)
    before = engine.store.conn.info.backend_pid
    _terminate(postgres_url, before)
    assert engine.case(case_id).revision == 1  # a read
    _terminate(postgres_url, engine.store.conn.info.backend_pid)
    engine.act(case_id, "dispatch", DESK, at=at("2025-11-03 10:05"))  # a change: its BEGIN found the loss
    assert engine.store.conn.info.backend_pid != before
    assert "acted" in [e.kind for e in engine.history(case_id)] and engine.verify() == []
    engine.close()


def test_a_server_restart_between_two_calls_is_reconnected_on_the_next(postgres_server, postgres_url, tmp_path):
    engine, case_id = _engine_with_case(postgres_url, tmp_path)
    postgres_server.restart()
    engine.act(case_id, "dispatch", DESK, at=at("2025-11-03 10:05"))
    assert "acted" in [e.kind for e in engine.history(case_id)] and engine.verify() == []
    engine.close()


def test_a_connection_lost_during_a_change_fails_it_retryably_and_keeps_what_was_acknowledged(
    postgres_url, tmp_path, monkeypatch
):
    engine, case_id = _engine_with_case(postgres_url, tmp_path)
    store = engine.store
    read = store.case_and_head

    def read_then_lose(cid: str):  # the case row is read and locked inside the change, then the server goes
        found = read(cid)
        _terminate(postgres_url, store.conn.info.backend_pid)
        return found

    monkeypatch.setattr(store, "case_and_head", read_then_lose)
    with pytest.raises(StoreUnavailableError, match="lost during a change; nothing of it was saved") as lost:
        engine.act(case_id, "dispatch", DESK, at=at("2025-11-03 10:05"))
    assert "\n" not in str(lost.value) and lost.value.exit_code == 2
    monkeypatch.undo()
    assert engine.case(case_id).revision == 1 and len(engine.history(case_id)) == 1  # the start is kept
    engine.act(case_id, "dispatch", DESK, at=at("2025-11-03 10:06"))  # and the retry goes through
    assert "acted" in [e.kind for e in engine.history(case_id)] and engine.verify() == []
    engine.close()


def test_a_connection_lost_under_a_commit_says_its_outcome_is_unknown(postgres_url, tmp_path, monkeypatch):
    engine, case_id = _engine_with_case(postgres_url, tmp_path)
    store = engine.store
    control = store._serializer._execute

    def lose_then(statement: str) -> None:
        if statement == "COMMIT":  # the change's statements ran; the server goes before the COMMIT arrives
            _terminate(postgres_url, store.conn.info.backend_pid)
        control(statement)

    monkeypatch.setattr(store._serializer, "_execute", lose_then)
    with pytest.raises(StoreUnavailableError, match="lost at commit; whether the change was saved is unknown"):
        engine.act(case_id, "dispatch", DESK, at=at("2025-11-03 10:00") + 1)
    monkeypatch.undo()
    assert len(engine.history(case_id)) == 1 and engine.verify() == []  # here the server had not committed it
    engine.close()


def test_behind_a_pooler_a_database_that_is_down_is_a_retryable_one_line(postgres_server):
    from pgbouncer import Bouncer, find_pgbouncer

    binary = find_pgbouncer()
    if binary is None:
        pytest.skip("pgbouncer is not installed")
    bouncer = Bouncer(binary, postgres_server, query_wait=1)
    url = bouncer.new_store()
    bouncer.start()
    postgres_server.pause()
    try:
        with pytest.raises(StoreUnavailableError, match="database not answering at .*query_wait_timeout") as down:
            PostgresStore(url)  # PgBouncer takes the connection, then waits for a server that is not there
    finally:
        postgres_server.resume()
        bouncer.stop()
    assert "\n" not in str(down.value) and down.value.exit_code == 2


def test_a_server_that_does_not_answer_is_a_retryable_one_line(tmp_path):
    with pytest.raises(DatabaseUnavailableError, match=f"database not answering at {tmp_path}/tests: No such file"):
        PostgresStore(f"postgresql://complaintflow@/tests?host={tmp_path}")


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stderr


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_the_service_commands_refuse_what_waiting_would_not_mend_at_once(
    command, postgres_server, postgres_url, tmp_path
):
    PostgresStore(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')")
    other = postgres_server.new_store()
    with psycopg.connect(other, autocommit=True) as db:
        db.execute("CREATE TABLE orders (id INTEGER)")
    for url, words in (
        (postgres_server.url("tests", "secretive", "wrong"), "password authentication failed"),
        (other, "tables of another program (orders)"),
        (postgres_url, "has schema version 99, newer than this complaintflow understands"),
        (postgres_server.url("no_such_database"), 'database "no_such_database" does not exist'),
    ):
        code, err = _cli(command, "--db", url)
        assert code == 2, (url, err)
        assert words in err and len(err.strip().splitlines()) == 1 and "attempt" not in err, err
    assert _tables(other) == ["orders"]  # nothing was created beside another program's table


def test_the_service_commands_give_up_on_a_silent_database_in_one_line(tmp_path):
    down = f"postgresql://complaintflow@/tests?host={tmp_path}"
    code, err = _cli("worker", "--db", down, "--db-wait", "0")
    assert code == 2 and err.strip() == (
        f"error: database not answering at {tmp_path}/tests: No such file or directory; gave up after 1 attempt in 0 s"
    )


def test_a_worker_started_before_its_database_waits_for_it(postgres_server, tmp_path):
    """The worker's database is behind a PgBouncer that is not running yet: the worker retries, one line per
    attempt, and runs once the bouncer is up."""
    from pgbouncer import Bouncer, find_pgbouncer

    binary = find_pgbouncer()
    if binary is None:
        pytest.skip("pgbouncer is not installed")
    bouncer = Bouncer(binary, postgres_server)
    (tmp_path / "processes").mkdir()
    (tmp_path / "processes" / "mini.yaml").write_text(MINI, encoding="utf-8")
    clock = tmp_path / "clock.txt"
    clock.write_text("2025-11-03 18:00", encoding="utf-8")
    url = bouncer.new_store()
    worker = Worker(url, tmp_path, clock)
    try:
        eventually(lambda: any("(attempt 2), retrying in" in line for line in worker.lines), "a second attempt", 30)
        assert all("Traceback" not in line for line in worker.lines)
        bouncer.start()
        eventually(lambda: any("running the scheduler" in line for line in worker.lines), "the worker to run", 60)
    finally:
        code = worker.stop()
        bouncer.stop()
    assert code == 0, worker.lines
    assert worker.lines[0].startswith(f"database not answering at {bouncer.folder}:6432/tests: No such file")


def test_serve_keeps_answering_when_its_backend_is_terminated_and_503_while_the_server_is_down(
    postgres_server, postgres_url, tmp_path
):
    with serving(tmp_path, db=postgres_url, config="scheduler: {poll_seconds: 0.05}\n") as desk:
        token = _user(desk, "wang", ["receiver", "front_desk"])
        with desk.client(token) as http:
            opened = http.post("/v1/cases", json=CASE)
            assert opened.status_code == 201, opened.text
            case_id = opened.json()["id"]
            with psycopg.connect(postgres_url, autocommit=True) as db:
                db.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'complaintflow' AND pid <> pg_backend_pid()"
                )
            assert http.get(f"/v1/cases/{case_id}").status_code == 200
            postgres_server.pause()
            try:
                away = http.get(f"/v1/cases/{case_id}")
            finally:
                postgres_server.resume()
            assert away.status_code == 503, away.text
            assert away.headers["content-type"] == "application/problem+json"
            assert away.headers["retry-after"] == "2"
            assert away.json()["type"].endswith("/store-unavailable")
            assert "database not answering at" in away.json()["detail"]
            desk.set_clock("2025-09-29 10:04")  # the scheduler goes on: the 3-minute notice ran out at 10:03

            def breached() -> bool:
                events = http.get(f"/v1/cases/{case_id}/history").json()
                return any(e["kind"] == "deadline_breached" for e in events)

            eventually(breached, "the scheduler to fire the breach after the restart", 30)
    assert not any("Traceback" in line for line in desk.lines)
