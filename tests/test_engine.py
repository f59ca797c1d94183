"""Engine behaviour on a small process: roles, guards, inputs, deadlines, escalation, pause, replay."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import MINI, at, ids

from complaintflow import Actor, ConflictError, Engine, RefusedError
from complaintflow.language.check import load_process_bytes
from complaintflow.runtime.clocks import desired_timers
from complaintflow.runtime.decide import decide_timer
from complaintflow.runtime.fold import fold
from complaintflow.store.base import CaseRecord, Commit
from complaintflow.store.memory import MemoryStore

DESK = Actor("wang", ("desk",))
HEAD = Actor("li", ("head",))
BOSS = Actor("zhao", ("boss",))
DATA = {"customer_name": "张三", "severity": "general"}


@pytest.fixture
def engine(any_store) -> Engine:  # each test runs on the memory, SQLite and PostgreSQL stores (conftest.py)
    e = Engine(any_store, new_case_id=ids())
    yield e
    e.close()


@pytest.fixture
def spec(engine: Engine, tmp_path: Path):
    path = tmp_path / "mini.yaml"
    path.write_text(MINI, encoding="utf-8")
    return engine.load_process(path)


def kinds(engine: Engine, case_id: str) -> list[str]:
    return [e.kind for e in engine.history(case_id)]


def test_start_requires_fields_and_a_role_of_the_process(engine, spec):
    with pytest.raises(RefusedError, match="missing required field.*severity"):
        engine.start(spec, {"customer_name": "x"}, DESK, at=at("2025-11-03 10:00"))
    with pytest.raises(RefusedError, match="none of the roles"):
        engine.start(spec, DATA, Actor("x", ("cook",)), at=at("2025-11-03 10:00"))
    with pytest.raises(RefusedError, match="'majr' is not one of general, major; did you mean 'major'"):
        engine.start(spec, {**DATA, "severity": "majr"}, DESK, at=at("2025-11-03 10:00"))
    assert engine.cases() == []


def test_refusals_change_nothing(engine, spec):
    case = engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"))
    engine.act(case.id, "dispatch", DESK, at=at("2025-11-03 10:01"))
    before = engine.case(case.id)
    history = engine.history(case.id)
    attempts = [
        (
            lambda: engine.act(case.id, "finish", DESK, {"result": "ok"}, at=at("2025-11-03 10:02")),
            "needs one of: head",
        ),
        (lambda: engine.act(case.id, "finish", HEAD, at=at("2025-11-03 10:02")), "needs input.*result"),
        (lambda: engine.act(case.id, "finish", HEAD, {"result": 5}, at=at("2025-11-03 10:02")), "expected text"),
        (lambda: engine.act(case.id, "callback", DESK, at=at("2025-11-03 10:02")), "cannot be taken in 'handling'"),
        (lambda: engine.act(case.id, "approve_big", BOSS, at=at("2025-11-03 10:02")), "amount >= 3000"),
        (lambda: engine.act(case.id, "finish", HEAD, {"result": "ok"}, at=at("2025-11-03 10:00")), "earlier than"),
        (lambda: engine.act(case.id, "fnish", HEAD, at=at("2025-11-03 10:02")), "did you mean 'finish'"),
        (lambda: engine.act("nope", "finish", HEAD, at=at("2025-11-03 10:02")), "no case 'nope'"),
    ]
    for call, message in attempts:
        with pytest.raises(RefusedError, match=message):
            call()
    assert engine.case(case.id) == before
    assert engine.history(case.id) == history


def test_refused_action_after_a_due_deadline_writes_nothing(engine, spec):
    case = engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"))
    with pytest.raises(RefusedError):
        engine.act(case.id, "dispatch", HEAD, at=at("2025-11-03 10:30"))  # wrong role, forward long overdue
    assert kinds(engine, case.id) == ["started"]


def test_guard_allows_when_true(engine, spec):
    case = engine.start(spec, {**DATA, "amount": 3000}, DESK, at=at("2025-11-03 10:00"))
    engine.act(case.id, "dispatch", DESK, at=at("2025-11-03 10:01"))
    assert engine.act(case.id, "approve_big", BOSS, at=at("2025-11-03 10:02")).state == "done"


def test_available_actions_follow_roles_and_guards(engine, spec):
    case = engine.start(spec, {**DATA, "amount": 100}, DESK, at=at("2025-11-03 10:00"))
    engine.act(case.id, "dispatch", DESK, at=at("2025-11-03 10:01"))
    everyone = Actor("all", ("desk", "head", "boss"))
    # compensate's guard reads its own input, not given yet: offered, and judged when taken
    assert [a.id for a in engine.available_actions(case.id, everyone)] == ["ask_customer", "finish", "compensate"]
    with pytest.raises(RefusedError, match="payout >= 3000"):
        engine.act(case.id, "compensate", BOSS, {"payout": 100}, at=at("2025-11-03 10:02"))
    assert [a.id for a in engine.available_actions(case.id, DESK)] == []


def test_breach_walks_the_escalation_chain_on_time(engine, spec):
    case = engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"))
    fired = engine.tick(at("2025-11-03 10:30"))
    got = [(e.kind, e.at, e.payload.get("step"), e.payload.get("role")) for e in fired]
    assert got == [
        ("deadline_warning", at("2025-11-03 10:02"), None, "desk"),
        ("deadline_breached", at("2025-11-03 10:03"), None, "desk"),
        ("escalated", at("2025-11-03 10:03"), 1, "head"),
        ("escalated", at("2025-11-03 10:08"), 2, "boss"),
        ("escalated", at("2025-11-03 10:23"), 3, "board"),
    ]
    assert engine.case(case.id).owner_role == "boss"  # step 2 reassigns


def test_tick_is_idempotent(engine, spec):
    engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"))
    first = engine.tick(at("2025-11-03 10:30"))
    assert first
    count = len(engine.history("c1"))
    assert engine.tick(at("2025-11-03 10:30")) == []
    assert len(engine.history("c1")) == count


def test_meeting_a_deadline_cancels_its_timers(engine, spec):
    case = engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"))
    engine.act(case.id, "dispatch", DESK, at=at("2025-11-03 10:02"))
    met = [e.payload for e in engine.history(case.id) if e.kind == "deadline_met"]
    assert met == [{"deadline": "forward", "due": at("2025-11-03 10:03"), "on_time": True, "reason": "dispatch"}]
    (handle,) = engine.timers(case.id)
    assert handle.deadline == "handle"
    # The store finds the case by when that timer falls due, and not a second before.
    assert engine.store.case(case.id).next_due == handle.due_at
    assert engine.store.due_cases(handle.due_at - 1, 10) == []
    assert [c.id for c in engine.store.due_cases(handle.due_at, 10)] == [case.id]
    assert engine.tick(at("2025-11-03 10:30")) == []


def test_the_due_read_gives_each_row_with_its_head_and_the_tick_fires_from_it(engine, spec, monkeypatch):
    opened = [engine.start(spec, DATA, DESK, at=at(f"2025-11-03 10:0{n}")) for n in range(3)]
    due_at = max(t.due_at for c in opened for t in engine.timers(c.id))
    got = engine.store.due_cases_and_heads(due_at, 10)
    assert [c.id for c, _ in got] == [c.id for c in engine.store.due_cases(due_at, 10)] == [c.id for c in opened]
    assert got == [engine.store.case_and_head(c.id) for c in opened]
    assert engine.store.due_cases_and_heads(due_at, 2) == got[:2]

    def no_second_read(case_id):
        raise AssertionError(f"the tick read case {case_id} again")

    monkeypatch.setattr(engine.store, "case_and_head", no_second_read)
    fired = engine.tick(due_at)
    assert {e.case_id for e in fired if e.kind == "deadline_breached"} == {c.id for c in opened}
    monkeypatch.undo()
    assert engine.verify() == []


def _fired_change(engine: Engine, case: CaseRecord, now: int) -> Commit:
    """The change firing the case's earliest timer writes, as a tick builds it."""
    timer = min(desired_timers(case.id, case.clocks), key=lambda t: t.due_at)
    events = decide_timer(engine.compiled(case.process_hash), case, timer, now)
    return Commit(fold(case, events, revision=case.revision + 1), events, next_due_before=case.next_due)


