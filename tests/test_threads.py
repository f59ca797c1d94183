"""One Engine shared by many threads: no stray exceptions, no lost update, the outcome a serial run gives."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers import MINI, at, ids

from complaintflow import Actor, ConflictError, Engine, RefusedError
from complaintflow.store.base import StoreError
from complaintflow.store.group import Serializer
from complaintflow.store.memory import MemoryStore
from complaintflow.store.open import open_store
from complaintflow.store.sqlite import SQLiteStore

DESK = Actor("wang", ("desk",))
HEAD = Actor("li", ("head",))
DATA = {"customer_name": "张三", "severity": "general"}
OWN_CASES = 12  # threads that each walk a case of their own to the end
SHARED = 4  # threads that fight over one case
LOOPS = 10
T0 = at("2025-11-03 10:00")
WALK = [  # (action, actor, inputs), the whole life of a case after its start
    ("dispatch", DESK, None),
    ("ask_customer", HEAD, None),
    ("customer_answers", DESK, None),
    ("finish", HEAD, {"result": "修好了"}),
    ("callback", DESK, None),
]


@pytest.fixture(params=["sqlite", "sqlite-no-group", "memory", "postgres"])
def engine(request, tmp_path):
    if request.param == "memory":
        store: Any = MemoryStore()
    elif request.param == "postgres":  # the session's server (conftest.py)
        store = open_store(request.getfixturevalue("postgres_url"))
    else:
        store = SQLiteStore(tmp_path / "t.db", group_commit=request.param == "sqlite")
    engine = Engine(store, new_case_id=ids())
    yield engine
    engine.close()


def _run_together(work: list[Callable[[], None]]) -> list[BaseException]:
    """Runs each callable on its own thread, all released at once; returns what they raised."""
    gate = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            gate.wait(timeout=60)
            job()
        except BaseException as exc:  # noqa: BLE001 - the test reports every one
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hangs"
    return errors


def test_many_threads_through_one_engine_lose_nothing_and_end_as_a_serial_run_would(engine, tmp_path):
    spec = engine.load_process(MINI.encode(), "mini.yaml")
    shared = engine.start(spec, DATA, DESK, at=T0)
    engine.act(shared.id, "dispatch", DESK, at=T0 + 60)
    own: list[str] = []
    successes: list[str] = []  # actions acknowledged on the shared case

    def walk_own_case() -> None:
        case = engine.start(spec, DATA, DESK, at=T0)
        own.append(case.id)
        for step, (action, actor, inputs) in enumerate(WALK):
            engine.act(case.id, action, actor, inputs, at=T0 + 60 * (step + 1))
            assert engine.case(case.id).revision == step + 2  # read back: the thread's own commit is there

    def fight_over_shared_case() -> None:
        for _ in range(LOOPS):
            for action, actor in (("ask_customer", HEAD), ("customer_answers", DESK)):
                try:
                    engine.act(shared.id, action, actor, at=T0 + 120)
                    successes.append(action)
                except (RefusedError, ConflictError):
                    pass  # someone else moved the case first: the documented answers
            history = engine.history(shared.id)
            assert [e.seq for e in history] == list(range(1, len(history) + 1))

    errors = _run_together([walk_own_case] * OWN_CASES + [fight_over_shared_case] * SHARED)
    assert errors == []
    assert len(own) == OWN_CASES
    for case_id in own:  # each walked alone: the same end as one thread running the walk
        case = engine.case(case_id)
        assert (case.state, case.revision, case.data["result"]) == ("closed", len(WALK) + 1, "修好了")
    # No lost update: every acknowledged action is in the history, once, and nothing else is.
    acted = [e.payload["action"] for e in engine.history(shared.id) if e.kind == "acted"]
    assert acted[0] == "dispatch" and sorted(acted[1:]) == sorted(successes)
    assert acted[1:] == ["ask_customer", "customer_answers"] * (len(successes) // 2) + ["ask_customer"] * (
        len(successes) % 2
    )
    assert engine.case(shared.id).revision == 2 + len(successes)
    assert engine.verify() == []


def test_only_one_of_many_threads_finishes_a_case(engine):
    spec = engine.load_process(MINI.encode(), "mini.yaml")
    case = engine.start(spec, DATA, DESK, at=T0)
    engine.act(case.id, "dispatch", DESK, at=T0 + 60)
    won: list[str] = []

    def finish(result: str) -> Callable[[], None]:
        def job() -> None:
            try:
                engine.act(case.id, "finish", HEAD, {"result": result}, at=T0 + 120)
                won.append(result)
            except (RefusedError, ConflictError):
                pass

        return job

    assert _run_together([finish(f"r{n}") for n in range(16)]) == []
    assert len(won) == 1
    after = engine.case(case.id)
    assert (after.state, after.data["result"], after.revision) == ("done", won[0], 3)
    assert engine.verify() == []


def test_an_acknowledged_action_is_committed_before_the_call_returns(tmp_path):
    """Another connection, opened after the call returns, already sees it: nothing waits in an open group."""
    path = tmp_path / "t.db"
    engine = Engine(SQLiteStore(path), new_case_id=ids())
    spec = engine.load_process(MINI.encode(), "mini.yaml")
    unseen: list[str] = []

    def start_and_look() -> None:
        case = engine.start(spec, DATA, DESK, at=T0)
        other = sqlite3.connect(path)
        if other.execute("SELECT revision FROM cases WHERE id=?", (case.id,)).fetchone() != (1,):
            unseen.append(case.id)
        other.close()

    assert _run_together([start_and_look] * 16) == []
    assert unseen == []
    assert len(engine.cases()) == 16
    engine.close()


def _queued_behind(serializer: Serializer, count: int) -> None:
    """Returns once ``count`` threads wait for the serializer's lock (they block at once; no clock involved)."""
    while serializer._queued < count:
        os.sched_yield()


