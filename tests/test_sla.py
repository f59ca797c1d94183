"""SLA clocks on a simulated clock, each through a SQLite save and reload: the clock model (budget,
used, left, a ledger of pauses), warnings at shares of the budget, and the deadlines the seeds need
(immediate, a daily cut-off, reminders, guards, re-classifying escalations, a time read from a field).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import at, ids
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaintflow import Actor, Engine
from complaintflow.calendar import BusinessCalendar
from complaintflow.language.check import load_process_bytes
from complaintflow.language.diff import diff
from complaintflow.resources import processes_dir
from complaintflow.runtime.clocks import desired_timers, view
from complaintflow.runtime.decide import decide_timer

DESK = Actor("wang", ("desk",))
HEAD = Actor("li", ("head",))

SLA = """\
process: sla
version: 1
title: {zh: 时限}
calendar: office
calendars:
  office: {weekdays: [mon, tue, wed, thu, fri], hours: ["09:00-18:00"], statutory: none}
roles:
  desk: {title: {zh: 前台}}
  head: {title: {zh: 负责人}}
fields:
  severity: {type: enum, values: [general, major], required: true}
  appointment_time: {type: datetime}
  status: {type: enum, values: [open, done]}
states:
  received: {title: {zh: 受理}, initial: true, owner: desk}
  handling: {title: {zh: 处理中}, owner: head}
  waiting: {title: {zh: 等待客户}, pause: true}
  closed: {title: {zh: 结案}, final: true}
actions:
  dispatch: {title: {zh: 派单}, from: received, to: handling, roles: [desk], set: {status: open}}
  ask: {title: {zh: 询问}, from: handling, to: waiting, roles: [head]}
  answer: {title: {zh: 答复}, from: waiting, to: handling, roles: [desk]}
  close: {title: {zh: 结案}, from: [received, handling], to: closed, roles: [head], set: {status: done}}
deadlines:
  plan: {title: {zh: 立即制定方案}, start: received, within: immediately}
  work:
    title: {zh: 4工作小时内处理}
    start: handling
    stop: closed
    within: 4wh
    warn_at: [50%, 75%]
    warn_before: 30m
    extend_by: [head]
  wall: {title: {zh: 8小时内处理}, start: handling, stop: closed, within: 8h}
  follow: {title: {zh: 派单后2小时跟进}, start: handling, within: 2h, reminder: true}
  major_only:
    title: {zh: 重大投诉1小时}
    start: handling
    within: 1h
    guard: "severity == 'major'"
    escalation: raise
  visit: {title: {zh: 预约前5分钟}, start: handling, at: "appointment_time - 5m"}
escalations:
  raise:
    title: {zh: 升级}
    steps:
      - {role: head, do: notify, set: {severity: major}}
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "sla.db"


_CASE_IDS = ids()  # one sequence for the whole module: two cases in one store never share an id


def engine_on(db: Path, source: str = SLA) -> tuple[Engine, object]:
    """A fresh engine on the store file, as a new CLI call would make: everything read back from disk."""
    engine = Engine(db, new_case_id=_CASE_IDS)
    return engine, engine.load_process(source.encode())


def reopened(db: Path) -> Engine:
    return Engine(db, new_case_id=ids("x"))


def kinds(engine: Engine, case_id: str) -> list[tuple[str, str]]:
    return [(e.kind, e.payload.get("deadline", e.payload.get("action", ""))) for e in engine.history(case_id)]


def open_handling(db: Path, severity: str = "general", **data: str) -> str:
    engine, spec = engine_on(db)
    case = engine.start(spec, {"severity": severity, **data}, DESK, at=at("2026-11-06 16:00"))  # a Friday
    engine.act(case.id, "dispatch", DESK, at=at("2026-11-06 16:00"))
    engine.close()
    return case.id


# -- item 2: the clock model -----------------------------------------------------------------------