def test_commit_all_writes_every_change_in_order_or_none(engine, spec):
    a, b = (engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00")) for _ in range(2))
    now = at("2025-11-03 10:30")
    first_a = _fired_change(engine, a, now)
    then_a = _fired_change(engine, first_a.case, now)  # built on the change before it
    first_b = _fired_change(engine, b, now)
    stale_b = _fired_change(engine, b, now)  # built on b as it was before first_b
    with pytest.raises(ConflictError):
        engine.store.commit_all([first_a, then_a, first_b, stale_b])
    assert [engine.store.case(c.id) for c in (a, b)] == [a, b]
    assert [kinds(engine, c.id) for c in (a, b)] == [["started"], ["started"]]
    engine.store.commit_all([first_a, then_a, first_b])
    assert [engine.store.case(c.id) for c in (a, b)] == [then_a.case, first_b.case]
    assert engine.history(a.id) == [*engine.history(a.id)[:1], *first_a.events, *then_a.events]
    assert engine.history(b.id)[1:] == list(first_b.events)
    assert engine.verify() == []  # each history links up through the positions the events were given


def test_a_round_the_store_refuses_at_once_is_written_case_by_case(engine, spec, monkeypatch):
    opened = [engine.start(spec, DATA, DESK, at=at(f"2025-11-03 10:0{n}")) for n in range(3)]
    moved = opened[1].id  # as if another process moved it on after the due read
    commit = engine.store.commit

    def refuse_all(changes):
        raise ConflictError("a case was changed by someone else meanwhile")

    def refuse_moved(change):
        if change.case.id == moved:
            raise ConflictError(f"case {moved!r} was changed by someone else")
        commit(change)

    monkeypatch.setattr(engine.store, "commit_all", refuse_all)
    monkeypatch.setattr(engine.store, "commit", refuse_moved)
    fired = engine.tick(at("2025-11-03 10:30"), rounds=1)
    assert {e.case_id for e in fired} == {opened[0].id, opened[2].id}
    assert kinds(engine, moved) == ["started"]  # left as it was, all of it
    monkeypatch.undo()
    assert moved in {e.case_id for e in engine.tick(at("2025-11-03 10:30"))}  # its next tick fires it
    assert (
        kinds(engine, moved)[:3]
        == kinds(engine, opened[0].id)[:3]
        == ["started", "deadline_warning", "deadline_breached"]
    )
    assert engine.verify() == []


def test_two_working_days_across_national_day(engine, spec):
    case = engine.start(spec, DATA, DESK, at=at("2025-09-30 09:00"))
    engine.act(case.id, "dispatch", DESK, at=at("2025-09-30 09:01"))
    done = engine.act(case.id, "finish", HEAD, {"result": "修好了"}, at=at("2025-09-30 18:00"))
    assert done.clocks["callback"]["due"] == at("2025-10-10 18:00")
    assert [e.kind for e in engine.tick(at("2025-10-10 17:59"))] == []
    assert [e.payload["deadline"] for e in engine.tick(at("2025-10-10 18:00"))] == ["callback"]


def test_pause_stops_the_clock_and_resume_keeps_the_time_left(engine, spec):
    case = engine.start(spec, DATA, DESK, at=at("2025-11-03 09:00"))
    engine.act(case.id, "dispatch", DESK, at=at("2025-11-03 09:00"))  # handle due 13:00
    engine.act(case.id, "ask_customer", HEAD, at=at("2025-11-03 10:00"))
    assert engine.timers(case.id) == []  # nothing can fire while waiting on the customer
    assert engine.store.case(case.id).next_due is None
    assert engine.tick(at("2025-11-03 15:00")) == []
    resumed = engine.act(case.id, "customer_answers", DESK, at=at("2025-11-03 12:30"))
    assert resumed.clocks["handle"]["due"] == at("2025-11-03 15:30")  # 2.5 h paused, wall-clock budget


def test_replay_rebuilds_the_stored_case_and_verify_is_clean(engine, spec):
    case = engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"))
    engine.tick(at("2025-11-03 10:10"))
    engine.act(case.id, "dispatch", DESK, at=at("2025-11-03 10:11"))
    engine.act(case.id, "finish", HEAD, {"result": "ok"}, at=at("2025-11-03 11:00"))
    assert engine.verify() == []


def test_cases_pin_the_process_version_they_started_on(engine, spec, tmp_path):
    case = engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"))
    edited = MINI.replace("within: 4h", "within: 8h")
    path = tmp_path / "mini.yaml"
    path.write_text(edited, encoding="utf-8")
    with pytest.raises(RefusedError, match="version 1 is already in this store with different content"):
        engine.load_process(path)
    path.write_text(edited.replace("version: 1", "version: 2"), encoding="utf-8")
    v2 = engine.load_process(path)
    new_case = engine.start(v2, DATA, DESK, at=at("2025-11-03 10:00"))
    old = engine.act(case.id, "dispatch", DESK, at=at("2025-11-03 10:01"))
    new = engine.act(new_case.id, "dispatch", DESK, at=at("2025-11-03 10:01"))
    assert old.clocks["handle"]["due"] == at("2025-11-03 14:01")
    assert new.clocks["handle"]["due"] == at("2025-11-03 18:01")


def test_survives_reopening_the_store(store_address, spec, engine):
    if store_address is None:
        pytest.skip("a memory store does not outlive its engine")
    case = engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"))
    engine.close()
    again = Engine(store_address)
    assert [e.kind for e in again.tick(at("2025-11-03 10:04"))] == [
        "deadline_warning",
        "deadline_breached",
        "escalated",
    ]
    again.act(case.id, "dispatch", DESK, at=at("2025-11-03 10:05"))
    assert again.verify() == []
    again.close()


def test_outbox_carries_every_event_once_with_a_stable_id(engine, spec):
    case = engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"))
    engine.tick(at("2025-11-03 10:04"))
    messages = engine.store.outbox(None, 100)
    assert [m.id for m in messages] == [f"{case.id}:{n}" for n in range(1, 5)]
    assert messages[2].message["kind"] == "deadline_breached"
    assert messages[2].message["payload"]["deadline"] == "forward"
    engine.store.ack_outbox([m.id for m in messages[:2]])
    assert [m.id for m in engine.store.outbox(None, 100)] == [f"{case.id}:3", f"{case.id}:4"]


def test_the_machine_is_shared_and_holds_no_cases(engine, spec):
    for n in range(3):
        engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"))
        engine.act(f"c{n + 1}", "dispatch", DESK, at=at("2025-11-03 10:01"))
    compiled = engine.compiled(spec.content_hash)
    assert compiled.machine.models == []
    assert load_process_bytes(MINI.encode()).content_hash == spec.content_hash


def test_outbox_pages_in_commit_order_and_survives_out_of_order_acks(engine, spec):
    first = engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"))
    second = engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"))
    engine.act(first.id, "dispatch", DESK, at=at("2025-11-03 10:01"))
    order = [f"{first.id}:1", f"{second.id}:1", f"{first.id}:2", f"{first.id}:3"]
    assert [m.id for m in engine.store.outbox(None, 100)] == order
    page = engine.store.outbox(None, 2)
    assert [m.id for m in engine.store.outbox(page[-1].id, 100)] == order[2:]
    assert page[0].message["process"] == "mini" and page[0].message["actor"] == "wang"
    engine.store.ack_outbox([order[1], order[3], "not-an-id", "nope:7"])  # gaps, and ids that are not ours
    assert [m.id for m in engine.store.outbox(None, 100)] == [order[0], order[2]]
    engine.store.ack_outbox([order[0]])
    assert [m.id for m in engine.store.outbox(None, 100)] == [order[2]]
    engine.store.ack_outbox([order[2]])
    assert engine.store.outbox(None, 100) == []
    engine.act(first.id, "finish", HEAD, {"result": "ok"}, at=at("2025-11-03 10:30"))
    assert [m.id for m in engine.store.outbox(None, 100)] == [f"{first.id}:4", f"{first.id}:5"]


@pytest.mark.parametrize(
    "value, words", [(2**53, r"within ±\(2\^53 - 1\)"), (float("nan"), "finite"), (float("inf"), "finite")]
)
def test_numbers_that_json_cannot_carry_exactly_are_refused(engine, spec, value, words):
    case = engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"))
    engine.act(case.id, "dispatch", DESK, at=at("2025-11-03 10:01"))
    with pytest.raises(RefusedError, match=words):
        engine.act(case.id, "compensate", BOSS, {"payout": value}, at=at("2025-11-03 10:02"))
    assert len(engine.history(case.id)) == 3  # nothing was written


def test_text_with_a_lone_surrogate_is_refused(engine, spec):
    with pytest.raises(RefusedError, match="not valid Unicode"):
        engine.start(spec, {**DATA, "customer_name": "张\ud800"}, DESK, at=at("2025-11-03 10:00"))
    assert engine.cases() == []


def test_the_memory_store_refuses_an_event_it_already_has_and_changes_nothing(tmp_path):
    from dataclasses import replace as copy_with

    from complaintflow.store.base import Commit

    engine = Engine(MemoryStore(), new_case_id=ids())
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    spec = engine.load_process(tmp_path / "mini.yaml")
    case = engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"))
    (event,) = engine.history(case.id)
    again = copy_with(event, kind="acted")
    with pytest.raises(ConflictError, match="already has event 1"):
        engine.store.commit(Commit(case=copy_with(case, revision=2), events=[again]))
    assert engine.case(case.id) == case and engine.history(case.id) == [event]


def test_an_expected_revision_is_checked_inside_the_write(tmp_path):
    from complaintflow import Actor, Engine
    from complaintflow.runtime.errors import StaleRevisionError

    engine = Engine(tmp_path / "s.db")
    spec = engine.load_process(Path(__file__).resolve().parent.parent / "processes" / "property_management.yaml")
    clerk = Actor("wang", ("receiver",))
    case = engine.start(spec, {"customer_name": "李雷", "subject": "电梯"}, clerk, at=1_759_111_200)
    try:
        engine.act(case.id, "notify_department", clerk, at=1_759_111_260, expected_revision=2)
    except StaleRevisionError as exc:
        assert (exc.revision, exc.expected) == (1, 2)
    else:
        raise AssertionError("a stale revision was accepted")
    assert engine.case(case.id).revision == 1  # nothing written
    moved = engine.act(case.id, "notify_department", clerk, at=1_759_111_260, expected_revision=1)
    assert moved.revision == 2
    engine.close()


def test_a_case_id_already_in_the_store_is_refused_and_changes_nothing(engine, spec):
    first = engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00"), case_id="same")
    with pytest.raises(ConflictError, match="already exists"):
        engine.start(spec, {**DATA, "severity": "major"}, DESK, at=at("2025-11-03 10:01"), case_id="same")
    assert engine.case("same") == first and len(engine.history("same")) == 1
