"""The PostgreSQL store on a throw-away server: its schema migrations, the databases it refuses, claimed
timers, a lost connection, and the CLI on a postgresql:// URL. The store contract itself is tested on
every store by the conformance suite (the ``any_store`` and ``shared_address`` fixtures, conftest.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from helpers import MINI, at, ids

import cli
from complaintflow import Actor, Engine, StoreError
from complaintflow.audit.verify import verify_store
from complaintflow.store.base import CaseQuery, Commit
from complaintflow.store.postgres import SCHEMA_VERSION, NotAStoreError, PostgresStore

DESK = Actor("wang", ("desk",))
DATA = {"customer_name": "张三", "severity": "general"}


def _sql(url: str, statement: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as db:
        cursor = db.execute(statement)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def _engine_with_cases(url: str, tmp_path: Path, count: int) -> tuple[Engine, list[str]]:
    engine = Engine(url, new_case_id=ids())
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    spec = engine.load_process(tmp_path / "mini.yaml")
    opened = [engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00") + 60 * n).id for n in range(count)]
    return engine, opened


def test_a_new_database_gets_every_migration_once(postgres_url):
    PostgresStore(postgres_url).close()
    PostgresStore(postgres_url).close()  # a second open finds nothing to do
    rows = _sql(postgres_url, "SELECT version FROM schema_migrations ORDER BY version")
    assert rows == [(n,) for n in range(1, SCHEMA_VERSION + 1)]
    columns = _sql(
        postgres_url,
        "SELECT column_name, is_nullable FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'events' AND column_name = 'personal'",
    )
    assert columns == [("personal", "YES")]


def test_a_schema_newer_than_the_code_is_refused(postgres_url):
    PostgresStore(postgres_url).close()
    _sql(postgres_url, "INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')")
    with pytest.raises(NotAStoreError, match="has schema version 99, newer than this complaintflow understands"):
        PostgresStore(postgres_url)


def test_another_programs_database_is_refused_and_left_as_it_was(postgres_url):
    _sql(postgres_url, "CREATE TABLE orders (id INTEGER)")
    with pytest.raises(NotAStoreError, match=r"holds tables of another program \(orders\)"):
        PostgresStore(postgres_url)
    tables = _sql(postgres_url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    assert tables == [("orders",)]  # nothing was created: the refusal rolled back


@pytest.mark.parametrize(
    "url, words",
    [
        ("postgresql://[bad", "not a PostgreSQL URL"),
        ("postgresql://localhost:notaport/x", "the port 'notaport' is not a number"),
    ],
)
def test_a_bad_url_is_refused_in_one_line(url, words):
    with pytest.raises(NotAStoreError, match=words):
        PostgresStore(url)


def test_an_unreachable_server_and_a_wrong_password_are_named_without_the_password(postgres_server, tmp_path):
    with pytest.raises(NotAStoreError, match="database not answering at .*/tests: No such file") as down:
        PostgresStore(f"postgresql://complaintflow@/tests?host={tmp_path}")
    assert "\n" not in str(down.value)
    with pytest.raises(NotAStoreError, match="password authentication failed") as refused:
        PostgresStore(postgres_server.url("tests", "secretive", "wrong-secret"))
    assert "wrong-secret" not in str(refused.value) and "secretive:***@" in str(refused.value)


def test_a_claimed_due_case_is_passed_by_another_connections_claim(postgres_url, tmp_path):
    engine, opened = _engine_with_cases(postgres_url, tmp_path, 3)
    first, second = engine.store, PostgresStore(postgres_url)
    now = at("2025-11-03 18:00")
    with first.batch():
        claimed = [c.id for c in first.due_cases(now, 2)]
        assert claimed == opened[:2]
        assert [c.id for c in second.due_cases(now, 10)] == opened  # a plain read claims nothing
        with second.batch():
            assert [c.id for c in second.due_cases(now, 10)] == opened[2:]  # the claimed rows are passed by
    with second.batch():  # the first batch ended: its claims are released
        assert [c.id for c in second.due_cases(now, 10)] == opened
    second.close()
    engine.close()


def test_the_claim_with_heads_passes_claimed_rows_by_too(postgres_url, tmp_path):
    engine, opened = _engine_with_cases(postgres_url, tmp_path, 3)
    first, second = engine.store, PostgresStore(postgres_url)
    now = at("2025-11-03 18:00")
    with first.batch():
        assert [c.id for c, _ in first.due_cases_and_heads(now, 2)] == opened[:2]
        with second.batch():
            assert [c.id for c, _ in second.due_cases_and_heads(now, 10)] == opened[2:]
    second.close()
    engine.close()


def test_changes_in_a_batch_fail_alone_with_their_savepoints_sent_late(postgres_url, tmp_path):
    """BEGIN, SAVEPOINT and RELEASE wait for the change's first statement: a change that ran none sends none,
    one that failed after writing rolls back alone, and the batch commits the rest."""
    engine, opened = _engine_with_cases(postgres_url, tmp_path, 4)
    store = engine.store
    sent: list[str] = []
    real_execute = store.conn.execute

    def execute(query, params=None, **kw):
        sent.append(query if isinstance(query, str) else str(query))
        return real_execute(query, params, **kw)

    store.conn.execute = execute  # type: ignore[method-assign]
    moved = []
    with store.batch():
        for n, case_id in enumerate(opened):
            try:
                with store.writing():
                    if n == 1:
                        raise RuntimeError("refused before any statement")
                    case = store.case(case_id)
                    store.commit(Commit(case=replace(case, revision=case.revision + 1), events=()))
                    if n == 2:
                        raise RuntimeError("refused after writing")
                    moved.append(case_id)
            except RuntimeError:
                pass
    store.conn.execute = real_execute  # type: ignore[method-assign]
    revisions = {c.id: c.revision for c in engine.cases()}
    assert revisions == {opened[0]: 2, opened[1]: 1, opened[2]: 1, opened[3]: 2}
    assert moved == [opened[0], opened[3]]
    controls = [q for q in sent if not q.startswith(("SELECT", "WITH"))]
    assert controls == [
        "BEGIN",  # the first change begins the transaction, sent with its read
        "SAVEPOINT change",  # the second change ran nothing and sent nothing; this is the third's, with its read
        "ROLLBACK TO change",
        "RELEASE change; SAVEPOINT change",
        "RELEASE change; COMMIT",
    ]
    assert engine.verify() == []
    engine.close()


def test_verify_names_an_event_row_the_engine_did_not_write(postgres_url, tmp_path):
    engine, opened = _engine_with_cases(postgres_url, tmp_path, 1)
    engine.close()
    _sql(
        postgres_url,
        "INSERT INTO events (case_id, seq, at, actor, role, kind, payload, prev_hash, hash) "
        f"SELECT case_id, 2, at, actor, role, 'acted', payload, hash, hash FROM events WHERE case_id = '{opened[0]}'",
    )
    _sql(postgres_url, f"UPDATE events SET payload = '{{}}' WHERE case_id = '{opened[0]}' AND seq = 1")
    again = Engine(postgres_url)
    problems = [str(p) for p in verify_store(again)]
    assert any("event 1" in p and "altered" in p for p in problems), problems
    assert any("not linked into the case's history" in p for p in problems), problems
    assert again.store.outbox(None, 10)[-1].id == f"{opened[0]}:1"  # the forged row is never delivered
    again.close()


# -- the CLI on a postgresql:// URL ------------------------------------------------------------------


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_start_act_tick_and_verify_through_the_cli(postgres_url, tmp_path):
    process = tmp_path / "mini.yaml"
    process.write_text(MINI, encoding="utf-8")
    code, out, err = _run(
        "start", str(process), "--db", postgres_url, "--as", "wang", "--role", "desk", "--now", "2025-11-03 10:00",
        "--data", "customer_name=张三", "--data", "severity=general",
    )  # fmt: skip
    assert code == 0, err
    engine = Engine(postgres_url)
    (case,) = engine.cases()
    engine.close()
    assert case.id in out + err
    env = {"COMPLAINTFLOW_DB": postgres_url}  # the environment names the store as --db does
    code, _, err = _run(
        "act", case.id, "dispatch", "--as", "wang", "--role", "desk", "--now", "2025-11-03 10:01", env=env
    )
    assert code == 0, err
    code, out, err = _run("tick", "--db", postgres_url, "--now", "2025-11-03 18:00")
    assert code == 0, err
    assert "BREACHED" in out
    code, out, err = _run("verify", env=env)
    assert code == 0 and "history intact" in out + err, err
    _sql(postgres_url, f"UPDATE cases SET state = 'closed' WHERE id = '{case.id}'")
    code, out, err = _run("verify", "--db", postgres_url)
    assert code == 1 and "does not match its history" in out + err


@pytest.mark.parametrize("command", [("cases",), ("verify",), ("tick", "--now", "2025-11-03 18:00")])
def test_the_cli_refuses_an_unusable_database_in_one_line(command, postgres_server, postgres_url, tmp_path):
    _sql(postgres_url, "CREATE TABLE orders (id INTEGER)")
    for url, words in (
        (f"postgresql://complaintflow@/tests?host={tmp_path}", "database not answering at"),
        (postgres_server.url("tests", "secretive", "wrong"), "password authentication failed"),
        (postgres_url, "tables of another program"),
        ("postgresql://[bad", "not a PostgreSQL URL"),
    ):
        code, out, err = _run(*command, "--db", url)
        assert code == 2, (url, out, err)
        assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_erase_through_the_cli_empties_the_personal_column_and_verify_stays_clean(postgres_url):
    from test_erase import DESK as SERVICE_DESK
    from test_erase import PHONE, RECEPTIONIST, RECORD

    engine = Engine(postgres_url)
    spec = engine.load_process(SERVICE_DESK)
    case = engine.start(spec, RECORD, RECEPTIONIST, at("2025-11-03 09:00"))
    engine.close()
    kept = _sql(postgres_url, f"SELECT personal FROM events WHERE case_id = '{case.id}' AND personal IS NOT NULL")
    assert len(kept) == 1 and PHONE in kept[0][0]
    code, _, err = _run("erase", case.id, "--reason", "request", "--as", "dpo", "--db", postgres_url)
    assert code == 0, err
    rows = _sql(postgres_url, f"SELECT seq, kind, personal FROM events WHERE case_id = '{case.id}' ORDER BY seq")
    assert [(seq, kind) for seq, kind, _ in rows][-1][1] == "erased"
    assert all(personal is None for _, _, personal in rows)
    code, out, err = _run("verify", "--db", postgres_url)
    assert code == 0 and "history intact" in out + err, out + err


def test_the_demo_day_runs_into_an_empty_postgresql_store_once(postgres_url):
    code, out, err = _run("demo", "--db", postgres_url)
    assert code == 0, err
    engine = Engine(postgres_url)
    assert len(engine.cases()) > 10 and engine.verify() == []
    engine.close()
    code, _, err = _run("demo", "--db", postgres_url)
    assert code == 2 and "already holds cases" in err


def test_a_schema_that_does_not_exist_or_a_table_dropped_by_hand_is_one_line(postgres_server, postgres_url):
    with pytest.raises(NotAStoreError, match="the database refused a statement"):
        PostgresStore(postgres_server.url("tests", schema="no_such_schema"))
    PostgresStore(postgres_url).close()
    _sql(postgres_url, "DROP TABLE outbox")
    store = PostgresStore(postgres_url)
    with pytest.raises(StoreError, match='the database refused a statement: relation "outbox" does not exist'):
        store.outbox(None, 10)
    assert store.cases(CaseQuery()) == []  # the connection carries on
    store.close()


def test_an_event_already_held_is_refused_and_changes_nothing(postgres_url, tmp_path):
    from dataclasses import replace as copy_with

    from complaintflow import ConflictError
    from complaintflow.store.base import Commit

    engine, (case_id,) = _engine_with_cases(postgres_url, tmp_path, 1)
    case = engine.case(case_id)
    (event,) = engine.history(case_id)
    with pytest.raises(ConflictError, match="already has event 1"):
        engine.store.commit(Commit(case=copy_with(case, revision=2), events=[copy_with(event, kind="acted")]))
    assert engine.case(case_id) == case and engine.history(case_id) == [event]
    engine.close()


def test_verify_names_an_edited_process_text_and_a_payload_that_is_not_json(postgres_url, tmp_path):
    engine, (case_id,) = _engine_with_cases(postgres_url, tmp_path, 1)
    engine.close()
    _sql(postgres_url, "UPDATE processes SET source = source || '\\x23'::bytea")
    _sql(postgres_url, f"UPDATE events SET payload = 'not json' WHERE case_id = '{case_id}'")
    again = Engine(postgres_url)
    problems = [str(p) for p in verify_store(again)]
    assert any("the stored text does not match its content hash" in p for p in problems), problems
    assert any(f"case {case_id}: event 1" in p for p in problems), problems
    again.close()


def test_seal_and_verify_against_it_on_postgresql(postgres_url, tmp_path):
    engine, opened = _engine_with_cases(postgres_url, tmp_path, 2)
    engine.close()
    seal = tmp_path / "seal.json"
    code, _, err = _run("seal", "--db", postgres_url, "--out", str(seal))
    assert code == 0, err
    assert json.loads(seal.read_text(encoding="utf-8"))["store"]["last_event_pos"] == 2
    code, out, err = _run("verify", "--db", postgres_url, "--against", str(seal))
    assert code == 0, out + err
    # A whole case removed by hand, row and history: every remaining history verifies, the seal does not.
    _sql(postgres_url, f"DELETE FROM outbox WHERE pos IN (SELECT pos FROM events WHERE case_id = '{opened[1]}')")
    _sql(postgres_url, f"DELETE FROM events WHERE case_id = '{opened[1]}'")
    _sql(postgres_url, f"DELETE FROM cases WHERE id = '{opened[1]}'")
    assert verify_store(Engine(postgres_url)) == []
    code, out, err = _run("verify", "--db", postgres_url, "--against", str(seal))
    assert code == 1 and opened[1] in out + err, out + err


def test_an_upgrade_recorded_in_the_store_is_checked_against_its_heads(postgres_url, tmp_path):
    engine, _ = _engine_with_cases(postgres_url, tmp_path, 1)
    engine.close()
    _sql(postgres_url, f"INSERT INTO upgrades VALUES (5, 4, 0, 1, 1, '{'0' * 64}', 2)")
    again = Engine(postgres_url)
    problems = [str(p) for p in verify_store(again)]
    assert any("no longer matches what it verified and sealed" in p for p in problems), problems
    again.close()


def test_the_database_clock_is_read_over_the_url(postgres_url):
    import time

    from complaintflow.store.postgres import database_time

    before = time.time()
    server = database_time(postgres_url)
    assert before - 2 < server < time.time() + 2  # the same machine: the same clock, give or take the trip


def test_a_caller_that_must_not_wait_long_sets_its_own_connect_timeout(postgres_url):
    from complaintflow.store.postgres import connect

    with connect(postgres_url, timeout=2) as db:
        assert "connect_timeout=2" in db.info.dsn
    with connect(postgres_url) as db:
        assert "connect_timeout=10" in db.info.dsn  # the default, unless the URL says otherwise


def test_a_database_from_before_tenants_takes_migration_2_and_keeps_its_cases(postgres_url, tmp_path):
    engine, opened = _engine_with_cases(postgres_url, tmp_path, 2)
    engine.close()
    for statement in (  # the schema as migration 1 left it
        "DROP INDEX cases_tenant_opened",
        "ALTER TABLE cases DROP COLUMN tenant",
        "DROP TABLE tenant_processes",
        "ALTER TABLE processes ADD CONSTRAINT processes_id_version_key UNIQUE (id, version)",
        "DELETE FROM schema_migrations WHERE version = 2",
    ):
        _sql(postgres_url, statement)
    engine = Engine(postgres_url)  # migrates on open
    assert _sql(postgres_url, "SELECT max(version) FROM schema_migrations") == [(SCHEMA_VERSION,)]
    assert [c.id for c in engine.cases()] == opened and {c.tenant for c in engine.cases()} == {"default"}
    acme = engine.for_tenant("acme")
    acme.load_process(MINI.replace("within: 3m", "within: 9m").encode())  # same id and version, another tenant
    assert [(p.tenant, p.version) for p in engine.store.processes()] == [("acme", 1), ("default", 1)]
    assert verify_store(engine) == []
    engine.close()
