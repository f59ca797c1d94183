"""``complaintflow export`` (no CASE) and ``import``: a whole store as JSON lines, SQLite to SQLite here
(tests/pg/test_transfer_pg.py goes through PostgreSQL). Every history verifies on both sides with the same
payload texts, hashes and kept personal values; each kind of bad file is refused with one line, exit 2,
and leaves the target as it was (a new file is not even created)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
import test_upgrade
from helpers import MINI, at
from oldstores import as_format_3

from complaintflow import Actor, Engine
from complaintflow.store import transfer
from complaintflow.store.base import StoredProcess
from complaintflow.store.sqlite import SQLiteStore
from complaintflow.store.transfer_directory import TABLES

NOW = "2025-11-10 09:00"
DIRECTORY_COUNTS = {table.kind: table.count for table in TABLES}  # a directory line's type: its count's name
# The demo store (made in a process of its own, so no WAL stays beside it), a copy of it per test, and the CLI.
demo_store, store, run = test_upgrade.demo_store, test_upgrade.store, test_upgrade.run


@pytest.fixture(scope="module")
def demo_export(demo_store, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "demo.jsonl"
    code, _, err = run("export", "--db", str(demo_store), "--out", str(out), "--now", NOW)
    assert code == 0, err
    return out


def rows(path: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


EVENT_ROWS = (
    "SELECT pos, case_id, seq, at, actor, role, kind, payload, prev_hash, hash, personal FROM events ORDER BY pos"
)


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def resealed(values: list[dict], path: Path) -> Path:
    """An export of ``values`` (the end line last) with its digest and counts made to match, as someone who
    edited the file and knew the format would write it."""
    events = [v for v in values if v.get("type") == "event"]
    counts = {
        "processes": sum(v.get("type") == "process" for v in values),
        "cases": len({v["case_id"] for v in events}),
        "events": len(events),
        "upgrades": sum(v.get("type") == "upgrade" for v in values),
    }
    if values[0].get("version", 2) >= 2:
        counts["directory"] = {
            count: sum(v.get("type") == kind for v in values) for kind, count in DIRECTORY_COUNTS.items()
        }
    values[0]["counts"] = counts
    body = b"".join(
        json.dumps(v, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode() + b"\n" for v in values[:-1]
    )
    end = {"end": True, "counts": counts, "digest": "sha256:" + hashlib.sha256(body).hexdigest()}
    path.write_bytes(body + json.dumps(end, separators=(",", ":")).encode() + b"\n")
    return path


# -- round trips -------------------------------------------------------------------------------------


def test_the_demo_store_moves_with_every_row_and_hash_and_verifies_on_both_sides(demo_store, demo_export, tmp_path):
    target = tmp_path / "moved.db"
    code, _, err = run("import", str(demo_export), "--db", str(target))
    assert code == 0, err
    processes, cases, events = (
        rows(demo_store, f"SELECT count(*) FROM {t}")[0][0] for t in ("processes", "cases", "events")
    )
    assert (
        err == f"imported {processes} processes, {cases} cases, {events} events into {target}; every history verifies\n"
    )
    assert rows(target, EVENT_ROWS) == rows(demo_store, EVENT_ROWS)  # byte for byte, positions too
    assert rows(target, "SELECT hash, id, version, source FROM processes ORDER BY hash") == rows(
        demo_store, "SELECT hash, id, version, source FROM processes ORDER BY hash"
    )
    for db in (demo_store, target):
        assert run("verify", "--db", str(db))[:2] == (0, "history intact\n")
    assert run("cases", "--db", str(target))[1] == run("cases", "--db", str(demo_store))[1]
    for (case_id,) in rows(demo_store, "SELECT id FROM cases"):
        for fmt in ("text", "json"):
            shown = run("history", case_id, "--db", str(target), "--format", fmt)
            assert shown == run("history", case_id, "--db", str(demo_store), "--format", fmt)
    # exported again, the moved store is the same file
    again = tmp_path / "again.jsonl"
    assert run("export", "--db", str(target), "--out", str(again), "--now", NOW)[0] == 0
    assert again.read_bytes() == demo_export.read_bytes()


def test_rebuilt_rows_are_the_source_rows_with_the_last_seq_as_revision(demo_store, demo_export, tmp_path):
    target = tmp_path / "moved.db"
    assert run("import", str(demo_export), "--db", str(target))[0] == 0
    columns = "id, process_hash, state, branches, data, owner_role, clocks, opened_at, closed_at, last_at, last_hash, "
    columns += "last_seq, next_due, last_pos"
    assert rows(target, f"SELECT {columns} FROM cases ORDER BY id") == rows(
        demo_store, f"SELECT {columns} FROM cases ORDER BY id"
    )
    for revision, last_seq, old in rows(target, "SELECT revision, last_seq, id FROM cases"):
        before = rows(demo_store, f"SELECT revision FROM cases WHERE id = '{old}'")[0][0]
        assert revision == last_seq >= before  # no If-Match read before the move passes a changed case


def test_the_format_header_lines_and_end(demo_store, demo_export):
    values = lines_of(demo_export)
    header, end = values[0], values[-1]
    assert {k: header[k] for k in ("format", "version", "store_format", "rule2_from_pos")} == {
        "format": "complaintflow-export",
        "version": 2,
        "store_format": 6,
        "rule2_from_pos": 1,
    }
    assert header["exported_at"] == at(NOW)
    events = [v for v in values if v.get("type") == "event"]
    assert [v["pos"] for v in events] == [r[0] for r in rows(demo_store, "SELECT pos FROM events ORDER BY pos")]
    assert {v["hash_rule"] for v in events} == {2}
    assert (
        header["counts"]
        == end["counts"]
        == {
            "processes": sum(v.get("type") == "process" for v in values),
            "cases": len({v["case_id"] for v in events}),
            "events": len(events),
            "upgrades": 0,
            "directory": dict.fromkeys(DIRECTORY_COUNTS.values(), 0),  # the demo store has no service tables
        }
    )
    body = demo_export.read_bytes().rsplit(b"\n", 2)[0] + b"\n"
    assert end["digest"] == "sha256:" + hashlib.sha256(body).hexdigest()


def test_standard_output_gets_the_same_lines_and_the_summary_goes_to_stderr(demo_store, demo_export):
    code, out, err = run("export", "--db", str(demo_store), "--now", NOW)
    assert code == 0 and out.encode() == demo_export.read_bytes()
    assert err.startswith("exported ") and err.endswith(f"from {demo_store} to standard output\n")


def test_progress_every_so_many_events_and_a_summary(store, tmp_path, monkeypatch):
    monkeypatch.setattr(transfer, "PROGRESS_EVERY", 20)
    monkeypatch.setattr(transfer, "PAGE", 10)
    out = tmp_path / "out.jsonl"
    code, _, err = run("export", "--db", str(store), "--out", str(out))
    total = rows(store, "SELECT count(*) FROM events")[0][0]
    lines = err.splitlines()
    assert code == 0 and lines[:-1] == [f"exported {n:,} of {total:,} events" for n in range(20, total + 1, 20)]
    assert lines[-1].endswith(f"{total} events to {out}")
    code, _, err = run("import", str(out), "--db", str(tmp_path / "in.db"))
    assert code == 0 and err.splitlines()[:-1] == [
        f"imported {n:,} of {total:,} events" for n in range(20, total + 1, 20)
    ]


def test_a_failed_export_leaves_neither_the_file_nor_its_temporary(store, tmp_path):
    with sqlite3.connect(store) as db:  # a process text edited in the store: the export refuses it
        db.execute(
            "UPDATE processes SET source = CAST(source || x'0a' AS BLOB) "
            "WHERE rowid = (SELECT min(rowid) FROM processes)"
        )
    out = tmp_path / "out.jsonl"
    code, _, err = run("export", "--db", str(store), "--out", str(out))
    assert code == 1 and "does not match its content hash" in err and len(err.splitlines()) == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("out")] == []


@pytest.mark.parametrize(
    "edit, found",
    [
        ("DELETE FROM events WHERE pos = (SELECT last_pos FROM cases WHERE id = '{case}')", "names event {seq}"),
        ("DELETE FROM cases WHERE id = '{case}'", "has no case row"),
    ],
    ids=["its-latest-event-deleted", "its-case-row-deleted"],
)
def test_a_store_changed_behind_the_engine_is_not_exported_to_verify_clean_elsewhere(store, tmp_path, edit, found):
    case_id, seq = rows(store, "SELECT id, last_seq FROM cases ORDER BY id LIMIT 1")[0]
    with sqlite3.connect(store) as db:
        db.execute(edit.format(case=case_id))
    out = tmp_path / "out.jsonl"
    code, _, err = run("export", "--db", str(store), "--out", str(out))
    assert code == 1 and err.startswith(f"error: case {case_id}: ") and found.format(seq=seq) in err
    assert err.endswith("(run complaintflow verify); nothing was exported\n") and len(err.splitlines()) == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("out")] == []
    assert run("verify", "--db", str(store))[0] == 1  # which is what verify said of the store already


def test_export_case_still_prints_a_cases_personal_data_and_out_goes_without_it(store):
    (case_id,) = rows(store, "SELECT id FROM cases ORDER BY id LIMIT 1")[0]
    code, out, _ = run("export", case_id, "--db", str(store))
    assert code == 0 and json.loads(out)["case"] == case_id
    code, _, err = run("export", case_id, "--db", str(store), "--out", "x.jsonl")
    assert code == 2 and "--out and --now go with an export of the whole store" in err
    code, _, err = run("export", "--db", str(store), "--format", "text")
    assert code == 2 and err == "error: --format goes with CASE; an export of the whole store is always JSON lines\n"


def test_help_names_both_uses_of_export():
    text = run("export", "--help")[1]
    assert "'export CASE'" in text and "'export' with no CASE" in text and "complaintflow import" in text


# -- personal data, the outbox, processes no case runs on ---------------------------------------------


def test_erased_data_stays_erased_and_kept_values_travel(tmp_path):
    source = tmp_path / "source.db"
    engine = Engine(str(source))
    spec = engine.load_process(MINI.encode())
    desk = Actor("wang", ("desk",))
    for n in (1, 2):
        engine.start(
            spec, {"customer_name": f"客户{n}", "severity": "general"}, desk, at=at("2025-11-03 10:00"), case_id=f"c{n}"
        )
    engine.erase("c1", Actor("dpo", ("privacy",)), at=at("2025-11-03 11:00"), reason="request", fields=())
    engine.close()
    out, target = tmp_path / "out.jsonl", tmp_path / "target.db"
    assert run("export", "--db", str(source), "--out", str(out))[0] == 0
    assert "客户1" not in out.read_text(encoding="utf-8") and "客户2" in out.read_text(encoding="utf-8")
    assert run("import", str(out), "--db", str(target))[0] == 0
    assert run("verify", "--db", str(target))[:2] == (0, "history intact\n")
    assert rows(target, "SELECT pos, personal FROM events") == rows(source, "SELECT pos, personal FROM events")
    moved = Engine(str(target))
    assert moved.case("c1").data["customer_name"] is None and moved.case("c2").data["customer_name"] == "客户2"
    moved.close()
    # the rebuilt rows fire the same deadlines (next_due and the clocks came back with them)
    later = ("--now", "2025-11-03 12:00", "--format", "json")
    fired = run("tick", "--db", str(source), *later)
    assert fired[0] == 0 and len(json.loads(fired[1])) >= 4 and run("tick", "--db", str(target), *later) == fired
    assert run("verify", "--db", str(target))[:2] == (0, "history intact\n")


def test_the_outbox_keeps_what_was_acknowledged(store, tmp_path):
    engine = Engine(str(store))
    pending = [m.id for m in engine.store.outbox(None, 10_000)]
    engine.store.ack_outbox(pending[:5] + pending[8:9])
    still = [m.id for m in engine.store.outbox(None, 10_000)]
    engine.close()
    out, target = tmp_path / "out.jsonl", tmp_path / "target.db"
    assert run("export", "--db", str(store), "--out", str(out))[0] == 0
    assert run("import", str(out), "--db", str(target))[0] == 0
    moved = Engine(str(target))
    assert [m.id for m in moved.store.outbox(None, 10_000)] == still == pending[5:8] + pending[9:]
    moved.close()


def test_a_process_no_case_runs_on_travels_even_when_its_text_is_not_utf8(tmp_path):
    source = tmp_path / "source.db"
    store = SQLiteStore(source)
    text = b"process: odd\n# \xff\xfe not UTF-8\n"
    store.save_process(StoredProcess(hashlib.sha256(text).hexdigest(), "odd", 1, text))
    store.close()
    out, target = tmp_path / "out.jsonl", tmp_path / "target.db"
    assert run("export", "--db", str(source), "--out", str(out))[0] == 0
    assert "source_base64" in lines_of(out)[1]
    assert run("import", str(out), "--db", str(target))[0] == 0
    assert rows(target, "SELECT id, source FROM processes") == [("odd", text)]


# -- an upgraded format-3 store ------------------------------------------------------------------------


def test_an_upgraded_format_3_store_moves_with_its_rule_1_events_and_its_seal(store, tmp_path):
    as_format_3(store)
    code, _, err = run("export", "--db", str(store))
    assert code == 2 and "run 'complaintflow upgrade' first" in err
    assert run("upgrade", "--db", str(store), "--now", NOW)[0] == 0
    engine = Engine(str(store))  # a new case after the upgrade: hashed under rule 2
    engine.start(
        engine.load_process(MINI.encode()),
        {"customer_name": "张三", "severity": "major"},
        Actor("w", ("desk",)),
        at=at(NOW),
        case_id="new",
    )
    engine.close()
    out, target = tmp_path / "out.jsonl", tmp_path / "target.db"
    assert run("export", "--db", str(store), "--out", str(out))[0] == 0
    values = lines_of(out)
    rule2_from = int(rows(store, "SELECT value FROM meta WHERE key = 'rule2_from_pos'")[0][0])
    assert values[0]["rule2_from_pos"] == rule2_from > 1
    assert {v["hash_rule"] for v in values if v.get("type") == "event" and v["pos"] < rule2_from} == {1}
    assert [v["type"] for v in values if v.get("type") == "upgrade"] == ["upgrade"]
    assert run("import", str(out), "--db", str(target))[0] == 0
    assert rows(target, EVENT_ROWS) == rows(store, EVENT_ROWS)
    assert rows(target, "SELECT * FROM upgrades") == rows(store, "SELECT * FROM upgrades")
    assert rows(target, "SELECT value FROM meta WHERE key = 'rule2_from_pos'") == [(str(rule2_from),)]
    verified = run("verify", "--db", str(target))
    assert verified[0] == 0 and verified == run("verify", "--db", str(store))
    assert "store upgraded from format 3 to 6" in verified[1]


# -- bad input: one line, exit 2, the target unchanged ----------------------------------------------------


def refused(export: Path, tmp_path: Path) -> str:
    """The one-line refusal of importing ``export``, both into a path with no store (which stays absent) and
    into an empty store (which stays empty)."""
    absent = tmp_path / "absent.db"
    code, out, err = run("import", str(export), "--db", str(absent))
    assert (code, out, len(err.splitlines())) == (2, "", 1), err
    assert not absent.exists() and not Path(f"{absent}-wal").exists()
    empty = tmp_path / "empty.db"
    SQLiteStore(empty).close()
    before = rows(empty, "SELECT * FROM meta ORDER BY key")
    assert run("import", str(export), "--db", str(empty))[:2] == (code, out)
    for table in ("processes", "cases", "events", "upgrades", "outbox_acked"):
        assert rows(empty, f"SELECT count(*) FROM {table}") == [(0,)]
    assert rows(empty, "SELECT * FROM meta ORDER BY key") == before
    return err.removeprefix("error: ").rstrip("\n")


def test_a_file_that_is_not_an_export_is_refused(tmp_path):
    for name, text in (("mini.yaml", MINI.encode()), ("empty.jsonl", b""), ("binary", b"\xff\xfe\x00")):
        path = tmp_path / name
        path.write_bytes(text)
        assert refused(path, tmp_path) == f"{path} is not a complaintflow export (line 1 is not its header)"
    assert run("import", str(tmp_path / "missing.jsonl"), "--db", str(tmp_path / "x.db"))[0] == 2


def test_a_truncated_export_is_refused(demo_export, tmp_path):
    text = demo_export.read_bytes()
    whole_lines = tmp_path / "lines.jsonl"
    whole_lines.write_bytes(text[: text.rindex(b"\n", 0, len(text) - 1) + 1])  # the end line is gone
    count = whole_lines.read_bytes().count(b"\n")
    assert refused(whole_lines, tmp_path) == (
        f"{whole_lines} ends after line {count} without its end line: the export is truncated (export it again); "
        "nothing was imported"
    )
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(text[: len(text) // 2])
    number = cut.read_bytes().count(b"\n") + 1
    assert refused(cut, tmp_path) == (
        f"{cut}: line {number}: the line is cut short: the export is truncated (export it again); nothing was imported"
    )


def test_an_edited_line_is_refused_by_the_digest(demo_export, tmp_path):
    lines = demo_export.read_bytes().splitlines(keepends=True)
    edited = tmp_path / "edited.jsonl"
    lines[0] = lines[0].replace(b'"exported_at":', b'"exported_at":1', 1)  # no hash covers it: the digest does
    edited.write_bytes(b"".join(lines))
    assert refused(edited, tmp_path) == (
        f"{edited}: line {len(lines)}: the digest does not match the lines before it: the file was edited or "
        "damaged; nothing was imported"
    )
    after = tmp_path / "after.jsonl"
    after.write_bytes(demo_export.read_bytes() + b"{}\n")
    assert refused(after, tmp_path).startswith(f"{after}: line {len(lines) + 1}: text after the end line")


def test_a_newer_export_version_is_refused(demo_export, tmp_path):
    values = lines_of(demo_export)
    values[0]["version"] = 3
    newer = resealed(values, tmp_path / "newer.jsonl")
    assert refused(newer, tmp_path) == (
        f"{newer}: line 1: export version 3, newer than this complaintflow reads (2); upgrade complaintflow; "
        "nothing was imported"
    )


def test_an_event_whose_hash_does_not_verify_is_refused_with_its_line(demo_export, tmp_path):
    values = lines_of(demo_export)
    number, event = next((n, v) for n, v in enumerate(values, 1) if v.get("kind") == "acted")
    event["payload"] = event["payload"].replace('"state":"', '"state":"x', 1)
    edited = resealed(values, tmp_path / "edited.jsonl")
    assert refused(edited, tmp_path) == (
        f"{edited}: line {number}: case {event['case_id']} event {event['seq']} (acted): its hash does not verify "
        "(the event was altered); nothing was imported"
    )


def test_a_missing_event_is_refused(demo_export, tmp_path):
    values = lines_of(demo_export)
    number, gone = next((n, v) for n, v in enumerate(values, 1) if v.get("seq") == 2)
    following = next(n for n, v in enumerate(values, 1) if n > number and v.get("case_id") == gone["case_id"])
    del values[number - 1]
    path = resealed(values, tmp_path / "gap.jsonl")
    assert refused(path, tmp_path) == (
        f"{path}: line {following - 1}: case {gone['case_id']} event 3 does not follow event 1 (an event is missing "
        "or out of order); nothing was imported"
    )


def test_an_event_whose_process_is_missing_is_refused_and_a_process_no_event_needs_is_not(demo_export, tmp_path):
    values = lines_of(demo_export)
    started = next(v for v in values if v.get("kind") == "started")
    process_hash = json.loads(started["payload"])["process_hash"]
    without = [v for v in values if v.get("hash") != process_hash or v.get("type") != "process"]
    path = resealed(without, tmp_path / "no-process.jsonl")
    number = next(n for n, v in enumerate(without, 1) if v is started)
    assert refused(path, tmp_path) == (
        f"{path}: line {number}: case {started['case_id']} event 1: its process version {process_hash[:12]} is not "
        "in the export; nothing was imported"
    )
    # the other way round: the process stays, its cases' events go, and the rest imports and verifies
    cases = {v["case_id"] for v in values if v.get("kind") == "started" and process_hash in v["payload"]}
    kept = resealed([v for v in values if v.get("case_id") not in cases], tmp_path / "no-cases.jsonl")
    target = tmp_path / "kept.db"
    assert run("import", str(kept), "--db", str(target))[0] == 0
    assert run("verify", "--db", str(target))[:2] == (0, "history intact\n")
    assert (process_hash,) in rows(target, "SELECT hash FROM processes")


def test_an_edited_personal_value_fails_the_verify_inside_the_import_and_nothing_is_kept(tmp_path):
    source = tmp_path / "source.db"
    engine = Engine(str(source))
    engine.start(
        engine.load_process(MINI.encode()),
        {"customer_name": "李四", "severity": "general"},
        Actor("w", ("desk",)),
        at=at(NOW),
        case_id="c1",
    )
    engine.close()
    out = tmp_path / "out.jsonl"
    assert run("export", "--db", str(source), "--out", str(out))[0] == 0
    values = lines_of(out)
    event = next(v for v in values if v.get("personal"))
    event["personal"]["data.customer_name"]["value"] = "王五"  # outside the hash: only verify sees it
    edited = resealed(values, tmp_path / "edited.jsonl")
    assert refused(edited, tmp_path) == (
        f"{edited}: the imported store would not verify: case c1: event 1: started at {at(NOW)}: the personal value "
        "data.customer_name is not the one its history committed to (edited in the store); nothing was imported"
    )


def test_a_store_that_holds_anything_is_refused_unchanged(demo_export, store):
    before = rows(store, EVENT_ROWS)
    code, _, err = run("import", str(demo_export), "--db", str(store))
    assert (code, err) == (
        2,
        f"error: {store} already holds processes or cases; import into a new, empty store (nothing was imported)\n",
    )
    assert rows(store, EVENT_ROWS) == before


def test_the_memory_store_is_not_movable():
    from complaintflow.errors import UnusableInputError
    from complaintflow.store.memory import MemoryStore

    with pytest.raises(UnusableInputError, match="only an SQLite or PostgreSQL store"):
        transfer.movable(MemoryStore())


def test_an_import_into_an_sqlite_store_in_memory(demo_export, demo_store):
    engine = Engine(SQLiteStore(":memory:"))
    counts = transfer.import_export(engine, demo_export)
    assert counts.events == rows(demo_store, "SELECT count(*) FROM events")[0][0]
    from complaintflow.audit.verify import verify_store

    assert verify_store(engine) == []
    engine.close()
