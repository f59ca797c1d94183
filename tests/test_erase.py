"""Personal data outside the hash chain (store format 5) and ``complaintflow erase``.

A field marked ``pii`` is committed to in the hashed payload (a salted SHA-256) and kept beside it, so the
history verifies with or without the value; erasing destroys the values in the store file, its WAL and
the outbox, records who erased what and why, and leaves ``verify`` clean. An edited or removed value is
named by ``verify``; an older store's inline values are refused, not half-erased.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import at
from oldstores import as_format_4

import cli
from complaintflow import Actor, Engine
from complaintflow.runtime.errors import RefusedError
from complaintflow.runtime.personal import commitment, is_commitment
from complaintflow.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent
DESK = ROOT / "processes" / "service_desk.yaml"
NAME, PHONE, ADDRESS = "欧阳娜娜", "139-1234-8765", "科技园 7 号楼 1203"
RECORD = {
    "contact_name": NAME,
    "phone": PHONE,
    "address": ADDRESS,
    "content": "空调不制冷",
    "case_type": "complaint",
    "urgency": "normal",
}
RECEPTIONIST = Actor("zhou", ("receptionist",))


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _open(store) -> tuple[Engine, str]:
    engine = Engine(store)
    spec = engine.load_process(DESK)
    case = engine.start(spec, RECORD, RECEPTIONIST, at("2025-11-03 09:00"))
    return engine, case.id


def _file_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


@pytest.fixture
def opened(any_store):  # on the memory, SQLite and PostgreSQL stores (conftest.py)
    return _open(any_store)


def test_the_chain_commits_to_personal_values_and_keeps_them_beside_it(opened):
    engine, case_id = opened
    started = engine.history(case_id)[0]
    for name in ("contact_name", "phone", "address"):
        assert is_commitment(started.payload["data"][name])
        kept = started.personal[f"data.{name}"]
        assert kept["value"] == RECORD[name]
        assert started.payload["data"][name]["pii"] == commitment(kept["salt"], kept["value"])
    assert started.payload["data"]["content"] == "空调不制冷"  # not personal: in the payload as it is
    assert PHONE not in started.payload_json and NAME not in started.payload_json
    assert engine.case(case_id).data["phone"] == PHONE  # the case row, and every guard, has the value
    message = next(m for m in engine.store.outbox(None, 100) if m.case_id == case_id)
    assert PHONE not in json.dumps(message.message, ensure_ascii=False)
    assert engine.verify() == []


def test_salts_differ_so_equal_values_have_unequal_commitments(opened):
    engine, first = opened
    spec = engine.compiled(engine.case(first).process_hash).spec
    second = engine.start(spec, RECORD, RECEPTIONIST, at("2025-11-03 09:05")).id
    a, b = (engine.history(c)[0].payload["data"]["phone"] for c in (first, second))
    assert a != b  # a phone number cannot be found by hashing guesses against the chain


def test_erase_removes_the_values_records_why_and_verify_stays_clean(opened):
    engine, case_id = opened
    done = engine.erase(case_id, Actor("dpo", ("privacy",)), at=at("2025-11-04 10:00"), reason="本人要求删除")
    assert {done.data[n] for n in ("contact_name", "phone", "address")} == {None}
    assert done.data["content"] == "空调不制冷"
    last = engine.history(case_id)[-1]
    assert (last.kind, last.actor, last.role, last.at) == ("erased", "dpo", "privacy", at("2025-11-04 10:00"))
    assert last.payload == {"fields": ["address", "contact_name", "phone"], "reason": "本人要求删除"}
    assert all(e.personal is None for e in engine.history(case_id))
    assert engine.verify() == []
    # The case goes on after an erasure: a new value given later is kept (and committed) again.
    for event in engine.history(case_id):
        assert PHONE not in event.payload_json


def test_erasing_some_fields_keeps_the_others(opened):
    engine, case_id = opened
    done = engine.erase(case_id, Actor("dpo", ("privacy",)), at=at("2025-11-04 10:00"), reason="r", fields=("phone",))
    assert done.data["phone"] is None and done.data["contact_name"] == NAME
    assert engine.verify() == []


def test_erase_refuses_what_it_cannot_do(opened):
    engine, case_id = opened
    dpo = Actor("dpo", ("privacy",))
    with pytest.raises(RefusedError, match=r"'content' is not a pii field of process 'service_desk'"):
        engine.erase(case_id, dpo, at=at("2025-11-04 10:00"), reason="r", fields=("content",))
    with pytest.raises(RefusedError, match="say why the data is erased"):
        engine.erase(case_id, dpo, at=at("2025-11-04 10:00"), reason="  ")
    with pytest.raises(RefusedError, match="earlier than its last event"):
        engine.erase(case_id, dpo, at=at("2025-11-01 10:00"), reason="r")
    assert engine.case(case_id).data["phone"] == PHONE and engine.case(case_id).last_seq == 1


def test_after_erase_grep_finds_the_values_nowhere_in_the_store_file(tmp_path):
    path = tmp_path / "desk.db"
    engine, case_id = _open(SQLiteStore(path))
    inputs = {"needs_case": True, "opened_at": "2025-11-03 09:02", "nature": "valid", "subject": "equipment"}
    inputs["phone"] = "139-5555-0000"
    engine.act(case_id, "open_complaint", RECEPTIONIST, inputs, at=at("2025-11-03 09:02"))
    engine.close()
    assert PHONE.encode() in _file_bytes(path)  # the check below can fail
    code, out, err = run(
        "erase", case_id, "--reason", "本人要求删除", "--as", "dpo", "--db", str(path), "--now", "2025-11-04 10:00"
    )
    assert code == 0, err
    assert out == f"{case_id}: erased address, contact_name, phone\n"
    raw = _file_bytes(path)
    for value in (PHONE, NAME, ADDRESS, "139-5555-0000"):
        assert value.encode() not in raw, value
    code, out, _ = run("verify", "--db", str(path))
    assert (code, out.splitlines()[0]) == (0, "history intact")
    code, out, _ = run("history", case_id, "--db", str(path))
    assert "dpo (privacy): erased address, contact_name, phone: 本人要求删除" in out


def test_verify_names_an_edited_or_removed_personal_value(tmp_path):
    path = tmp_path / "desk.db"
    engine, case_id = _open(SQLiteStore(path))
    engine.close()
    db = sqlite3.connect(path)
    (text,) = db.execute("SELECT personal FROM events WHERE case_id=? AND seq=1", (case_id,)).fetchone()
    edited = json.loads(text)
    edited["data.phone"]["value"] = "139-0000-0000"
    with db:
        db.execute("UPDATE events SET personal=? WHERE case_id=? AND seq=1", (json.dumps(edited), case_id))
    code, out, _ = run("verify", "--db", str(path))
    assert code == 1
    assert (
        f"case {case_id}: event 1: started at {at('2025-11-03 09:00')}: the personal value data.phone is not the one "
        "its history committed to (edited in the store)"
    ) in out
    with db:
        db.execute("UPDATE events SET personal=NULL WHERE case_id=? AND seq=1", (case_id,))
    code, out, _ = run("verify", "--db", str(path))
    assert code == 1
    assert "the personal value data.address is missing, and no erasure of the case names it" in out
    db.close()


def test_an_older_stores_inline_values_are_refused_after_the_upgrade(tmp_path):
    path = tmp_path / "desk.db"
    engine, case_id = _open(SQLiteStore(path))
    engine.close()
    as_format_4(path)
    code, _, err = run("erase", case_id, "--reason", "r", "--as", "dpo", "--db", str(path))
    assert code != 0 and "upgrade" in err and "Traceback" not in err
    code, _, err = run("upgrade", "--db", str(path), "--now", "2025-11-04 09:00")
    assert code == 0, err
    assert "from store format 4 to 6" in err and "verified under hash rule 2" in err
    code, _, err = run("erase", case_id, "--reason", "r", "--as", "dpo", "--db", str(path), "--now", "2025-11-04 10:00")
    assert code == 1
    assert "phone (event 1) is kept inside the hashed history, written before store format 5" in err
    upgraded = Engine(path)
    spec = upgraded.compiled(upgraded.case(case_id).process_hash).spec
    fresh = upgraded.start(spec, RECORD, RECEPTIONIST, at("2025-11-04 11:00")).id
    upgraded.erase(fresh, Actor("dpo", ("privacy",)), at=at("2025-11-04 12:00"), reason="r")  # new cases can be
    assert upgraded.verify() == []
    upgraded.close()


def test_erase_cli_bad_input_is_one_line(tmp_path):
    path = tmp_path / "desk.db"
    engine, case_id = _open(SQLiteStore(path))
    engine.close()
    code, _, err = run("erase", "nosuch", "--reason", "r", "--as", "dpo", "--db", str(path))
    assert code != 0 and err.strip() == "error: no case 'nosuch' in this store"
    code, _, err = run("erase", case_id, "--as", "dpo", "--db", str(path))
    assert code == 2 and "--reason" in err
    code, _, err = run("erase", case_id, "--reason", "r", "--as", "dpo", "--field", "content", "--db", str(path))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "not a pii field" in err


def test_erase_also_clears_the_services_remembered_reply(tmp_path):
    from complaintflow.service.desk import case_json
    from complaintflow.store.sqlite_directory import SQLiteDirectory as Directory

    path = tmp_path / "desk.db"
    engine, case_id = _open(SQLiteStore(path))
    spec = engine.compiled(engine.case(case_id).process_hash).spec
    directory = Directory(path)
    directory.remember_reply("u1", "key-1", "digest", 201, case_json(engine.case(case_id), spec), 0)
    directory.remember_reply("u1", "key-2", "digest", 201, {"id": "another"}, 0)
    directory.db.close()
    engine.close()
    assert PHONE.encode() in _file_bytes(path)
    code, _, err = run("erase", case_id, "--reason", "r", "--as", "dpo", "--db", str(path), "--now", "2025-11-04 10:00")
    assert code == 0, err
    assert PHONE.encode() not in _file_bytes(path) and NAME.encode() not in _file_bytes(path)
    kept = Directory(path)
    assert kept.idempotent_reply("u1", "key-1") is None and kept.idempotent_reply("u1", "key-2") is not None


def test_erasing_a_demo_case_leaves_its_values_in_no_file_report_or_message(tmp_path):
    """The issue's check: the demo's store, one case erased, then grep of the store file, the outbox and
    every report format for that case's name and phone number."""
    from complaintflow.report.build import build_report
    from complaintflow.report.formats import FORMATS, render
    from complaintflow.report.period import parse_period

    path = tmp_path / "demo.db"
    assert run("demo", "--db", str(path))[0] == 0
    engine = Engine(path)
    chosen = None
    for case in engine.cases():
        spec = engine.compiled(case.process_hash).spec
        values = [str(v) for k, v in case.data.items() if k in spec.fields and spec.fields[k].pii and v]
        if len(values) >= 2:
            chosen = case.id, values
            break
    assert chosen is not None
    case_id, values = chosen
    engine.close()
    assert all(v.encode() in _file_bytes(path) for v in values)
    code, _, err = run("erase", case_id, "--reason", "retention ended", "--as", "dpo", "--db", str(path))
    assert (code, err) == (0, "")
    raw = _file_bytes(path)
    assert [v for v in values if v.encode() in raw] == [], [p.name for p in tmp_path.iterdir()]
    engine = Engine(path)
    assert engine.verify() == []
    messages = [m for m in engine.store.outbox(None, 10**6) if m.case_id == case_id]
    outbox = json.dumps([m.message for m in messages], ensure_ascii=False)
    assert messages and not [v for v in values if v in outbox]
    period = parse_period("2025-09-29..2025-10-10", "Asia/Shanghai")
    report = build_report(engine, period, households=200, now=at("2025-10-10 18:00"))
    for fmt in FORMATS:
        out = render(report, fmt)
        assert not [v for v in values if v in out], fmt
    assert engine.history(case_id)[-1].payload["reason"] == "retention ended"
    engine.close()
