"""A store edited behind the engine's back, with raw sqlite3: each edit is named in one line by ``verify``
(case and event), and the engine refuses to build on it instead of hashing it into a history."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import MINI, at, edit_store, ids

import cli
from complaintflow import Actor, Engine, RefusedError

DESK, HEAD = Actor("wang", ("desk",)), Actor("li", ("head",))
DATA = {"customer_name": "张三", "severity": "general"}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def store(tmp_path) -> Path:
    """Three cases of the mini process: c1 and c2 dispatched (3 events each: the 3m deadline met, the 4h one
    runs), c3 just opened."""
    path = tmp_path / "t.db"
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    engine = Engine(path, new_case_id=ids())
    spec = engine.load_process(tmp_path / "mini.yaml")
    for n in range(3):
        case = engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00") + n)
        if n < 2:
            engine.act(case.id, "dispatch", DESK, at=at("2025-11-03 10:01"))
    engine.close()
    return path


def _verify(store: Path) -> tuple[int, list[str]]:
    code, out, _ = run("verify", "--db", str(store))
    return code, out.splitlines()


def _one(store: Path, sql: str, args: tuple = ()) -> tuple:
    db = sqlite3.connect(store)
    row = db.execute(sql, args).fetchone()
    db.close()
    return row


def test_the_untouched_store_verifies(store):
    assert _verify(store) == (0, ["history intact"])


# -- a forged event row that no history links to -----------------------------------------------


def _forge(store: Path, case_id: str) -> int:
    """A row that looks like the case's next event, made from its latest one, without touching the case row."""
    edit_store(
        store,
        (
            "INSERT INTO events (prev_pos, case_id, seq, at, actor, role, kind, payload, prev_hash, hash) "
            "SELECT pos, case_id, seq + 1, at + 60, 'mallory', role, kind, payload, hash, hash FROM events "
            "WHERE pos = (SELECT last_pos FROM cases WHERE id = ?)",
            (case_id,),
        ),
    )
    return _one(store, "SELECT max(pos) FROM events")[0]


def test_a_forged_row_is_named_by_verify_and_never_delivered(store):
    engine = Engine(store)
    pending = [m.id for m in engine.store.outbox(None, 100)]
    engine.close()
    pos = _forge(store, "c1")
    assert _verify(store) == (
        1,
        [
            f"case c1: event 4: the row at position {pos} is not linked into the case's history: the engine did "
            "not write it (it is never delivered)"
        ],
    )
    code, _, err = run("seal", "--db", str(store), "--now", "2025-11-10 09:00")
    assert code == 1 and err.startswith(
        "error: refused to seal a store that does not verify: case c1: event 4: the row"
    )
    engine = Engine(store)
    assert [m.id for m in engine.store.outbox(None, 100)] == pending  # not c1:4
    assert [m.id for m in engine.store.outbox(pending[-2], 100)] == pending[-1:]
    engine.close()


def test_a_page_of_forged_rows_does_not_stop_the_outbox(store):
    engine = Engine(store)
    pending = [m.id for m in engine.store.outbox(None, 100)]
    engine.store.ack_outbox(pending)
    engine.close()
    for _ in range(3):
        _forge(store, "c2")
    engine = Engine(store)
    engine.act("c3", "dispatch", DESK, at=at("2025-11-03 10:05"))
    after = [f"c3:{e.seq}" for e in engine.history("c3")[1:3]]
    assert [m.id for m in engine.store.outbox(None, 2)] == after  # past a full page of forged rows
    engine.close()


# -- a case row deleted while its events stay -------------------------------------------------


def test_a_deleted_case_row_whose_events_stay_is_named(store):
    edit_store(store, ("DELETE FROM cases WHERE id='c2'", ()))
    assert _verify(store) == (1, ["case c2: event 1: the case row is gone while 3 of its events remain"])
    engine = Engine(store)
    assert all(m.case_id != "c2" for m in engine.store.outbox(None, 100))
    engine.close()


# -- the stored process text edited -----------------------------------------------------------


def _edit_process(store: Path) -> str:
    (content_hash, source) = _one(store, "SELECT hash, source FROM processes")
    edited = bytes(source).replace(b"within: 4h", b"within: 400h")
    assert edited != bytes(source)
    edit_store(store, ("UPDATE processes SET source=? WHERE hash=?", (edited, content_hash)))
    return content_hash