def test_case_shows_budget_used_left_due_and_paused_since(db: Path) -> None:
    cid = open_handling(db)
    engine = reopened(db)
    engine.act(cid, "ask", HEAD, at=at("2026-11-06 17:00"))  # 1 working hour used, then waiting
    engine.close()
    engine = reopened(db)
    case = engine.case(cid)
    cp = engine.compiled(case.process_hash)
    work = view(cp, cp.spec.deadlines["work"], case.clocks["work"], at("2026-11-09 10:00"))
    assert (work.budget, work.counts, work.used, work.remaining) == ("4wh", "working", 3600, 3 * 3600)
    assert (work.status, work.paused_since) == ("paused", at("2026-11-06 17:00"))
    engine.act(cid, "answer", DESK, at=at("2026-11-09 10:00"))  # paused 17:00 Fri -> 10:00 Mon: 2 working hours
    engine.close()
    engine = reopened(db)
    case = engine.case(cid)
    assert case.clocks["work"]["pauses"] == [[at("2026-11-06 17:00"), at("2026-11-09 10:00")]]
    work = view(cp, cp.spec.deadlines["work"], case.clocks["work"], at("2026-11-09 11:00"))
    assert (work.used, work.remaining, work.paused_since) == (2 * 3600, 2 * 3600, None)
    assert work.due == at("2026-11-09 13:00")
    wall = view(cp, cp.spec.deadlines["wall"], case.clocks["wall"], at("2026-11-09 11:00"))
    assert (wall.counts, wall.used) == ("wall", 2 * 3600)  # 1h before the pause, 1h after it
    assert engine.verify() == []


def test_case_command_prints_the_clock_in_text_and_json(db: Path) -> None:
    import json

    from click.testing import CliRunner

    import cli

    cid = open_handling(db)
    runner = CliRunner()
    args = ["case", cid, "--db", str(db), "--now", "2026-11-06 17:00"]
    text = runner.invoke(cli.main, args).output
    assert "work: budget 4wh (working time), used 1h00m, left 3h00m" in text
    data = json.loads(runner.invoke(cli.main, [*args, "--format", "json"]).output)
    work = next(d for d in data["deadlines"] if d["deadline"] == "work")
    assert (work["used"], work["remaining"], work["due"]) == (3600, 3 * 3600, at("2026-11-09 11:00"))


def test_an_old_clock_row_without_the_new_keys_still_reads() -> None:
    spec = load_process_bytes(SLA.encode())
    from complaintflow.runtime.machine import compile_process

    cp = compile_process(spec)
    old = {"started": 0, "due": 7200, "provisional": False, "warn": None, "warned": False, "breached": False}
    old |= {"misses": 0, "step": 0, "step_due": None, "paused_at": None}
    assert view(cp, spec.deadlines["wall"], old, 3600).remaining == 3600
    assert [t.kind for t in desired_timers("c", {"wall": old})] == ["breach"]


PAUSE_START = st.integers(min_value=at("2026-11-02 00:00"), max_value=at("2026-11-20 00:00"))
PAUSE_LENGTH = st.integers(min_value=0, max_value=5 * 86400)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=PAUSE_START, length=PAUSE_LENGTH)
def test_a_pause_moves_wall_clocks_by_its_length_and_working_clocks_by_the_working_time_inside(
    tmp_path_factory: pytest.TempPathFactory, start: int, length: int
) -> None:
    db = tmp_path_factory.mktemp("pause") / "p.db"
    engine, spec = engine_on(db)
    opened = start - 60
    case = engine.start(spec, {"severity": "general"}, DESK, at=opened)
    engine.act(case.id, "dispatch", DESK, at=opened)
    before = engine.case(case.id).clocks
    engine.act(case.id, "ask", HEAD, at=start)
    engine.close()
    engine = reopened(db)
    engine._fire_case_timers = lambda case_id, at: None  # keep the breaches out: only the shift is measured
    after = engine.act(case.id, "answer", DESK, at=start + length).clocks
    office = BusinessCalendar.compile(spec.calendars["office"], spec.timezone)
    assert after["wall"]["due"] - before["wall"]["due"] == length
    inside = office.working_seconds_between(start, start + length)
    moved = office.working_seconds_between(before["work"]["due"], after["work"]["due"])
    assert moved == inside
    engine.close()


def test_a_pause_over_a_weekend_moves_a_working_hours_clock_by_nothing(db: Path) -> None:
    cid = open_handling(db)
    engine = reopened(db)
    due = engine.case(cid).clocks["work"]["due"]
    engine.act(cid, "ask", HEAD, at=at("2026-11-06 18:00"))
    engine.close()
    engine = reopened(db)
    after = engine.act(cid, "answer", DESK, at=at("2026-11-09 09:00")).clocks
    assert after["work"]["due"] == due
    assert after["wall"]["due"] > due


