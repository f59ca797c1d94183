"""SQLite writers of several processes take turns on a lock file (engine/store/writer_turns.py): the turn is
held from BEGIN to COMMIT or ROLLBACK, whatever their outcome, and nothing else changes."""

from __future__ import annotations

import fcntl
import os

import pytest
from helpers import MINI, at, ids

from complaintflow import Actor, Engine
from complaintflow.store.sqlite import SQLiteStore
from complaintflow.store.writer_turns import WriterTurns

DESK = Actor("wang", ("desk",))
DATA = {"customer_name": "张三", "severity": "general"}


def _free(path: str) -> bool:
    """Whether another open file could take the turn now."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing it lets the lock go
    return True


def test_the_turn_is_held_from_begin_to_commit_or_rollback(tmp_path):
    turns = WriterTurns(str(tmp_path / "s.db"))
    seen: list[str] = []

    def execute(statement: str) -> None:
        seen.append(statement)
        if statement == "COMMIT" and len(seen) > 3:
            raise RuntimeError("disk full")

    run = turns.around(execute)
    run("BEGIN IMMEDIATE")
    assert not _free(turns.path)
    run("SAVEPOINT change")
    assert not _free(turns.path)
    run("COMMIT")
    assert _free(turns.path)
    run("BEGIN IMMEDIATE")
    with pytest.raises(RuntimeError):
        run("COMMIT")  # a failed commit gives the turn back too
    assert _free(turns.path)
    turns.close()


def test_a_store_with_writer_turns_writes_and_verifies_as_any(tmp_path):
    store = SQLiteStore(tmp_path / "s.db", writer_turns=True)
    assert not (tmp_path / "s.db-writer").exists() or _free(str(tmp_path / "s.db-writer"))
    engine = Engine(store, new_case_id=ids())
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    case = engine.start(engine.load_process(tmp_path / "mini.yaml"), DATA, DESK, at=at("2025-11-03 10:00"))
    engine.act(case.id, "dispatch", DESK, at=at("2025-11-03 10:01"))
    assert (tmp_path / "s.db-writer").exists() and _free(str(tmp_path / "s.db-writer"))
    assert engine.verify() == []
    engine.close()
    assert not (tmp_path / "t.db-writer").exists()
    plain = SQLiteStore(tmp_path / "t.db")  # without them (the default): no lock file
    Engine(plain).load_process(tmp_path / "mini.yaml")
    plain.close()
    assert not (tmp_path / "t.db-writer").exists()
