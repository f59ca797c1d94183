"""Moving running cases to a newer process version (issue 12 item 6), each through a SQLite save and reload:
states kept or mapped, refusals named case by case, clocks that keep the time used and take the new budget,
the dry run that changes nothing, one event per case that replays and verifies, and bad input in one line.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import at
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sla import DESK, HEAD, SLA, engine_on, open_handling, reopened

import cli
from complaintflow import Engine
from complaintflow.calendar import BusinessCalendar
from complaintflow.language.check import load_process_bytes
from complaintflow.runtime.clocks import view
from complaintflow.runtime.errors import MigrationRefusedError
from complaintflow.runtime.fold import replay
from complaintflow.store.base import ConflictError

V2 = SLA.replace("version: 1", "version: 2")
LOOSER = V2.replace("within: 4wh", "within: 6wh").replace("within: 8h}", "within: 10h}")
TIGHTER = V2.replace("within: 8h}", "within: 30m}")
RENAMED = (
    V2.replace("  waiting: {title: {zh: 等待客户}, pause: true}", "  on_hold: {title: {zh: 挂起}, pause: true}")
    .replace("to: waiting", "to: on_hold")
    .replace("from: waiting", "from: on_hold")
)
NO_APPOINTMENT = V2.replace("  appointment_time: {type: datetime}\n", "").replace(
    '  visit: {title: {zh: 预约前5分钟}, start: handling, at: "appointment_time - 5m"}\n', ""
)
FOLLOW_REMOVED_REVIEW_ADDED = V2.replace(
    "  follow: {title: {zh: 派单后2小时跟进}, start: handling, within: 2h, reminder: true}\n",
    "  review: {title: {zh: 1小时内复核}, start: handling, within: 1h}\n",
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "migrate.db"


def spec_of(text: str):  # noqa: ANN201 - a Process
    return load_process_bytes(text.encode())


def deployed(db: Path, text: str) -> tuple[Engine, object]:
    engine = reopened(db)
    return engine, engine.load_process(text.encode())


def rows(db: Path) -> tuple[list[tuple], list[tuple], list[tuple]]:
    with sqlite3.connect(db) as con:
        return (
            con.execute("SELECT * FROM cases ORDER BY id").fetchall(),
            con.execute("SELECT * FROM events ORDER BY pos").fetchall(),
            con.execute("SELECT hash, version FROM processes ORDER BY version").fetchall(),
        )


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_case_keeps_its_state_moves_to_the_new_hash_and_replays_to_its_row(db: Path) -> None:
    cid = open_handling(db)
    engine, new = deployed(db, LOOSER)
    old_hash = engine.case(cid).process_hash
    plan = engine.migrate(cid, new, at=at("2026-11-06 17:00"))
    engine.close()
    engine = reopened(db)
    case = engine.case(cid)
    assert (case.state, case.process_hash) == ("handling", new.content_hash) != ("handling", old_hash)
    event = engine.history(cid)[-1]
    assert event.kind == "migrated" and plan.events[-1] == event
    assert (event.payload["from_hash"], event.payload["to_hash"]) == (old_hash, new.content_hash)
    assert event.payload["clocks"] == case.clocks and event.payload["state_map"] == {}
    rebuilt = replay(engine.compiled(case.process_hash), engine.history(cid))
    assert rebuilt is not None and rebuilt.process_hash == new.content_hash
    assert (rebuilt.state, rebuilt.clocks, rebuilt.next_due) == (case.state, case.clocks, case.next_due)
    assert engine.verify() == []
    # the case runs on v2 from now on: its actions and ticks read the new rules
    engine.act(cid, "close", HEAD, at=at("2026-11-06 17:30"))
    assert engine.verify() == []


def test_a_mapped_state_moves_there_and_its_pause_goes_on(db: Path) -> None:
    cid = open_handling(db)
    engine = reopened(db)
    engine.act(cid, "ask", HEAD, at=at("2026-11-06 17:00"))  # waiting pauses the clocks; 1 working hour used
    engine.close()
    engine, new = deployed(db, RENAMED)
    with pytest.raises(MigrationRefusedError, match="its state 'waiting' is not in v2; map it with --map waiting="):
        engine.migrate(cid, new, at=at("2026-11-06 17:30"))
    assert engine.case(cid).process_hash != new.content_hash  # the refusal changed nothing
    engine.migrate(cid, new, at=at("2026-11-06 17:30"), state_map={"waiting": "on_hold"})
    engine.close()
    engine = reopened(db)
    case = engine.case(cid)
    assert case.state == "on_hold" and case.clocks["work"]["paused_at"] == at("2026-11-06 17:00")
    assert engine.history(cid)[-1].payload["state_map"] == {"waiting": "on_hold"}
    after = engine.act(cid, "answer", DESK, at=at("2026-11-09 10:00"))  # the v2 action out of on_hold
    assert after.clocks["work"]["due"] == at("2026-11-09 13:00")  # paused 17:00 Fri -> 10:00 Mon, as before
    assert engine.verify() == []


def test_a_loosened_budget_keeps_the_time_used_and_moves_the_due_by_the_difference(db: Path) -> None:
    cid = open_handling(db)  # Fri 16:00: work 4wh due Mon 11:00, wall 8h due Sat 00:00
    engine, new = deployed(db, LOOSER)
    before = engine.case(cid).clocks
    now = at("2026-11-06 17:00")
    cp = engine.compiled(engine.case(cid).process_hash)
    used_before = view(cp, cp.spec.deadlines["work"], before["work"], now).used
    engine.migrate(cid, new, at=now)
    engine.close()
    engine = reopened(db)
    case = engine.case(cid)
    assert case.clocks["wall"]["due"] - before["wall"]["due"] == 2 * 3600  # 8h -> 10h
    assert case.clocks["work"]["due"] == at("2026-11-09 13:00")  # 4wh -> 6wh: two working hours later
    cp2 = engine.compiled(case.process_hash)
    work = view(cp2, cp2.spec.deadlines["work"], case.clocks["work"], now)
    assert (work.used, work.remaining, work.budget) == (used_before, 5 * 3600, "6wh")


def test_a_working_time_deadline_takes_its_new_budget_across_a_weekend(db: Path) -> None:
    cid = open_handling(db)  # 4wh from Friday 16:00: two working hours on Friday, the rest on Monday
    engine = reopened(db)
    engine.act(cid, "ask", HEAD, at=at("2026-11-06 17:00"))
    engine.act(cid, "answer", DESK, at=at("2026-11-06 17:30"))  # half an hour paused on Friday
    engine.close()
    two_hours = V2.replace("within: 4wh", "within: 2wh")
    engine, new = deployed(db, two_hours)
    plan = engine.migrate(cid, new, at=at("2026-11-07 12:00"))  # a Saturday: no working time passes
    work = next(c for c in plan.clocks if c.deadline == "work")
    # 2 working hours from Friday 16:00, pushed out by the 30 minutes paused: Monday 09:30, not Saturday
    assert (work.old_due, work.new_due) == (at("2026-11-09 11:30"), at("2026-11-09 09:30"))
    assert not work.breaches_next_tick
    engine.close()
    engine = reopened(db)
    assert [e.payload.get("deadline") for e in plan.fired] == ["follow", "wall"]  # ran out on v1, fired first
    early = engine.tick(at("2026-11-09 09:29"))
    assert [(e.kind, e.at) for e in early] == [("deadline_warning", at("2026-11-09 09:00"))]  # 30m before, re-armed
    assert [e.at for e in engine.tick(at("2026-11-09 09:30")) if e.payload.get("deadline") == "work"] == [
        at("2026-11-09 09:30")
    ]


def test_a_tightened_deadline_already_past_breaches_at_the_next_tick(db: Path) -> None:
    cid = open_handling(db)
    engine, new = deployed(db, TIGHTER)
    now = at("2026-11-06 17:00")
    dry = engine.plan_migration(cid, new, at=now)
    wall = next(c for c in dry.clocks if c.deadline == "wall")
    assert (wall.new_due, wall.breaches_next_tick) == (at("2026-11-06 16:30"), True)
    assert not next(c for c in dry.clocks if c.deadline == "work").breaches_next_tick
    engine.migrate(cid, new, at=now)
    engine.close()
    engine = reopened(db)
    breached = [e for e in engine.tick(now + 1) if e.kind == "deadline_breached"]
    assert [(e.payload["deadline"], e.payload["due"], e.at) for e in breached] == [
        ("wall", at("2026-11-06 16:30"), now)
    ]
    assert engine.verify() == []


def test_what_ran_out_on_the_old_version_is_recorded_before_the_move(db: Path) -> None:
    cid = open_handling(db)  # wall 8h falls Saturday 00:00 on v1
    engine, new = deployed(db, LOOSER)
    plan = engine.migrate(cid, new, at=at("2026-11-07 01:00"))
    kinds = [(e.kind, e.payload.get("deadline")) for e in plan.events]
    assert ("deadline_breached", "wall") in kinds and kinds[-1] == ("migrated", None)
    assert engine.case(cid).clocks["wall"]["breached"] is True  # a breach stays a breach on the new version
    assert engine.verify() == []


def test_a_removed_deadline_ends_its_clock_and_a_new_one_starts_at_the_migration(db: Path) -> None:
    cid = open_handling(db)
    engine, new = deployed(db, FOLLOW_REMOVED_REVIEW_ADDED)
    now = at("2026-11-06 16:20")
    plan = engine.migrate(cid, new, at=now)
    fates = {c.deadline: c.fate for c in plan.clocks}
    assert (fates["follow"], fates["review"], fates["work"]) == ("ended", "started", "kept")
    engine.close()
    engine = reopened(db)
    case = engine.case(cid)
    assert "follow" not in case.clocks and engine.history(cid)[-1].payload["ended"] == ["follow"]
    assert (case.clocks["review"]["started"], case.clocks["review"]["due"]) == (now, now + 3600)
    assert engine.verify() == []


def test_a_removed_field_holding_a_value_is_refused_and_an_empty_one_is_not(db: Path) -> None:
    with_value = open_handling(db, appointment_time="2026-11-06 18:00")
    without = open_handling(db)
    engine, new = deployed(db, NO_APPOINTMENT)
    with pytest.raises(MigrationRefusedError, match="its field 'appointment_time' holds a value, and v2 removes"):
        engine.migrate(with_value, new, at=at("2026-11-06 16:10"))
    assert engine.migrate(without, new, at=at("2026-11-06 16:10")).row is not None
    assert engine.verify() == []


def test_a_case_that_changed_since_it_was_read_is_refused_with_a_conflict(db: Path) -> None:
    cid = open_handling(db)
    engine, new = deployed(db, LOOSER)
    read = engine.case(cid).revision
    engine.act(cid, "ask", HEAD, at=at("2026-11-06 16:30"))
    with pytest.raises(ConflictError, match="changed since it was read"):
        engine.migrate(cid, new, at=at("2026-11-06 17:00"), expected_revision=read)
    assert engine.case(cid).process_hash != new.content_hash


def test_the_dry_run_prints_each_case_and_changes_no_byte(db: Path, tmp_path: Path) -> None:
    moving = open_handling(db)
    engine = reopened(db)
    waiting = open_handling(db)
    engine.act(waiting, "ask", HEAD, at=at("2026-11-06 16:30"))
    old_hash = engine.case(moving).process_hash
    engine.close()
    target = tmp_path / "v2.yaml"
    target.write_text(TIGHTER.replace("within: 4wh", "within: 6wh"), encoding="utf-8")
    before, digest = rows(db), hashlib.sha256(db.read_bytes()).hexdigest()
    base = ["migrate", "--to", str(target), "--all-of", old_hash[:12], "--db", str(db), "--now", "2026-11-06 17:00"]
    code, out, err = run(*base, "--dry-run")
    assert code == 0, err
    assert f"{moving}: sla v1 -> v2, handling -> handling" in out
    assert "  wall: due 2026-11-07 00:00 -> 2026-11-06 16:30 (will breach at next tick)" in out
    assert "  work: due 2026-11-09 11:00 -> 2026-11-09 13:00\n" in out
    assert f"{waiting}: sla v1 -> v2, waiting -> waiting" in out
    assert "would migrate 2, would refuse 0" in err and "dry run: nothing was changed" in err
    assert rows(db) == before and hashlib.sha256(db.read_bytes()).hexdigest() == digest
    code, out, err = run(*base)
    assert code == 0, err
    assert "[1/2]" in err and "[2/2]" in err and "migrated 2, refused 0" in err
    assert rows(db) != before
    assert run("verify", "--db", str(db))[0] == 0


def test_all_of_moves_case_by_case_and_names_each_refusal(db: Path, tmp_path: Path) -> None:
    moving = open_handling(db)
    engine = reopened(db)
    waiting = open_handling(db)
    engine.act(waiting, "ask", HEAD, at=at("2026-11-06 16:30"))
    old_hash = engine.case(moving).process_hash
    engine.close()
    target = tmp_path / "v2.yaml"
    target.write_text(RENAMED, encoding="utf-8")
    base = ["migrate", "--to", str(target), "--all-of", old_hash, "--db", str(db), "--now", "2026-11-06 17:00"]
    code, out, err = run(*base)
    assert code == 1
    assert f"[1/2] {waiting}: refused" in err or f"[2/2] {waiting}: refused" in err
    assert f"migrated 1, refused 1\n  {waiting}: its state 'waiting' is not in v2; map it with --map waiting=" in err
    engine = reopened(db)
    assert engine.case(moving).process_hash != old_hash and engine.case(waiting).process_hash == old_hash
    code, out, err = run(*base, "--map", "waiting=on_hold")  # the one left behind, now with a map
    assert code == 0 and "migrated 1, refused 0" in err and f"{waiting}: sla v1 -> v2, waiting -> on_hold" in out
    assert run("verify", "--db", str(db))[0] == 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda cid, path: ["--case", "nope", "--to", path], "error: no case 'nope' in this store\n"),
        (lambda cid, path: ["--case", cid, "--to", "shopping_mall"], "the case runs process 'sla'"),
        (lambda cid, path: ["--case", cid, "--to", path, "--map", "waiting"], "--map waiting: expected OLD=NEW"),
        (lambda cid, path: ["--case", cid, "--to", path, "--map", "gone=handling"], "v1 has no state 'gone'"),
        (lambda cid, path: ["--case", cid, "--to", path, "--map", "waiting=gone"], "v2 has no state 'gone'"),
        (lambda cid, path: ["--to", path], "say which cases: --case ID or --all-of HASH"),
        (lambda cid, path: ["--all-of", "ffff", "--to", path], "--all-of ffff: no stored version has that hash"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(db: Path, tmp_path: Path, change, expected: str) -> None:
    cid = open_handling(db)
    target = tmp_path / "v2.yaml"
    target.write_text(LOOSER, encoding="utf-8")
    before = rows(db)
    code, out, err = run("migrate", *change(cid, str(target)), "--db", str(db), "--now", "2026-11-06 17:00")
    assert (code, out, err.count("\n")) == (2, "", 1), err
    assert expected in err and "Traceback" not in err
    assert rows(db) == before


def test_a_lower_or_equal_version_is_refused_as_bad_input(db: Path, tmp_path: Path) -> None:
    cid = open_handling(db)
    engine, new = deployed(db, LOOSER)
    engine.migrate(cid, new, at=at("2026-11-06 17:00"))
    engine.close()
    older = tmp_path / "v1.yaml"
    older.write_text(SLA, encoding="utf-8")
    before = rows(db)
    code, out, err = run("migrate", "--case", cid, "--to", str(older), "--db", str(db), "--now", "2026-11-06 17:10")
    assert (code, err) == (2, "error: process 'sla' v1 is not newer than v2; raise 'version:' in the new file\n")
    assert rows(db) == before
    with pytest.raises(Exception, match="not newer"):
        reopened(db).plan_migration(cid, spec_of(LOOSER), at=at("2026-11-06 17:10"))


def test_history_describes_each_event_in_the_words_of_its_version(db: Path) -> None:
    cid = open_handling(db)
    engine = reopened(db)
    engine.act(cid, "ask", HEAD, at=at("2026-11-06 16:30"))
    engine.close()
    engine, new = deployed(db, RENAMED)
    engine.migrate(cid, new, at=at("2026-11-06 17:00"), state_map={"waiting": "on_hold"})
    engine.close()
    code, out, _ = run("history", cid, "--db", str(db))
    assert code == 0
    assert "询问 [ask]: 处理中 → 等待客户" in out  # the v1 title of the state it went to then
    assert "⇄ moved to v2 of sla (waiting → on_hold)" in out


def test_a_second_engine_sees_the_moved_case_on_its_new_version(db: Path) -> None:
    cid = open_handling(db)
    engine, new = deployed(db, LOOSER)
    engine.migrate(cid, new, at=at("2026-11-06 17:00"))
    other, _ = engine_on(db)  # a fresh engine, as a new CLI call: it compiles v2 from the store
    assert other.compiled(other.case(cid).process_hash).spec.version == 2
    assert other.verify() == []


def test_over_the_demo_store_the_real_run_changes_exactly_what_the_dry_run_listed(tmp_path: Path) -> None:
    from complaintflow.resources import processes_dir

    store = tmp_path / "demo.db"
    assert run("demo", "--db", str(store))[0] == 0
    text = (processes_dir() / "property_management.yaml").read_text(encoding="utf-8")
    edited = text.replace("version: 1", "version: 2", 1).replace(
        "deadlines:\n", "deadlines:\n  recheck: {title: {zh: 1小时内复核}, start: classifying, within: 1h}\n", 1
    )
    target = tmp_path / "pm2.yaml"
    target.write_text(edited, encoding="utf-8")
    assert edited != text
    old_hash = next(h for h, _ in rows(store)[2] if _process_id(store, h) == "property_management")
    base = ["migrate", "--to", str(target), "--all-of", old_hash, "--db", str(store), "--now", "2025-09-29 18:00"]
    before = rows(store)
    code, planned, _ = run(*base, "--dry-run")
    assert code == 0 and rows(store) == before
    assert "  recheck: starts now, due 2025-09-29 19:00" in planned
    code, done, err = run(*base)
    assert (code, done) == (0, planned), err  # the move printed, and made, what the dry run listed
    moved = [line.split(":")[0] for line in planned.splitlines() if not line.startswith(" ")]
    changed = {row[0] for row in rows(store)[0]} - {row[0] for row in rows(store)[0] if row in before[0]}
    assert moved and changed == set(moved)
    assert run("verify", "--db", str(store))[:2] == (0, "history intact\n")


def _process_id(store: Path, content_hash: str) -> str:
    with sqlite3.connect(store) as con:
        return str(con.execute("SELECT id FROM processes WHERE hash=?", (content_hash,)).fetchone()[0])


def test_a_removed_role_holding_the_case_and_a_value_the_new_field_refuses_are_named(db: Path) -> None:
    cid = open_handling(db, appointment_time="2026-11-06 18:00")  # held by head once dispatched
    engine, new = deployed(
        db, NO_APPOINTMENT.replace("head", "lead").replace("fields:\n", "fields:\n  appointment_time: {type: number}\n")
    )
    with pytest.raises(MigrationRefusedError) as refused:
        engine.migrate(cid, new, at=at("2026-11-06 16:10"))
    assert [r.split(" (")[0] for r in refused.value.reasons] == [
        "its field 'appointment_time' holds a value v2 does not accept",
        "it is held by role 'head', which v2 removes; reassign it first",
    ]
    assert engine.case(cid).process_hash != new.content_hash


def test_an_extension_is_carried_over_onto_the_new_budget(db: Path) -> None:
    from complaintflow.language.durations import parse_duration

    cid = open_handling(db)
    engine = reopened(db)
    engine.extend(cid, "work", HEAD, at=at("2026-11-06 17:00"), reason="等配件", add=parse_duration("2wh"))
    assert engine.case(cid).clocks["work"]["due"] == at("2026-11-09 13:00")
    engine.close()
    engine, new = deployed(db, LOOSER)
    plan = engine.migrate(cid, new, at=at("2026-11-06 17:30"))  # 4wh -> 6wh, and the 2wh given stays given
    assert next(c.new_due for c in plan.clocks if c.deadline == "work") == at("2026-11-09 15:00")
    assert engine.verify() == []


DAILY = SLA.replace(
    "  plan: {title",
    "  daily: {title: {zh: 每天17:00前汇报}, start: handling, stop: closed, every: daily 17:00}\n  plan: {title",
)


def test_a_repeating_deadline_given_a_new_rule_waits_for_its_next_occurrence(db: Path) -> None:
    engine, spec = engine_on(db, DAILY)
    case = engine.start(spec, {"severity": "general"}, DESK, at=at("2026-11-06 10:00"))
    engine.act(case.id, "dispatch", DESK, at=at("2026-11-06 10:00"))
    engine.close()
    engine, new = deployed(db, DAILY.replace("version: 1", "version: 2").replace("daily 17:00", "daily 12:00"))
    plan = engine.migrate(case.id, new, at=at("2026-11-06 13:00"))
    daily = next(c for c in plan.clocks if c.deadline == "daily")
    assert (daily.old_due, daily.new_due) == (at("2026-11-06 17:00"), at("2026-11-09 12:00"))  # Monday's noon
    assert engine.verify() == []


def test_a_closed_case_keeps_the_version_it_ran_on(db: Path, tmp_path: Path) -> None:
    cid = open_handling(db)
    engine = reopened(db)
    engine.act(cid, "close", HEAD, at=at("2026-11-06 16:30"))
    engine.close()
    target = tmp_path / "v2.yaml"
    target.write_text(LOOSER, encoding="utf-8")
    before = rows(db)
    code, out, err = run("migrate", "--to", str(target), "--case", cid, "--db", str(db), "--now", "2026-11-06 17:00")
    assert code == 1 and f"{cid}: sla v1 -> v2: refused: it is closed (in 'closed'); a closed case keeps" in out
    assert "final" not in out  # the one reason, not what its state would be
    assert rows(db) == before  # not even the new version is stored when no case moves


SPLIT = """\
process: split
version: 1
title: {zh: 并行}
calendar: office
calendars:
  office: {weekdays: [mon, tue, wed, thu, fri], hours: ["09:00-18:00"], statutory: none}