# -- item 3: warnings ---------------------------------------------------------------------------


def test_warnings_at_shares_and_before_fire_once_each_through_ticks_and_reloads(db: Path) -> None:
    open_handling(db)  # 4wh from Fri 16:00: due Mon 11:00; 50% Fri 18:00, 75% Mon 10:00, 30m before 10:30
    fired = []
    for now in ("2026-11-06 18:00", "2026-11-06 18:00", "2026-11-09 10:15", "2026-11-09 10:45", "2026-11-09 10:50"):
        engine = reopened(db)
        fired += [(e.at, e.payload["deadline"]) for e in engine.tick(at(now)) if e.kind == "deadline_warning"]
        engine.close()
    warnings = [t for t, d in fired if d == "work"]
    assert warnings == [at("2026-11-06 18:00"), at("2026-11-09 10:00"), at("2026-11-09 10:30")]
    engine = reopened(db)
    outbox = [m for m in engine.store.outbox(None, 1000) if m.message["kind"] == "deadline_warning"]
    assert [m.at for m in outbox if m.message["payload"]["deadline"] == "work"] == warnings
    assert engine.verify() == []


def test_warnings_due_with_the_breach_come_before_it(db: Path) -> None:
    cid = open_handling(db)
    engine = reopened(db)
    engine.tick(at("2026-11-09 12:00"))
    work = [k for k, d in kinds(engine, cid) if d == "work"]
    assert work == ["deadline_warning"] * 3 + ["deadline_breached"]


# -- item 7: the deadlines the seeds need ---------------------------------------------------------


def test_an_immediate_deadline_is_breached_by_the_first_tick_after_entry(db: Path) -> None:
    engine, spec = engine_on(db)
    late = engine.start(spec, {"severity": "general"}, DESK, at=at("2026-11-06 16:00"))
    on_time = engine.start(spec, {"severity": "general"}, DESK, at=at("2026-11-06 16:00"))
    engine.act(on_time.id, "dispatch", DESK, at=at("2026-11-06 16:00"))  # the same instant meets it
    engine.close()
    engine = reopened(db)
    fired = engine.tick(at("2026-11-06 16:01"))
    assert [(e.case_id, e.kind) for e in fired if e.payload.get("deadline") == "plan"] == [
        (late.id, "deadline_breached")
    ]
    met = [e.payload for e in engine.history(on_time.id) if e.kind == "deadline_met"]
    assert met[0]["on_time"] is True


def test_a_reminder_reminds_once_and_never_breaches(db: Path) -> None:
    cid = open_handling(db)
    engine = reopened(db)
    engine.tick(at("2026-11-06 18:00"))
    engine.tick(at("2026-11-06 19:00"))
    follow = [(e.kind, e.payload.get("reminder")) for e in engine.history(cid) if e.payload.get("deadline") == "follow"]
    assert follow == [("deadline_warning", True)]
    assert [e.message["payload"].get("reminder") for e in engine.store.outbox(None, 100)].count(True) == 1
    assert "follow" not in [t.deadline for t in engine.timers(cid)]
    from complaintflow.runtime.clocks import is_late

    follow_clock = engine.case(cid).clocks["follow"]
    assert not is_late(follow_clock, at("2026-11-06 19:00"))  # reports and the desk do not count it late
    assert is_late({**follow_clock, "reminder": False}, at("2026-11-06 19:00"))


def test_a_guarded_deadline_is_armed_only_when_its_condition_holds(db: Path) -> None:
    general = open_handling(db)
    major = open_handling(db, "major")
    engine = reopened(db)
    assert "major_only" not in engine.case(general).clocks
    assert "major_only" in engine.case(major).clocks


