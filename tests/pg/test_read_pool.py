"""Reads outside a change borrow one of a few read connections (engine/store/read_pool.py): they answer while
another thread's change holds the change connection, stay within a bounded number of server connections, and
survive the server dropping every connection of the store between two calls."""

from __future__ import annotations

import threading

import psycopg
import pytest
from helpers import at

from complaintflow.store.read_pool import READERS
from pg.test_faults_pg import DESK, _engine_with_case


@pytest.fixture
def postgres_url(postgres_url, request):
    """The test's store, its connections named after the test (other tests' stores share the database)."""
    return f"{postgres_url}&application_name={request.node.name[:60]}"


def _backends(url: str) -> list[int]:
    """The server processes of this store's connections (found by the application_name its URL gives)."""
    name = url.rsplit("application_name=", 1)[1]
    with psycopg.connect(url.rsplit("&application_name=", 1)[0], autocommit=True) as db:
        rows = db.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", (name,)).fetchall()
    return [int(r[0]) for r in rows]


def test_a_read_answers_while_another_thread_holds_a_change_open(postgres_url, tmp_path):
    engine, case_id = _engine_with_case(postgres_url, tmp_path)
    store = engine.store
    inside, release = threading.Event(), threading.Event()

    def hold_a_change() -> None:
        with store.writing():
            store.case(case_id)  # read inside the change: its row is locked until the change ends
            inside.set()
            release.wait(30)

    holder = threading.Thread(target=hold_a_change)
    holder.start()
    assert inside.wait(30)
    answers: list[object] = []
    reader = threading.Thread(target=lambda: answers.append(store.case_and_head(case_id)))
    reader.start()
    reader.join(20)  # on the change connection it would wait until the change ends, which is after this
    still_waiting = reader.is_alive()
    release.set()
    holder.join(30)
    reader.join(30)
    assert not still_waiting, "the read waited for the other thread's change"
    case, head = answers[0]  # type: ignore[misc]
    assert (case.revision, head.seq, head.hash) == (1, 1, case.last_hash)
    engine.close()


def test_a_burst_of_reads_from_many_threads_keeps_within_the_read_connections(postgres_url, tmp_path):
    engine, case_id = _engine_with_case(postgres_url, tmp_path)
    failures: list[BaseException] = []

    def read_often() -> None:
        try:
            for _ in range(25):
                assert engine.case(case_id).revision == 1
                assert [e.kind for e in engine.history(case_id)] == ["started"]
        except BaseException as exc:  # reported below: a thread's assertion is otherwise lost
            failures.append(exc)

    threads = [threading.Thread(target=read_often) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures, failures[0]
    assert 1 < len(_backends(postgres_url)) <= 1 + READERS  # the change connection and at most READERS more
    engine.close()
    assert _backends(postgres_url) == []  # closing the store closes its read connections too


def test_reads_go_on_after_the_server_dropped_every_connection_of_the_store(postgres_url, tmp_path):
    engine, case_id = _engine_with_case(postgres_url, tmp_path)
    assert engine.case(case_id).revision == 1  # a read connection is open and idle now
    before = set(_backends(postgres_url))
    with psycopg.connect(postgres_url, autocommit=True) as db:
        for pid in before:
            db.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))
    assert engine.case(case_id).revision == 1
    assert engine.store.case_and_head(case_id)[1].seq == 1  # type: ignore[attr-defined,union-attr]
    acted = engine.act(case_id, "dispatch", DESK, at=at("2025-11-03 10:05"))
    assert engine.case(case_id).revision == acted.revision > 1  # the read sees the change just committed
    assert not before & set(_backends(postgres_url))
    assert engine.verify() == []
    engine.close()


def test_with_no_read_connections_every_read_takes_its_turn_on_the_change_connection(postgres_url, tmp_path):
    from complaintflow.store.postgres import PostgresStore

    _engine_with_case(postgres_url, tmp_path)[0].close()
    store = PostgresStore(postgres_url, readers=0)
    assert store.cases.__name__ == "cases" and len(store.processes()) == 1
    assert len(_backends(postgres_url)) == 1
    store.close()
