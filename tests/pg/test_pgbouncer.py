"""The PostgreSQL store behind PgBouncer in transaction mode (tests/pgbouncer.py: two server connections
shared by every client). The store contract runs there in the conformance suite (the "pgbouncer" store
kind, conftest.py); this holds what a pooler breaks: prepared statements, startup options, session-level
locks, and a tick race sharing the pool (two workers behind it: tests/pg/test_worker.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest
from helpers import MINI, at, ids

from complaintflow import Actor, Engine, StoreError
from complaintflow.store.base import CaseQuery
from complaintflow.store.postgres import NotAStoreError, PostgresStore

DESK = Actor("wang", ("desk",))
DATA = {"customer_name": "张三", "severity": "general"}


def _engine_with_cases(url: str, tmp_path: Path, count: int) -> tuple[Engine, list[str]]:
    engine = Engine(url, new_case_id=ids())
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    spec = engine.load_process(tmp_path / "mini.yaml")
    return engine, [engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00") + 60 * n).id for n in range(count)]


def _interleave(url: str, rounds: int) -> None:
    """Three stores on two server connections, each running the same reads again and again while another
    holds a transaction, so consecutive statements of one client land on different server connections."""
    stores = [PostgresStore(url) for _ in range(3)]
    try:
        for n in range(rounds):
            holder, *others = stores[n % 3 :] + stores[: n % 3]
            with holder.writing():
                holder.cases(CaseQuery())
                for store in others:
                    store.cases(CaseQuery())
                    store.processes()
    finally:
        for store in stores:
            store.close()


def test_statements_run_many_times_across_pooled_server_connections(pgbouncer_url, tmp_path):
    _engine_with_cases(pgbouncer_url, tmp_path, 2)[0].close()
    _interleave(pgbouncer_url, 30)  # psycopg would have prepared each after its fifth run


def test_without_the_url_option_prepared_statements_fail_behind_the_pooler_saying_what_to_do(pgbouncer_url, tmp_path):
    """What the test above guards against: with psycopg's prepared statements the same run fails."""
    _engine_with_cases(pgbouncer_url, tmp_path, 2)[0].close()
    with pytest.raises(StoreError, match="prepared statement.*add prepare_threshold=none to the URL") as failed:
        _interleave(pgbouncer_url.replace("&prepare_threshold=none", ""), 30)
    assert "\n" not in str(failed.value)


def test_the_prepare_threshold_option_is_ours_and_checked(postgres_url):
    store = PostgresStore(postgres_url + "&prepare_threshold=none")
    assert store.conn.prepare_threshold is None
    store.close()
    store = PostgresStore(postgres_url)  # a direct connection prepares what it runs often
    assert store.conn.prepare_threshold == 5
    store.close()
    with pytest.raises(NotAStoreError, match="prepare_threshold='sometimes' is not a number or none"):
        PostgresStore(postgres_url + "&prepare_threshold=sometimes")


def test_the_schema_option_is_refused_by_the_pooler_with_what_to_do(pgbouncer, postgres_server):
    url = pgbouncer.url() + "&options=-csearch_path%3Dt1"
    with pytest.raises(NotAStoreError, match="unsupported startup parameter: options.*ALTER ROLE") as refused:
        PostgresStore(url)
    assert "\n" not in str(refused.value)


def test_the_migration_lock_ends_with_its_transaction(postgres_url):
    """A session-level advisory lock would stay on a pooled server connection after the client left it."""
    store = PostgresStore(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as db:
        held = db.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()
    store.close()
    assert held == (0,)


def test_two_stores_behind_the_pooler_never_claim_one_due_case(pgbouncer_url, tmp_path):
    engine, opened = _engine_with_cases(pgbouncer_url, tmp_path, 3)
    first, second = engine.store, PostgresStore(pgbouncer_url)
    now = at("2025-11-03 18:00")
    with first.batch():  # holds one of the two server connections until it commits
        assert [c.id for c in first.due_cases(now, 2)] == opened[:2]
        with second.batch():
            assert [c.id for c in second.due_cases(now, 10)] == opened[2:]
    second.close()
    engine.close()


def test_two_tickers_behind_the_pooler_fire_each_deadline_once(pgbouncer_url, postgres_server, tmp_path):
    engine, opened = _engine_with_cases(pgbouncer_url, tmp_path, 20)
    alone, same = _engine_with_cases(postgres_server.new_store(), tmp_path, 20)
    assert same == opened
    now = at("2025-11-03 18:00")
    alone.tick(now)
    engines = [Engine(pgbouncer_url) for _ in range(2)]
    fired: list[int] = []
    threads = [threading.Thread(target=lambda e=e: fired.append(len(e.tick(now, batch=3)))) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(fired) == sum(len(alone.history(c)) - 1 for c in opened) > 0
    for case_id in opened:
        assert [(e.seq, e.kind) for e in engine.history(case_id)] == [(e.seq, e.kind) for e in alone.history(case_id)]
    assert engine.verify() == []
    for e in (*engines, engine, alone):
        e.close()