def test_an_escalation_step_reclassifies_the_case_and_replay_agrees(db: Path) -> None:
    engine, spec = engine_on(db, SLA.replace("guard: \"severity == 'major'\"", "guard: \"severity != 'major'\""))
    case = engine.start(spec, {"severity": "general"}, DESK, at=at("2026-11-06 16:00"))
    engine.act(case.id, "dispatch", DESK, at=at("2026-11-06 16:00"))
    engine.close()
    engine = reopened(db)
    engine.tick(at("2026-11-06 17:30"))
    assert engine.case(case.id).data["severity"] == "major"
    step = next(e for e in engine.history(case.id) if e.kind == "escalated")
    assert step.payload["set"] == {"severity": "major"}
    assert engine.case(case.id).data["status"] == "open"  # set by the dispatch action
    assert engine.verify() == []


def test_a_deadline_relative_to_a_datetime_field(db: Path) -> None:
    with_time = open_handling(db, appointment_time="2026-11-06 16:30")
    without = open_handling(db)
    engine = reopened(db)
    assert engine.case(with_time).clocks["visit"]["due"] == at("2026-11-06 16:25")
    assert "visit" not in engine.case(without).clocks
    fired = engine.tick(at("2026-11-06 16:26"))
    assert [(e.case_id, e.kind) for e in fired if e.payload.get("deadline") == "visit"] == [
        (with_time, "deadline_breached")
    ]


def _bundled(name: str) -> str:
    return (processes_dir() / f"{name}.yaml").read_text(encoding="utf-8")


def test_the_malls_17_00_cut_off_repeats_every_day_until_the_result_is_in(db: Path) -> None:
    engine, spec = engine_on(db, _bundled("shopping_mall"))
    cs = Actor("zhou", ("cs_centre",))
    data = {"customer_name": "张三", "content": "收银错误", "category": "cashier"}
    case = engine.start(spec, data, cs, at=at("2026-11-06 10:00"))
    engine.act(case.id, "pass_to_floor", cs, at=at("2026-11-06 10:05"))
    engine.close()
    for day in ("2026-11-06 17:01", "2026-11-07 17:01", "2026-11-08 17:01"):
        engine = reopened(db)
        engine.tick(at(day))
        engine.close()
    engine = reopened(db)
    breaches = [e for e in engine.history(case.id) if e.kind == "deadline_breached"]
    cut_offs = [e.payload["due"] for e in breaches if e.payload["deadline"] == "results_by_17"]
    assert cut_offs == [at("2026-11-06 17:00"), at("2026-11-07 17:00"), at("2026-11-08 17:00")]
    assert engine.case(case.id).clocks["results_by_17"]["due"] == at("2026-11-09 17:00")


def test_a_far_future_tick_counts_missed_occurrences_with_bounded_work(db: Path, monkeypatch) -> None:
    calls = []
    real = BusinessCalendar.next_occurrence

    def counting(self, after, every):  # type: ignore[no-untyped-def]
        calls.append(after)
        return real(self, after, every)

    monkeypatch.setattr(BusinessCalendar, "next_occurrence", counting)
    daily = SLA.replace("  plan: {", "  daily: {title: {zh: 每天17点}, start: handling, every: daily 17:00}\n  plan: {")
    interval = daily.replace("every: daily 17:00", "every: 30m")
    for source, by_division in ((daily, False), (interval, True)):
        db.unlink(missing_ok=True)
        engine, spec = engine_on(db, source)
        case = engine.start(spec, {"severity": "general"}, DESK, at=at("2026-11-06 16:00"))
        engine.act(case.id, "dispatch", DESK, at=at("2026-11-06 16:00"))
        calls.clear()
        engine.tick(at("9999-12-31 23:59"))
        breach = next(e for e in engine.history(case.id) if e.payload.get("deadline") == "daily")
        assert len(calls) <= 70
        if by_division:  # a wall-clock interval is a division: exact, without a single walk
            assert calls == []
            assert breach.payload["missed"] == (at("9999-12-31 23:59") - at("2026-11-06 16:30")) // 1800 + 1
        else:
            assert breach.payload["estimated"] is True
            assert breach.payload["missed"] > 1_900_000  # about 261 working days a year for 7973 years
        assert engine.verify() == []
        engine.close()