roles:
  desk: {title: {zh: 前台}}
states:
  received: {title: {zh: 受理}, initial: true, owner: desk}
  both: {title: {zh: 并行处理}, owner: desk, branches: [left, right]}
  left_open: {title: {zh: 左开}, branch: left, initial: true}
  left_done: {title: {zh: 左完}, branch: left, final: true}
  right_open: {title: {zh: 右开}, branch: right, initial: true}
  right_done: {title: {zh: 右完}, branch: right, final: true}
  closed: {title: {zh: 结案}, final: true}
actions:
  split: {title: {zh: 分头处理}, from: received, to: both, roles: [desk]}
  left: {title: {zh: 左}, from: left_open, to: left_done, roles: [desk]}
  right: {title: {zh: 右}, from: right_open, to: right_done, roles: [desk]}
  join: {title: {zh: 汇总}, from: both, to: closed, roles: [desk]}
deadlines:
  left_in_1h: {title: {zh: 左1小时}, start: left_open, within: 1h}
"""


def test_each_branch_state_of_a_parallel_state_must_exist_or_be_mapped(db: Path) -> None:
    engine = Engine(db)
    spec = engine.load_process(SPLIT.encode())
    case = engine.start(spec, {}, DESK, at=at("2026-11-06 10:00"))
    engine.act(case.id, "split", DESK, at=at("2026-11-06 10:00"))
    renamed = SPLIT.replace("version: 1", "version: 2").replace("left_open", "left_todo")
    new = engine.load_process(renamed.encode())
    with pytest.raises(MigrationRefusedError, match="its state 'left_open' is not in v2"):
        engine.migrate(case.id, new, at=at("2026-11-06 10:30"))
    with pytest.raises(MigrationRefusedError, match="branch 'left' would be in 'right_open'"):
        engine.migrate(case.id, new, at=at("2026-11-06 10:30"), state_map={"left_open": "right_open"})
    plan = engine.migrate(case.id, new, at=at("2026-11-06 10:30"), state_map={"left_open": "left_todo"})
    assert dict(plan.new_branches) == {"left": "left_todo", "right": "right_open"}
    assert next(c.fate for c in plan.clocks if c.deadline == "left_in_1h") == "kept"
    engine.act(case.id, "left", DESK, at=at("2026-11-06 10:40"))  # v2's action out of the mapped state
    assert engine.verify() == []


def test_the_memory_store_moves_a_case_too() -> None:
    from complaintflow.store.memory import MemoryStore

    engine = Engine(MemoryStore())
    spec = engine.load_process(SLA.encode())
    case = engine.start(spec, {"severity": "general"}, DESK, at=at("2026-11-06 16:00"))
    engine.act(case.id, "dispatch", DESK, at=at("2026-11-06 16:00"))
    new = engine.load_process(LOOSER.encode())
    engine.migrate(case.id, new, at=at("2026-11-06 17:00"))
    assert engine.case(case.id).process_hash == new.content_hash and engine.verify() == []


START = st.integers(min_value=at("2026-11-02 00:00"), max_value=at("2026-11-20 00:00"))
LATER = st.integers(min_value=0, max_value=3 * 3600)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=START, after=LATER, paused=LATER)
def test_a_loosened_budget_moves_each_due_by_the_difference_in_its_own_time(
    tmp_path_factory: pytest.TempPathFactory, start: int, after: int, paused: int
) -> None:
    store = tmp_path_factory.mktemp("loosen") / "m.db"
    engine, spec = engine_on(store)
    case = engine.start(spec, {"severity": "general"}, DESK, at=start)
    engine.act(case.id, "dispatch", DESK, at=start)
    engine.act(case.id, "ask", HEAD, at=start + 60)
    engine._fire_case_timers = lambda case_id, at: None  # keep the breaches out: only the dues are measured
    before = engine.act(case.id, "answer", DESK, at=start + 60 + paused).clocks
    new = engine.load_process(LOOSER.encode())
    now = start + 60 + paused + after
    plan = engine.plan_migration(case.id, new, at=now)
    moved = {c.deadline: c.new_due for c in plan.clocks}
    office = BusinessCalendar.compile(spec.calendars["office"], spec.timezone)
    assert moved["wall"] - before["wall"]["due"] == 2 * 3600  # 8h -> 10h, whatever was paused or used
    assert office.working_seconds_between(before["work"]["due"], moved["work"]) == 2 * 3600  # 4wh -> 6wh
    engine.close()
