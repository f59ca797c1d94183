"""The SQLite store: refuses files that are not ours, detects tampering, keeps concurrent writers honest."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import MINI, at, ids
from oldstores import as_format_3

from complaintflow import Actor, ConflictError, Engine, RefusedError, StoreError
from complaintflow.audit.upgrade import upgrade_store
from complaintflow.runtime.personal import reveal
from complaintflow.store.base import CaseQuery
from complaintflow.store.sqlite import DEFERRED_PAGES, INLINE_PAGES, SQLiteStore

ROOT = Path(__file__).resolve().parent.parent
DESK = Actor("wang", ("desk",))
DATA = {"customer_name": "张三", "severity": "general"}


def _edit(path: Path, sql: str, args: tuple = ()) -> None:
    """Change a store file directly, as a person with the file (not the engine) would."""
    db = sqlite3.connect(path)
    db.execute(sql, args)
    db.commit()
    db.close()


def _engine_with_case(tmp_path: Path, db: str | None = None) -> tuple[Engine, str]:
    """An engine on ``db`` (default: an SQLite file in ``tmp_path``) with a case started and dispatched."""
    engine = Engine(db or tmp_path / "t.db", new_case_id=ids())
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    spec = engine.load_process(tmp_path / "mini.yaml")
    case = engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"))
    engine.act(case.id, "dispatch", DESK, at=at("2025-11-03 10:01"))
    return engine, case.id


def test_a_text_file_is_not_a_store(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(StoreError, match="not a complaintflow store"):
        SQLiteStore(path)
    assert path.read_text(encoding="utf-8") == "hello"


def test_another_programs_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE orders (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="SQLite file but not a complaintflow store"):
        SQLiteStore(path)


def test_a_store_from_newer_code_is_refused(tmp_path):
    SQLiteStore(tmp_path / "t.db").close()
    _edit(tmp_path / "t.db", "UPDATE meta SET value='99' WHERE key='format_version'")
    with pytest.raises(StoreError, match="format 99, newer than this complaintflow"):
        SQLiteStore(tmp_path / "t.db")


def test_verify_names_the_case_and_event_of_an_edited_row(tmp_path):
    engine, case_id = _engine_with_case(tmp_path)
    assert engine.verify() == []
    db = sqlite3.connect(tmp_path / "t.db")
    payload = json.loads(db.execute("SELECT payload FROM events WHERE case_id=? AND seq=2", (case_id,)).fetchone()[0])
    payload["to"] = "closed"
    db.execute("UPDATE events SET payload=? WHERE case_id=? AND seq=2", (json.dumps(payload), case_id))
    db.commit()
    db.close()
    problems = [str(p) for p in engine.verify()]
    assert problems == [f"case {case_id}: event 2: acted at {at('2025-11-03 10:01')} was altered after it was written"]


@pytest.mark.parametrize("seq", [1, 2, 3])
def test_verify_detects_a_deleted_row_first_middle_or_latest(tmp_path, seq):
    # A history is walked back from the case row, so a missing event breaks the walk; the store then shows
    # every event still filed under the case, and verify names the one that is gone.
    engine, case_id = _engine_with_case(tmp_path)
    assert [e.seq for e in engine.history(case_id)] == [1, 2, 3]
    _edit(tmp_path / "t.db", "DELETE FROM events WHERE case_id=? AND seq=?", (case_id, seq))
    assert [e.seq for e in engine.history(case_id)] == [n for n in (1, 2, 3) if n != seq]
    assert [p.seq for p in engine.verify(case_id)] == [seq]


def test_verify_detects_an_edited_case_row(tmp_path):
    engine, case_id = _engine_with_case(tmp_path)
    _edit(tmp_path / "t.db", "UPDATE cases SET state='closed' WHERE id=?", (case_id,))
    assert [str(p) for p in engine.verify(case_id)] == [
        f"case {case_id}: event 3: the stored case row does not match its history"
    ]


def _act_together(path: str, case_id: str, barrier, results) -> None:
    engine = Engine(path)
    barrier.wait(timeout=60)  # both processes ask at the same moment
    try:
        engine.act(case_id, "finish", Actor("li", ("head",)), {"result": "ok"}, at=at("2025-11-03 10:05"))
        results.put("won")
    except RefusedError as exc:
        results.put(f"refused: {exc}")


# The tests below hold for every store several processes can share: an SQLite file and a PostgreSQL
# database (``shared_address``, conftest.py).


def test_two_processes_on_one_case_one_wins_the_other_sees_its_result(tmp_path, shared_address):
    engine, case_id = _engine_with_case(tmp_path, shared_address)
    engine.close()
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [ctx.Process(target=_act_together, args=(shared_address, case_id, barrier, results)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    outcomes = sorted(results.get(timeout=10) for _ in workers)
    # The loser read the case only once the winner had committed, so it judged the finished case.
    assert outcomes[1] == "won"
    assert outcomes[0].startswith("refused: ") and "finish" in outcomes[0]
    again = Engine(shared_address)
    assert [e.kind for e in again.history(case_id)].count("acted") == 2  # dispatch + exactly one finish
    assert again.verify() == []


def _tick_together(path: str, barrier, results) -> None:
    engine = Engine(path)
    barrier.wait(timeout=60)
    results.put(len(engine.tick(at("2025-11-03 18:00"), batch=7)))  # small batches: the two interleave


def _open_forty_cases(db: str, tmp_path: Path) -> list[str]:
    engine = Engine(db, new_case_id=ids())
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    spec = engine.load_process(tmp_path / "mini.yaml")
    opened = [engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00") + 60 * n).id for n in range(40)]
    engine.close()
    return opened


def test_two_processes_ticking_one_store_fire_each_deadline_once(tmp_path, shared_address, request):
    opened = _open_forty_cases(shared_address, tmp_path)
    # The same store ticked by one process is what two processes together must leave.
    if shared_address.startswith("postgresql://"):
        alone_address = request.getfixturevalue("postgres_server").new_store()
    else:
        alone_address = str(tmp_path / "alone.db")
    assert _open_forty_cases(alone_address, tmp_path) == opened
    alone = Engine(alone_address)
    fired_alone = len(alone.tick(at("2025-11-03 18:00"), batch=7))
    assert fired_alone >= len(opened)

    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [ctx.Process(target=_tick_together, args=(shared_address, barrier, results)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert sum(results.get(timeout=10) for _ in workers) == fired_alone
    together = Engine(shared_address)
    for case_id in opened:
        # The two stores' starts drew different salts: compare what the payloads say, values put back.
        assert [(e.seq, e.kind, e.at, reveal(e)) for e in together.history(case_id)] == [
            (e.seq, e.kind, e.at, reveal(e)) for e in alone.history(case_id)
        ], case_id
    assert together.verify() == []
    assert together.tick(at("2025-11-03 18:00")) == []


def test_a_commit_built_on_a_row_another_connection_has_moved_on_is_refused(tmp_path, shared_address):
    engine, case_id = _engine_with_case(tmp_path, shared_address)
    other = Engine(shared_address)
    stale = engine.case(case_id)
    other.act(case_id, "finish", Actor("li", ("head",)), {"result": "ok"}, at=at("2025-11-03 10:05"))
    events = engine._decide(
        engine.compiled(stale.process_hash),
        stale,
        "finish",
        Actor("li", ("head",)),
        {"result": "late"},
        at("2025-11-03 10:06"),
    )
    with pytest.raises(ConflictError, match="was changed by someone else"):
        engine._commit(stale, events)
    assert [e.kind for e in other.history(case_id)].count("acted") == 2
    assert engine.verify() == []


def _in_transaction(store) -> bool:
    if isinstance(store, SQLiteStore):
        return store.db.in_transaction
    return store._in_transaction()  # the PostgreSQL store


def test_a_refusal_inside_a_write_transaction_leaves_nothing_behind(tmp_path, shared_address):
    engine, case_id = _engine_with_case(tmp_path, shared_address)
    store = engine.store
    before = store.case(case_id)
    cp = engine.compiled(before.process_hash)

    def finish() -> None:  # built on ``before`` each time, so the second one in a row is stale
        events = engine._decide(cp, before, "finish", Actor("li", ("head",)), {"result": "ok"}, at("2025-11-03 10:05"))
        engine._commit(before, events)

    with pytest.raises(ConflictError), store.writing():
        finish()  # fine so far
        finish()  # the same revision again: refused
    assert store.case(case_id) == before
    with store.writing():
        finish()
        try:
            finish()
        except ConflictError:
            pass  # caught inside: the transaction is still rolled back as a whole
    assert store.case(case_id) == before
    assert len(store.events(case_id)) == 3
    assert not _in_transaction(store)
    assert Engine(shared_address).case(case_id) == before  # as another connection sees it
    finish()  # and the store takes the next commit as usual
    assert store.case(case_id).state == "done"


_STREAM = """
import sys
sys.path.insert(0, {root!r}); sys.path.insert(0, {tests!r})
from complaintflow import Actor, Engine
from helpers import at
engine = Engine({db!r})
spec = engine.load_process({process!r})
desk, head = Actor("wang", ("desk",)), Actor("li", ("head",))
t = at("2025-11-03 09:00")
for n in range(100000):
    case = engine.start(spec, {{"customer_name": "x", "severity": "general"}}, desk, at=t)
    print("ack", case.id, 1, flush=True)
    engine.act(case.id, "dispatch", desk, at=t + 60)
    print("ack", case.id, 2, flush=True)