def test_the_bundled_processes_keep_the_seed_rules() -> None:
    mall = load_process_bytes(_bundled("shopping_mall").encode())
    assert str(mall.deadlines["results_by_17"].due) == "every daily 17:00"
    equipment = load_process_bytes(_bundled("equipment_after_sales").encode())
    assert equipment.deadlines["plan_at_once"].due.immediate
    developer = load_process_bytes(_bundled("property_developer").encode())
    assert developer.escalations["unresolved_major"].steps[0].set == (("severity", "major"),)
    taobao = load_process_bytes(_bundled("taobao_operations").encode())
    assert {v for a in taobao.actions.values() for k, v in a.set if k == "status"} == set(
        taobao.fields["status"].values
    )


def test_diff_names_a_change_to_each_new_setting() -> None:
    old = load_process_bytes(SLA.encode())
    edits = [
        ("warn_at: [50%, 75%]", "warn_at: [50%, 90%]", "warn_at"),
        ("within: immediately", "within: 5m", "immediately -> within 5m"),
        ("reminder: true", "reminder: false", "reminder"),
        ("guard: \"severity == 'major'\"", "guard: \"severity != 'general'\"", "guard"),
        ('at: "appointment_time - 5m"', 'at: "appointment_time - 10m"', "appointment_time - 10m"),
        ("set: {severity: major}", "set: {severity: general}", "set: added severity = general"),
        ("set: {status: open}", "set: {status: done}", "set: added status = done"),
        ("extend_by: [head]", "extend_by: [desk]", "extend_by: added desk"),
        (
            "set: {severity: major}}",
            "set: {severity: major}, deliver: business_hours}",
            "deliver now -> business_hours",
        ),
    ]
    for before, after, named in edits:
        new = load_process_bytes(SLA.replace(before, after).replace("version: 1", "version: 2").encode())
        details = [c.detail for c in diff(old, new)]
        assert any(named in d for d in details), (named, details)


def test_decide_timer_for_a_reminder_writes_no_breach() -> None:
    from complaintflow.runtime.machine import compile_process
    from complaintflow.store.base import CaseRecord

    cp = compile_process(load_process_bytes(SLA.encode()))
    clock = {"started": 0, "due": 7200, "provisional": False, "warn": None, "warned": False, "breached": False}
    clock |= {"misses": 0, "step": 0, "step_due": None, "paused_at": None, "reminder": True}
    case = CaseRecord(
        "c", "sla", cp.spec.content_hash, "handling", {}, {}, "head", {"follow": clock}, 1, 0, None, 0, "0", 2
    )
    timer = desired_timers("c", {"follow": clock})[0]
    (event,) = decide_timer(cp, case, timer, 7200)
    assert (event.kind, event.payload["reminder"]) == ("deadline_warning", True)


def test_the_developers_month_makes_an_unresolved_complaint_major(db: Path) -> None:
    engine, spec = engine_on(db, _bundled("property_developer"))
    branch = Actor("sun", ("property_branch",))
    case = engine.start(spec, {"customer_name": "李四", "content": "漏水"}, branch, at=at("2026-11-02 10:00"))
    engine.act(
        case.id, "record_and_classify", branch, {"severity": "general", "content": "漏水"}, at=at("2026-11-02 10:10")
    )
    engine.close()
    engine = reopened(db)
    assert engine.tick(at("2026-12-02 10:09")) == []
    engine.close()
    engine = reopened(db)
    fired = engine.tick(at("2026-12-02 10:10"))
    assert [e.kind for e in fired] == ["deadline_breached", "escalated"]
    assert fired[1].payload["set"] == {"severity": "major"}
    assert engine.case(case.id).data["severity"] == "major"
    assert engine.verify() == []


# -- item 5: extending a running deadline ------------------------------------------------------