def test_queued_changes_commit_as_one_group_and_a_failing_one_rolls_back_alone(tmp_path):
    db = sqlite3.connect(tmp_path / "g.db", isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (name TEXT PRIMARY KEY)")
    commits: list[int] = []
    serializer = Serializer(db.execute, committed=lambda: commits.append(1))
    outcome: dict[str, str] = {}

    def change(name: str) -> Callable[[], None]:
        def job() -> None:
            try:
                with serializer.writing():
                    db.execute("INSERT INTO t VALUES (?)", (name,))
                    if name == "bad":
                        db.execute("INSERT INTO t VALUES ('bad')")  # its own second row: refused
                outcome[name] = "ok"
            except sqlite3.IntegrityError:
                outcome[name] = "refused"

        return job

    threads = [threading.Thread(target=change(name)) for name in ("b", "bad", "c")]
    with serializer.writing():  # the first change holds the connection while the others queue behind it
        db.execute("INSERT INTO t VALUES ('a')")
        for t in threads:
            t.start()
        _queued_behind(serializer, len(threads))
    for t in threads:
        t.join(timeout=60)
    assert outcome == {"b": "ok", "bad": "refused", "c": "ok"}
    assert commits == [1]  # four changes, one transaction
    assert sorted(r[0] for r in db.execute("SELECT name FROM t")) == ["a", "b", "c"]
    db.close()


def test_without_group_commit_each_change_commits_by_itself(tmp_path):
    db = sqlite3.connect(tmp_path / "g.db", isolation_level=None, check_same_thread=False)
    db.execute("CREATE TABLE t (name TEXT)")
    commits: list[int] = []
    serializer = Serializer(db.execute, group_commit=False, committed=lambda: commits.append(1))

    def job() -> None:
        with serializer.writing():
            db.execute("INSERT INTO t VALUES ('x')")

    threads = [threading.Thread(target=job) for _ in range(3)]
    with serializer.writing():
        for t in threads:
            t.start()
        _queued_behind(serializer, len(threads))
    for t in threads:
        t.join(timeout=60)
    assert commits == [1, 1, 1, 1]
    db.close()


def test_a_read_never_sees_a_group_still_open(tmp_path):
    """A change waits in an open group while another thread queues to read: the reader commits it first."""
    db = sqlite3.connect(tmp_path / "g.db", isolation_level=None, check_same_thread=False)
    db.execute("CREATE TABLE t (name TEXT)")
    serializer = Serializer(db.execute)
    seen: list[int] = []

    def read() -> None:
        with serializer.reading():
            assert not db.in_transaction
            seen.append(db.execute("SELECT count(*) FROM t").fetchone()[0])

    reader = threading.Thread(target=read)
    with serializer.writing():
        db.execute("INSERT INTO t VALUES ('x')")
        reader.start()
        _queued_behind(serializer, 1)
    reader.join(timeout=60)
    assert seen == [1]
    db.close()


def test_a_read_outside_a_change_runs_beside_a_writer_and_sees_only_what_is_committed(tmp_path):
    """SQLite store: a thread's read does not wait for another thread's open change (WAL readers run beside
    the writer, on a connection of their own), and it sees the case as last committed, not the change."""
    engine = Engine(SQLiteStore(tmp_path / "r.db"), new_case_id=ids())
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    case = engine.start(engine.load_process(tmp_path / "mini.yaml"), DATA, DESK, at=T0)
    inside, done = threading.Event(), threading.Event()
    states: list[str] = []

    def writer() -> None:
        with engine.store.writing():
            engine.act(case.id, "dispatch", DESK, at=T0 + 60)  # joins this change: not committed yet
            inside.set()
            done.wait(10)  # held open until the main thread has read

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(60)
    states.append(engine.case(case.id).state)  # would wait for the writer's lock before the change
    assert thread.is_alive()  # the read returned while the change was still open
    done.set()
    thread.join(timeout=60)
    states.append(engine.case(case.id).state)
    assert states == ["received", "handling"]
    engine.close()


def test_a_batch_commits_its_changes_once_and_a_failing_one_rolls_back_alone(tmp_path):
    db = sqlite3.connect(tmp_path / "g.db", isolation_level=None, check_same_thread=False)
    db.execute("CREATE TABLE t (name TEXT PRIMARY KEY)")
    commits: list[int] = []
    serializer = Serializer(db.execute, committed=lambda: commits.append(1))
    refused = []
    with serializer.batch():
        for name in ("a", "b", "a", "c"):  # the second "a" is refused, alone
            try:
                with serializer.writing():
                    db.execute("INSERT INTO t VALUES (?)", (name,))
            except sqlite3.IntegrityError:
                refused.append(name)
            with serializer.reading():  # a read inside the batch does not commit it early
                pass
        assert commits == [] and db.in_transaction
    assert refused == ["a"] and commits == [1]
    assert sorted(r[0] for r in db.execute("SELECT name FROM t")) == ["a", "b", "c"]
    db.close()


def test_a_batch_whose_commit_fails_says_so(tmp_path):
    db = sqlite3.connect(tmp_path / "g.db", isolation_level=None, check_same_thread=False)
    db.execute("CREATE TABLE t (name TEXT PRIMARY KEY)")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("CREATE TABLE child (parent TEXT REFERENCES t(name) DEFERRABLE INITIALLY DEFERRED)")
    serializer = Serializer(db.execute)
    with pytest.raises(StoreError, match="the batch was not committed"):
        with serializer.batch():
            with serializer.writing():
                db.execute("INSERT INTO child VALUES ('nobody')")  # refused only at COMMIT
    assert db.execute("SELECT count(*) FROM child").fetchone()[0] == 0
    db.close()


def test_a_round_of_due_cases_fires_in_one_transaction(tmp_path):
    """The scheduler's tick: every due case of a round fires, one commit for the round."""
    engine = Engine(str(tmp_path / "e.db"))
    spec = engine.load_process(MINI.encode())
    t = at("2025-11-03 09:00")
    ids = [engine.start(spec, {"customer_name": "x", "severity": "general"}, DESK, at=t).id for _ in range(20)]
    store = engine.store
    assert isinstance(store, SQLiteStore)
    commits: list[int] = []
    store._serializer._committed = lambda: commits.append(1)
    fired = engine.tick(t + 86400 * 3, batch=256, rounds=1)
    assert {e.case_id for e in fired} == set(ids) and commits == [1]
    engine.close()


_THREADED_STREAM = """
import sys, threading
sys.path.insert(0, {root!r}); sys.path.insert(0, {tests!r})
from complaintflow import Actor, Engine
from helpers import at
engine = Engine({db!r})
spec = engine.load_process({process!r})
desk = Actor("wang", ("desk",))
t = at("2025-11-03 09:00")
say = threading.Lock()

def actor():
    while True:
        case = engine.start(spec, {{"customer_name": "x", "severity": "general"}}, desk, at=t)
        with say:
            print("ack", case.id, 1, flush=True)
        engine.act(case.id, "dispatch", desk, at=t + 60)
        with say:
            print("ack", case.id, 2, flush=True)

for _ in range(8):
    threading.Thread(target=actor).start()
"""


def test_killing_a_process_of_many_writer_threads_loses_no_acknowledged_action(tmp_path):
    """Group commit answers a caller only after its group's commit: SIGKILL in a burst loses nothing answered."""
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    script = _THREADED_STREAM.format(
        root=str(root), tests=str(root / "tests"), db=str(tmp_path / "t.db"), process=str(tmp_path / "mini.yaml")
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    acked = []
    assert child.stdout is not None
    for line in child.stdout:
        acked.append(tuple(line.split()[1:]))
        if len(acked) >= 120:
            child.kill()  # SIGKILL: no cleanup, no final commit
            break
    child.wait(timeout=60)
    assert len(acked) >= 120
    engine = Engine(tmp_path / "t.db")
    for case_id, seq in acked:
        assert int(seq) <= len(engine.history(case_id)), f"acknowledged event {case_id}:{seq} was lost"
    assert engine.verify() == []
    engine.close()