"""


def test_killing_the_writer_loses_no_acknowledged_action(tmp_path, shared_address):
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    script = _STREAM.format(
        root=str(ROOT), tests=str(ROOT / "tests"), db=shared_address, process=str(tmp_path / "mini.yaml")
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    acked = []
    assert child.stdout is not None
    for line in child.stdout:
        acked.append(tuple(line.split()[1:]))
        if len(acked) >= 60:
            child.kill()  # SIGKILL: no cleanup, no final commit
            break
    child.wait(timeout=60)
    engine = Engine(shared_address)
    for case_id, seq in acked:
        assert int(seq) <= len(engine.history(case_id)), f"acknowledged event {case_id}:{seq} was lost"
    assert engine.verify() == []


def _as_format_1(source: Path, target: Path, pending: set[tuple[str, int]]) -> None:
    """Rewrite a store in the format-1 layout, as that release wrote it: payloads encoded by the standard
    library's json, rowid tables, a timer row for each timer the clocks call for, an outbox table of copied
    messages for ``pending`` events."""
    from complaintflow.runtime.clocks import desired_timers
    from complaintflow.store.sqlite import _SCHEMA_V1

    old, new = sqlite3.connect(source), sqlite3.connect(target)
    for statement in _SCHEMA_V1.split(";"):
        if statement.strip():
            new.execute(statement)
    new.executemany("INSERT INTO meta VALUES (?, ?)", [("format", "complaintflow-store"), ("format_version", "1")])
    new.executemany("INSERT INTO processes VALUES (?, ?, ?, ?)", old.execute("SELECT * FROM processes"))
    cases = old.execute(
        "SELECT id, process_id, process_hash, state, branches, data, owner_role, clocks, revision, "
        "opened_at, closed_at, last_at, last_hash, last_seq FROM cases"
    ).fetchall()
    new.executemany("INSERT INTO cases VALUES (" + ", ".join("?" * 14) + ")", cases)
    for case in cases:
        new.executemany(
            "INSERT INTO timers VALUES (?, ?, ?, ?, ?, ?)",
            [
                (t.case_id, t.deadline, t.kind, t.step, t.due_at, case[13])
                for t in desired_timers(case[0], json.loads(case[7]))
            ],
        )
    rows = old.execute(
        "SELECT e.case_id, seq, at, actor, role, kind, payload, prev_hash, hash, c.process_id "
        "FROM events e JOIN cases c ON c.id = e.case_id ORDER BY pos"
    ).fetchall()
    for case_id, seq, at_, actor, role, kind, payload, prev_hash, hash_, process_id in rows:
        text = json.dumps(json.loads(payload), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        new.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (case_id, seq, at_, actor, role, kind, text, prev_hash, hash_),
        )
        if (case_id, seq) in pending:
            message = {"kind": kind, "process": process_id, "actor": actor, "role": role, "payload": json.loads(text)}
            new.execute(
                "INSERT INTO outbox VALUES (?, ?, ?, ?)",
                (f"{case_id}:{seq}", case_id, at_, json.dumps(message, ensure_ascii=False)),
            )
    new.commit()
    old.close()
    new.close()


def test_a_format_1_store_is_upgraded_through_every_step_and_keeps_history_timers_and_outbox(tmp_path):
    from complaintflow.store.sqlite import FORMAT_VERSION

    engine, case_id = _engine_with_case(tmp_path)
    engine.tick(at("2025-11-03 12:00"))
    engine.close()
    as_format_3(tmp_path / "t.db")  # the hashes of the releases before format 4
    engine = Engine(tmp_path / "t.db")  # read as it is
    history = engine.history(case_id)
    waiting = engine.timers(case_id)
    assert waiting and [e.hash_rule for e in history] == [1, 1, 1]
    engine.close()
    ids_ = [f"{case_id}:{e.seq}" for e in history]
    assert len(history) == 3
    pending = {(case_id, 2)}  # 1 and 3 were acknowledged, the later one out of order
    _as_format_1(tmp_path / "t.db", tmp_path / "old.db", pending)

    with pytest.raises(
        StoreError, match="has store format 1, older than this complaintflow reads; run 'complaintflow upgrade"
    ):
        Engine(tmp_path / "old.db")  # nothing is upgraded behind the caller's back
    done = upgrade_store(Engine(SQLiteStore(tmp_path / "old.db", for_upgrade=True)), at("2025-11-03 12:30"))
    assert done is not None and (done.from_format, done.to_format, done.cases, done.events) == (1, 6, 1, 3)
    upgraded = Engine(tmp_path / "old.db")
    (version,) = upgraded.store.db.execute("SELECT value FROM meta WHERE key='format_version'").fetchone()
    assert version == str(FORMAT_VERSION)
    assert upgraded.history(case_id) == history
    assert upgraded.verify() == []  # replaying the history rebuilds the row, next_due included
    assert upgraded.store.case(case_id).next_due == min(t.due_at for t in waiting)
    assert [m.id for m in upgraded.store.outbox(None, 100)] == [ids_[1]]
    upgraded.act(case_id, "finish", Actor("li", ("head",)), {"result": "修好了"}, at=at("2025-11-03 13:00"))
    assert upgraded.verify() == []
    assert [e.hash_rule for e in upgraded.history(case_id)] == [1, 1, 1, 2, 2]
    after = upgraded.store.outbox(None, 100)
    assert [m.id for m in after] == [ids_[1], f"{case_id}:4", f"{case_id}:5"]
    assert [m.message["kind"] for m in after[1:]] == ["acted", "deadline_met"]
    upgraded.close()


@pytest.mark.parametrize("bad", ["fast", "", 2])
def test_an_unknown_durability_is_refused_before_any_file_is_made(tmp_path, bad):
    with pytest.raises(StoreError, match="synchronous must be OFF, NORMAL, FULL or EXTRA"):
        SQLiteStore(tmp_path / "t.db", synchronous=bad)
    assert not (tmp_path / "t.db").exists()


def test_the_background_checkpointer_runs_by_default_only_without_an_fsync_per_commit(tmp_path):
    for synchronous, expected in (("FULL", False), ("EXTRA", False), ("normal", True), ("OFF", True)):
        store = SQLiteStore(tmp_path / f"{synchronous}.db", synchronous=synchronous)
        assert (store._checkpointer is not None) is expected, synchronous
        assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone() == ((0,) if expected else (1000,))
        store.close()
    assert SQLiteStore(tmp_path / "forced.db", background_checkpoint=True)._checkpointer is not None


def test_the_background_checkpointer_copies_the_wal_back_and_stops_on_close(tmp_path):
    store = SQLiteStore(tmp_path / "t.db", synchronous="NORMAL")
    engine = Engine(store, new_case_id=ids())
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    spec = engine.load_process(tmp_path / "mini.yaml")
    checkpointer = store._checkpointer
    assert checkpointer is not None
    assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)  # SQLite's own is off
    for _ in range(checkpointer.every + 1):
        engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"))
    assert checkpointer._thread is not None and checkpointer._thread.is_alive()
    engine.close()
    assert not checkpointer._thread.is_alive()
    assert len(Engine(tmp_path / "t.db").cases(CaseQuery(limit=1000))) == checkpointer.every + 1


def _wal_frames(path: Path) -> tuple[int, int]:
    """(frames in the WAL, frames of it copied back into the file), read from the WAL index's header
    (sqlite.org/walformat.html: mxFrame, nBackfill) without running a checkpoint."""
    head = Path(f"{path}-shm").read_bytes()[:100]
    return struct.unpack_from("=I", head, 16)[0], struct.unpack_from("=I", head, 96)[0]


def test_while_the_scheduler_catches_up_the_wal_is_copied_back_once_a_round_finds_nothing_due(tmp_path):
    path = tmp_path / "t.db"
    store = SQLiteStore(path)  # FULL: SQLite copies the WAL back inline
    engine = Engine(store, new_case_id=ids())
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    spec = engine.load_process(tmp_path / "mini.yaml")
    for n in range(3):
        engine.start(spec, DATA, DESK, at=at(f"2025-11-03 10:0{n}"))
    pragma = "PRAGMA wal_autocheckpoint"
    assert store.db.execute(pragma).fetchone() == (INLINE_PAGES,)
    assert engine.tick(at("2025-11-03 10:00")) == []  # an idle scheduler holds nothing back, copies nothing
    assert store.db.execute(pragma).fetchone() == (INLINE_PAGES,)
    assert engine.tick(at("2025-11-03 10:30"), rounds=1)  # a round that fired: the copy waits
    assert store.db.execute(pragma).fetchone() == (DEFERRED_PAGES,)
    frames, copied = _wal_frames(path)
    assert frames > copied
    while engine.tick(at("2025-11-03 10:30"), rounds=1):
        assert store.db.execute(pragma).fetchone() == (DEFERRED_PAGES,)
    # The round that found nothing due copied everything back and gave SQLite its own copies again.
    assert _wal_frames(path)[1] == _wal_frames(path)[0] >= frames
    assert store.db.execute(pragma).fetchone() == (INLINE_PAGES,)
    assert engine.verify() == []
    engine.close()


def test_without_an_fsync_per_commit_the_background_checkpointer_alone_copies_back(tmp_path):
    store = SQLiteStore(tmp_path / "t.db", synchronous="NORMAL")
    engine = Engine(store, new_case_id=ids())
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    engine.start(engine.load_process(tmp_path / "mini.yaml"), DATA, DESK, at=at("2025-11-03 10:00"))
    assert engine.tick(at("2025-11-03 10:30"))
    assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)  # never SQLite's own
    engine.close()


def test_a_batch_journals_its_savepoints_in_memory_and_leaves_the_connection_as_it_was(tmp_path):
    store = SQLiteStore(tmp_path / "t.db")
    where = "PRAGMA temp_store"
    assert store.db.execute(where).fetchone() == (0,)  # SQLite's default: files for temporary data
    with store.batch():
        assert store.db.execute(where).fetchone() == (2,)  # memory: a round's savepoint journal
        with store.batch():  # nested: the outer batch decides
            pass
        assert store.db.execute(where).fetchone() == (2,)
    assert store.db.execute(where).fetchone() == (0,)
    with pytest.raises(RuntimeError), store.batch():
        raise RuntimeError("a round that fails")
    assert store.db.execute(where).fetchone() == (0,)
    store.close()