def test_extending_a_deadline_needs_a_role_and_a_reason_is_recorded_and_rearms_warnings(db: Path) -> None:
    from complaintflow import RefusedError
    from complaintflow.language.durations import parse_duration

    cid = open_handling(db)  # work: 4wh from Fri 16:00, due Mon 11:00
    engine = reopened(db)
    engine.tick(at("2026-11-09 10:45"))  # all three warnings given
    with pytest.raises(RefusedError, match="needs one of: head"):
        engine.extend(cid, "work", DESK, at=at("2026-11-09 10:45"), reason="等配件", add=parse_duration("2wh"))
    with pytest.raises(RefusedError, match="needs a reason"):
        engine.extend(cid, "work", HEAD, at=at("2026-11-09 10:45"), reason=" ", add=parse_duration("2wh"))
    with pytest.raises(RefusedError, match="cannot be extended"):
        engine.extend(cid, "wall", HEAD, at=at("2026-11-09 10:45"), reason="等配件", add=parse_duration("2h"))
    before = len(engine.history(cid))
    assert len(engine.history(cid)) == before  # refusals wrote nothing
    engine.extend(cid, "work", HEAD, at=at("2026-11-09 10:45"), reason="等配件到货", add=parse_duration("2wh"))
    engine.close()
    engine = reopened(db)
    clock = engine.case(cid).clocks["work"]
    assert clock["due"] == at("2026-11-09 13:00")
    event = engine.history(cid)[-1]
    assert (event.actor, event.payload["reason"], event.payload["extended"]["by"]) == ("li", "等配件到货", "2wh")
    # 6 working hours now: 75% falls Mon 11:30 and 30m before 12:30 (50% at Mon 10:00 is past, not again)
    fired = [e.at for e in engine.tick(at("2026-11-09 12:45")) if e.kind == "deadline_warning"]
    assert fired == [at("2026-11-09 11:30"), at("2026-11-09 12:30")]
    assert engine.verify() == []


def test_the_extend_command_refuses_in_one_line_and_extends(db: Path) -> None:
    from click.testing import CliRunner

    import cli

    cid = open_handling(db)
    runner = CliRunner()
    base = ["extend", cid, "work", "--db", str(db), "--now", "2026-11-06 17:00", "--reason", "客户要求"]
    refused = runner.invoke(cli.main, [*base, "--add", "2wh", "--as", "wang", "--role", "desk"])
    assert refused.exit_code == 1 and "needs one of: head" in refused.output
    assert "Traceback" not in refused.output
    done = runner.invoke(cli.main, [*base, "--until", "2026-11-10 09:00", "--as", "li", "--role", "head"])
    assert done.exit_code == 0, done.output
    assert "due 2026-11-10 09:00" in done.output


# -- item 4: quiet hours ------------------------------------------------------------------------


def test_a_business_hours_step_keeps_its_true_time_and_only_its_message_waits(db: Path) -> None:
    quiet = SLA.replace(
        "      - {role: head, do: notify, set: {severity: major}}",
        "      - {role: head, do: notify, set: {severity: major}, deliver: business_hours}",
    ).replace("within: 1h\n    guard", "within: 2d\n    guard")
    engine, spec = engine_on(db, quiet)
    case = engine.start(spec, {"severity": "major"}, DESK, at=at("2026-11-06 02:00"))  # Friday 02:00
    engine.act(case.id, "dispatch", DESK, at=at("2026-11-06 02:00"))  # major_only falls Sunday 02:00
    engine.close()
    engine = reopened(db)
    fired = [e for e in engine.tick(at("2026-11-08 03:00")) if e.payload.get("deadline") == "major_only"]
    assert [(e.kind, e.at) for e in fired] == [
        ("deadline_breached", at("2026-11-08 02:00")),
        ("escalated", at("2026-11-08 02:00")),
    ]
    assert fired[1].payload["deliver_at"] == at("2026-11-09 09:00")  # Monday's opening
    message = next(m for m in engine.store.outbox(None, 100) if m.id == f"{case.id}:{fired[1].seq}")
    assert message.message["payload"]["deliver_at"] == at("2026-11-09 09:00")
    assert "deliver_at" not in fired[0].payload  # the breach itself is not held
    assert engine.verify() == []


def test_a_business_hours_step_inside_opening_hours_goes_at_once(db: Path) -> None:
    quiet = SLA.replace(
        "      - {role: head, do: notify, set: {severity: major}}",
        "      - {role: head, do: notify, set: {severity: major}, deliver: business_hours}",
    )
    engine, spec = engine_on(db, quiet)
    case = engine.start(spec, {"severity": "major"}, DESK, at=at("2026-11-06 10:00"))
    engine.act(case.id, "dispatch", DESK, at=at("2026-11-06 10:00"))
    step = next(e for e in engine.tick(at("2026-11-06 11:30")) if e.kind == "escalated")
    assert step.at == at("2026-11-06 11:00") and "deliver_at" not in step.payload