def test_an_edited_process_text_is_named_and_nothing_runs_on_it(store):
    content_hash = _edit_process(store)
    refusal = (
        f"process mini version 1: the stored text does not match its content hash {content_hash[:12]} "
        "(it was edited in the store); nothing runs on it"
    )
    code, lines = _verify(store)
    assert code == 1
    assert lines[-1] == f"store: {refusal}"
    assert sorted(lines[:-1]) == [
        f"case c{n}: event {s}: cannot be replayed: {refusal}" for n, s in ((1, 3), (2, 3), (3, 1))
    ]
    engine = Engine(store)
    with pytest.raises(RefusedError) as refused:
        engine.act("c1", "finish", HEAD, {"result": "ok"}, at=at("2025-11-03 11:00"))
    assert str(refused.value) == f"case c1: refused: {refusal}"
    engine.close()
    code, out, err = run("tick", "--db", str(store), "--now", "2025-11-04 10:00")
    assert code == 1
    assert sorted(err.splitlines()) == [f"error: case c{n}: refused: {refusal}" for n in (1, 2, 3)]
    assert _one(store, "SELECT count(*) FROM events") == (7,)  # nothing was written
    assert hashlib.sha256(bytes(_one(store, "SELECT source FROM processes")[0])).hexdigest() != content_hash


# -- a case row's last_at or next_due edited ---------------------------------------------------


@pytest.mark.parametrize(
    "edit, problem",
    [
        (
            "UPDATE cases SET last_at = last_at - 3600 WHERE id='c1'",
            f"its row's last_at ({at('2025-11-03 09:01')}) is not the time of its latest event "
            f"({at('2025-11-03 10:01')})",
        ),
        (
            "UPDATE cases SET next_due = next_due + 86400 WHERE id='c1'",
            f"its row's next_due ({at('2025-11-04 14:01')}) is not when its clocks next fall due "
            f"({at('2025-11-03 14:01')})",
        ),
    ],
)
def test_an_edited_row_is_refused_by_act_and_tick_which_go_on_with_the_rest(store, edit, problem):
    edit_store(store, (edit, ()))
    refusal = f"case c1: refused: {problem}; it was edited outside complaintflow (run complaintflow verify)"
    code, _, err = run(
        "act", "c1", "finish", "--as", "li", "--role", "head", "--db", str(store), "--now", "2025-11-03 09:30"
    )
    assert (code, err) == (1, f"error: {refusal}\n")
    before = _one(store, "SELECT count(*) FROM events WHERE case_id='c1'")
    # After the edited next_due too: a tick reads only the cases due, and refuses c1 once it reads it.
    code, out, err = run("tick", "--db", str(store), "--now", "2025-11-05 10:00")
    assert (code, err) == (1, f"error: {refusal}\n")
    assert "c2" in out or "4小时内处理完" in out  # the other cases' deadlines fired
    assert _one(store, "SELECT count(*) FROM events WHERE case_id='c1'") == before
    assert _one(store, "SELECT count(*) FROM events WHERE case_id='c2'") > (3,)
    assert _verify(store)[0] == 1  # and verify names the row


# -- a payload that is not JSON -----------------------------------------------------------------


def test_a_payload_that_is_not_json_is_named_instead_of_crashing_verify(store):
    edit_store(store, ("UPDATE events SET payload='{\"state\": ' WHERE case_id='c2' AND seq=2", ()))
    code, lines = _verify(store)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith(f"case c2: event 2: acted at {at('2025-11-03 10:01')}: the stored payload is not JSON (")
    code, _, err = run("history", "c2", "--db", str(store))
    assert code == 1 and err.startswith("error: case c2: event 2: the stored payload is not JSON (")


def test_verify_as_json_gives_one_object_per_problem(store):
    edit_store(store, ("UPDATE events SET payload='{\"x\": 1}' WHERE case_id='c2' AND seq=2", ()))
    code, out, _ = run("verify", "--db", str(store), "--format", "json")
    import json

    found = json.loads(out)
    assert code == 1 and [(p["case"], p["seq"]) for p in found] == [("c2", 2)]
    assert "altered" in found[0]["problem"] and found[0]["text"].startswith("case c2: event 2: ")
