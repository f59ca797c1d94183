"""Scenario tests: the seed processes run through the engine, the seeds' own numbers driving the asserts.

Every expected instant is computed here from the rule (``parse_local`` plus the rule's minutes, hours or
days), never read back from the engine. Each scenario also closes its engine, reopens the same SQLite file
and carries on, and ends with ``engine.verify() == []``.

The source rules are in /work/shared/seeds/README.md; where a process file encodes a rule in its own way
the test follows the file and says so in a comment.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from complaintflow.calendar import parse_local
from complaintflow.runtime.engine import Actor, Engine, RefusedError

PROCESSES = Path(__file__).resolve().parent.parent / "processes"
TZ = "Asia/Shanghai"
MIN, HOUR, DAY = 60, 3600, 86400


def at(text: str) -> int:
    """A local Asia/Shanghai time as epoch seconds."""
    return parse_local(text, TZ)


def brief(event) -> tuple:
    """An event reduced to what a scenario asserts on."""
    p = event.payload
    if event.kind == "deadline_breached":
        out = ("breached", p["deadline"], p["due"], event.at)
        return out + ((p["missed"], p["next_due"]) if "missed" in p else ())
    if event.kind == "escalated":
        return (
            "escalated",
            p["deadline"],
            p["escalation"],
            p["step"],
            p["of"],
            p["role"],
            p["do"],
            p["step_due"],
            event.at,
        )
    if event.kind == "deadline_met":
        return ("met", p["deadline"], p["on_time"])
    if event.kind == "deadline_warning":
        return ("warning", p["deadline"], event.at)
    if event.kind == "acted":
        return ("acted", p["action"], p["to"])
    return (event.kind,)


class Flow:
    """One process on a fresh SQLite store, with actors picked by role."""

    def __init__(self, tmp_path: Path, process: str):
        self.process = process
        self.db = tmp_path / "t.db"
        self._ids = itertools.count(1)
        self.engine = self._open()
        self.spec = self.engine.load_process(PROCESSES / f"{process}.yaml")

    def _open(self) -> Engine:
        return Engine(self.db, new_case_id=lambda: f"{self.process}-{next(self._ids)}")

    def reload(self, *, load_process: bool = False) -> None:
        """Close the engine and open a new one on the same file; acting on stored cases needs no reload
        of the process (the store keeps its text); starting new cases does."""
        self.engine.close()
        self.engine = self._open()
        if load_process:
            self.spec = self.engine.load_process(PROCESSES / f"{self.process}.yaml")

    @staticmethod
    def actor(role: str) -> Actor:
        return Actor(f"{role}-user", (role,))

    def start(self, role: str, when: int, **data: Any) -> str:
        return self.engine.start(self.spec, data, self.actor(role), at=when).id

    def act(self, case_id: str, action: str, role: str, when: int, **inputs: Any):
        return self.engine.act(case_id, action, self.actor(role), inputs, at=when)

    def tick(self, when: int) -> list[tuple]:
        return [brief(e) for e in self.engine.tick(when)]

    def case(self, case_id: str):
        return self.engine.case(case_id)

    def history(self, case_id: str) -> list:
        return self.engine.history(case_id)

    def briefs(self, case_id: str, kind: str | None = None, deadline: str | None = None) -> list[tuple]:
        return [
            brief(e)
            for e in self.history(case_id)
            if (kind is None or e.kind == kind) and (deadline is None or e.payload.get("deadline") == deadline)
        ]

    def clock(self, case_id: str, deadline: str) -> dict[str, Any]:
        return self.case(case_id).clocks[deadline]

    def refused(self, case_id: str, action: str, role: str, when: int, match: str, **inputs: Any) -> str:
        """Assert the action is refused and changes nothing; return the refusal text."""
        before, length = self.case(case_id), len(self.history(case_id))
        with pytest.raises(RefusedError, match=match) as info:
            self.act(case_id, action, role, when, **inputs)
        after = self.case(case_id)
        assert after == before
        assert after.revision == before.revision
        assert len(self.history(case_id)) == length
        return str(info.value)

    def ticks_nothing(self, when: int, *case_ids: str) -> None:
        """A tick at ``when`` fires nothing and writes nothing."""
        lengths = [len(self.history(c)) for c in case_ids]
        assert self.tick(when) == []
        assert [len(self.history(c)) for c in case_ids] == lengths


@pytest.fixture
def flow(tmp_path):
    opened: list[Flow] = []

    def make(process: str) -> Flow:
        f = Flow(tmp_path, process)
        opened.append(f)
        return f

    yield make
    for f in opened:
        f.engine.close()


def needs_roles(*roles: str) -> str:
    return re.escape("it needs one of: " + ", ".join(roles)) + "$"


# ---------------------------------------------------------------------------------------------------------
# 000 B property_management
# ---------------------------------------------------------------------------------------------------------


def pm_start(f: Flow, when: int) -> str:
    return f.start(
        "receiver",
        when,
        customer_name="陈女士",
        subject="楼道灯不亮",
        channel="phone_call",
        phone="13800000000",
        address="3栋1201",
    )


def test_property_not_forwarded_in_3_minutes_walks_the_front_desk_chain(flow):
    f = flow("property_management")
    t0 = at("2025-10-13 09:00")  # a Monday
    cid = pm_start(f, t0)
    assert f.clock(cid, "notify_3m")["due"] == t0 + 3 * MIN
    assert f.clock(cid, "feedback_24h")["due"] == t0 + 24 * HOUR

    f.ticks_nothing(t0 + 3 * MIN - 1, cid)
    # 3 minutes: breach, and the chain's first step (直属上司, 5 minutes to act).
    assert f.tick(t0 + 3 * MIN) == [
        ("breached", "notify_3m", t0 + 3 * MIN, t0 + 3 * MIN),
        ("escalated", "notify_3m", "front_desk_chain", 1, 3, "office_head", "notify", t0 + 8 * MIN, t0 + 3 * MIN),
    ]

    f.reload()
    f.ticks_nothing(t0 + 8 * MIN - 1, cid)
    # The office head's 5 minutes run out: the company leader, who gets 15 minutes.
    assert f.tick(t0 + 8 * MIN) == [
        ("escalated", "notify_3m", "front_desk_chain", 2, 3, "company_leader", "notify", t0 + 23 * MIN, t0 + 8 * MIN),
    ]
    f.ticks_nothing(t0 + 23 * MIN - 1, cid)
    assert f.tick(t0 + 23 * MIN) == [
        ("escalated", "notify_3m", "front_desk_chain", 3, 3, "board_office", "notify", None, t0 + 23 * MIN),
    ]
    assert f.clock(cid, "notify_3m")["breached"] is True

    f.act(cid, "notify_department", "receiver", t0 + 25 * MIN)
    f.act(cid, "feed_back_to_customer_centre", "receiver", t0 + 30 * MIN)
    assert f.briefs(cid, "deadline_met") == [("met", "notify_3m", False), ("met", "feedback_24h", True)]
    assert set(f.case(cid).clocks) == set()  # classifying starts no clock
    f.ticks_nothing(t0 + 2 * DAY, cid)  # nothing left to fire, not even the 24h clock
    assert f.engine.verify() == []


def test_property_one_late_tick_fires_the_whole_chain_at_its_own_instants_and_only_once(flow):
    f = flow("property_management")
    t0 = at("2025-10-13 09:00")
    cid = pm_start(f, t0)
    late = t0 + 1 * HOUR
    assert f.tick(late) == [
        ("breached", "notify_3m", t0 + 3 * MIN, t0 + 3 * MIN),
        ("escalated", "notify_3m", "front_desk_chain", 1, 3, "office_head", "notify", t0 + 8 * MIN, t0 + 3 * MIN),
        ("escalated", "notify_3m", "front_desk_chain", 2, 3, "company_leader", "notify", t0 + 23 * MIN, t0 + 8 * MIN),
        ("escalated", "notify_3m", "front_desk_chain", 3, 3, "board_office", "notify", None, t0 + 23 * MIN),
    ]
    # General property: a second tick at the same instant fires nothing and writes nothing.
    f.ticks_nothing(late, cid)
    f.reload()
    f.ticks_nothing(late, cid)
    assert [c.id for c in f.engine.overdue(late)] == [cid]
    f.act(cid, "notify_department", "front_desk", late + MIN)
    assert f.engine.verify() == []


def test_property_major_case_office_head_5_minutes_then_leader_15_minutes(flow):
    f = flow("property_management")
    t0 = at("2025-10-13 10:00")
    cid = pm_start(f, t0)
    f.act(cid, "notify_department", "receiver", t0 + 1 * MIN)
    f.act(cid, "feed_back_to_customer_centre", "receiver", t0 + 2 * MIN)
    t1 = t0 + 4 * MIN
    f.act(cid, "classify_urgent", "front_desk", t1, classification="urgent_major")
    case = f.case(cid)
    assert (case.state, case.owner_role) == ("reported_to_superior", "office_head")
    assert f.clock(cid, "report_up_5m")["due"] == t1 + 5 * MIN
    assert f.clock(cid, "written_report_24h")["due"] == t1 + 24 * HOUR

    # The office head does not report up within 5 minutes: the case is reassigned to the company leader.
    f.ticks_nothing(t1 + 5 * MIN - 1, cid)
    assert f.tick(t1 + 5 * MIN) == [
        ("breached", "report_up_5m", t1 + 5 * MIN, t1 + 5 * MIN),
        (
            "escalated",
            "report_up_5m",
            "office_head_chain",
            1,
            2,
            "company_leader",
            "reassign",
            t1 + 20 * MIN,
            t1 + 5 * MIN,
        ),
    ]
    assert f.case(cid).owner_role == "company_leader"

    t2 = t1 + 7 * MIN
    f.act(cid, "report_to_company_leader", "office_head", t2)
    case = f.case(cid)
    assert case.state == "escalated"
    assert case.branches == {"leader_track": "leader_handling", "report_track": "written_report_pending"}
    assert set(case.clocks) == {"written_report_24h", "phone_head_office_15m"}
    assert f.clock(cid, "written_report_24h")["due"] == t1 + 24 * HOUR  # still counted from receipt
    assert f.clock(cid, "phone_head_office_15m")["due"] == t2 + 15 * MIN
    assert f.briefs(cid, "deadline_met") == [
        ("met", "notify_3m", True),
        ("met", "feedback_24h", True),
        ("met", "report_up_5m", False),
    ]

    f.reload()
    # Step 2 of the office head's chain (due t1+20m) was cancelled when the clock was met.
    f.ticks_nothing(t2 + 15 * MIN - 1, cid)
    assert f.tick(t2 + 15 * MIN) == [
        ("breached", "phone_head_office_15m", t2 + 15 * MIN, t2 + 15 * MIN),
        ("escalated", "phone_head_office_15m", "leader_chain", 1, 1, "board_office", "notify", None, t2 + 15 * MIN),
    ]
    f.refused(
        cid,
        "finish_escalation",
        "company_leader",
        t2 + 16 * MIN,
        r"waiting for branch\(es\) leader_track, report_track to finish",
    )
    f.act(cid, "phone_head_office", "company_leader", t2 + 17 * MIN)
    f.act(cid, "head_office_resolves", "board_office", t2 + 40 * MIN)
    f.refused(
        cid, "finish_escalation", "company_leader", t2 + 41 * MIN, r"waiting for branch\(es\) report_track to finish"
    )
    f.act(cid, "submit_written_report", "office_head", t2 + 50 * MIN)
    t3 = t2 + 60 * MIN
    f.act(cid, "finish_escalation", "company_leader", t3)
    assert f.clock(cid, "joint_verify_8h")["due"] == t3 + 8 * HOUR
    t4 = t3 + 2 * HOUR  # Monday 2025-10-13, about 13:00
    f.act(cid, "joint_verify", "developer_cs", t4)
    assert f.clock(cid, "callback_2wd")["due"] == at("2025-10-15 18:00")  # Tue, Wed: 2 working days
    f.act(cid, "call_back", "customer_centre", t4 + HOUR)
    assert f.case(cid).state == "closed" and f.case(cid).closed_at == t4 + HOUR
    assert f.briefs(cid, "deadline_met")[3:] == [
        ("met", "phone_head_office_15m", False),
        ("met", "written_report_24h", True),
        ("met", "joint_verify_8h", True),
        ("met", "callback_2wd", True),
    ]
    assert f.engine.verify() == []


def pm_routine_to_completed(f: Flow, done_at: int) -> str:
    """A routine reasonable complaint, every step on time, completed (verified) at ``done_at``."""
    t = done_at - 4 * HOUR
    cid = pm_start(f, t)
    f.act(cid, "notify_department", "receiver", t + 1 * MIN)
    f.act(cid, "feed_back_to_customer_centre", "receiver", t + 5 * MIN)
    f.act(cid, "classify_routine", "front_desk", t + 10 * MIN, classification="routine")
    f.act(cid, "pass_to_department", "front_desk", t + 30 * MIN)
    f.act(cid, "complete_work", "dept_head", t + 2 * HOUR)
    f.act(cid, "feed_back_to_customer", "dept_head", t + 2 * HOUR + 30 * MIN)
    f.act(cid, "verify", "customer_centre", done_at)
    assert f.case(cid).state == "completed"
    assert all(on_time for _, _, on_time in f.briefs(cid, "deadline_met"))
    return cid


def test_property_callback_two_working_days_across_national_day(flow):
    f = flow("property_management")
    # Completed Tue 2025-09-30 18:00. 1-8 October 2025 are the National Day holidays (statutory china), so
    # the 1st working day after is Thu 10-09 and the 2nd Fri 10-10; due at its close of business, 18:00.
    cid = pm_routine_to_completed(f, at("2025-09-30 18:00"))
    due = at("2025-10-10 18:00")
    clock = f.case(cid).clocks["callback_2wd"]
    assert clock["due"] == due
    assert clock["provisional"] is False

    f.reload()
    f.ticks_nothing(at("2025-10-09 12:00"), cid)  # a weekday count would have breached on 10-02
    f.ticks_nothing(due - 1, cid)
    assert f.tick(due) == [
        ("breached", "callback_2wd", due, due),
        ("escalated", "callback_2wd", "front_desk_chain", 1, 3, "office_head", "notify", due + 5 * MIN, due),
    ]
    f.act(cid, "call_back", "customer_centre", due + 2 * MIN)
    assert f.case(cid).state == "closed"
    assert f.briefs(cid, "deadline_met", "callback_2wd") == [("met", "callback_2wd", False)]
    f.ticks_nothing(due + 1 * HOUR, cid)  # step 2 (due + 5m) went with the clock
    assert f.engine.verify() == []


@pytest.mark.parametrize(
    "done, due",
    [
        ("2025-09-26 18:00", "2025-09-29 18:00"),  # Fri; Sun 09-28 is a 调休 make-up workday, then Mon 09-29
        ("2025-10-10 18:00", "2025-10-13 18:00"),  # Fri; Sat 10-11 is a 调休 make-up workday, then Mon 10-13
        ("2025-10-13 10:00", "2025-10-15 18:00"),  # Mon morning: Tue, Wed
    ],
)
def test_property_callback_due_follows_make_up_workdays(flow, done, due):
    f = flow("property_management")
    cid = pm_routine_to_completed(f, at(done))
    assert f.clock(cid, "callback_2wd")["due"] == at(due)
    f.reload()
    f.ticks_nothing(at(due) - 1, cid)
    f.act(cid, "call_back", "front_desk", at(due) - 1 * MIN)
    assert f.briefs(cid, "deadline_met", "callback_2wd") == [("met", "callback_2wd", True)]
    assert f.engine.verify() == []


# ---------------------------------------------------------------------------------------------------------
# 000 E shopping_mall (calendar "mall": every day of the week, 10:00-22:00, no statutory holidays)
# ---------------------------------------------------------------------------------------------------------


def mall_start(f: Flow, when: int, category: str = "cashier", severity: str = "general") -> str:
    return f.start(
        "cs_centre",
        when,
        customer_name="李先生",
        content="收银台多收费",
        category=category,
        severity=severity,
        channel="in_person",
    )


def test_mall_results_by_17_same_day_and_chain_reassigns_up_to_the_store_manager(flow):
    f = flow("shopping_mall")
    cid = mall_start(f, at("2025-10-14 09:50"))
    dispatched = at("2025-10-14 10:00")
    f.act(cid, "pass_to_floor", "cs_centre", dispatched)
    assert f.case(cid).owner_role == "floor_supervisor"
    assert f.clock(cid, "results_by_17")["due"] == at("2025-10-14 17:00")  # same day
    assert f.clock(cid, "reply_24h")["due"] == dispatched + 24 * HOUR

    f.ticks_nothing(at("2025-10-14 17:00") - 1, cid)
    five = at("2025-10-14 17:00")
    # "立即上报营运经理": step 1 reassigns at the breach itself; the file gives the step 24h.
    assert f.tick(five) == [
        ("breached", "results_by_17", five, five, 1, five + DAY),  # 每天17:00: the next cut-off is armed
        ("escalated", "results_by_17", "mall_chain", 1, 2, "ops_manager", "reassign", five + 24 * HOUR, five),
    ]
    assert f.case(cid).owner_role == "ops_manager"

    f.reload()
    reply_due = dispatched + 24 * HOUR
    assert f.tick(reply_due) == [
        ("breached", "reply_24h", reply_due, reply_due),
        ("escalated", "reply_24h", "mall_chain", 1, 2, "ops_manager", "reassign", reply_due + 24 * HOUR, reply_due),
    ]
    assert f.tick(five + 24 * HOUR) == [
        ("breached", "results_by_17", five + DAY, five + DAY, 1, five + 2 * DAY),  # missed again the next day
        ("escalated", "results_by_17", "mall_chain", 2, 2, "store_manager", "reassign", None, five + 24 * HOUR),
    ]
    case = f.case(cid)
    assert (case.state, case.owner_role) == ("floor_handling", "store_manager")

    later = five + 24 * HOUR + 30 * MIN
    f.act(cid, "submit_result", "store_manager", later, result="退还多收款项")
    assert f.case(cid).owner_role == "ops_manager"  # the new state's owner
    f.act(cid, "ops_manager_signs", "ops_manager", later + 10 * MIN)
    f.act(cid, "gm_reviews", "store_gm", later + 20 * MIN)
    f.act(cid, "customer_satisfied", "cs_centre", later + 30 * MIN)
    assert f.case(cid).state == "closed"
    assert f.briefs(cid, "deadline_met") == [("met", "results_by_17", False), ("met", "reply_24h", False)]
    f.ticks_nothing(later + 3 * DAY, cid)
    assert f.engine.verify() == []


@pytest.mark.parametrize(
    "dispatched, due",
    [
        ("2025-10-14 10:00", "2025-10-14 17:00"),  # before 17:00: the same day
        ("2025-10-14 17:30", "2025-10-15 17:00"),  # after 17:00: the next day
        ("2025-10-04 17:30", "2025-10-05 17:00"),  # Sat in the National Day week: the mall is open, so Sunday
    ],
)
def test_mall_results_by_17_next_opening_day(flow, dispatched, due):
    f = flow("shopping_mall")
    cid = mall_start(f, at(dispatched) - 10 * MIN, category="other_department")
    f.act(cid, "pass_to_department", "cs_centre", at(dispatched))
    assert f.case(cid).state == "dept_handling"
    assert f.clock(cid, "results_by_17")["due"] == at(due)
    f.reload()
    f.ticks_nothing(at(due) - 1, cid)
    assert f.tick(at(due))[0] == ("breached", "results_by_17", at(due), at(due), 1, at(due) + DAY)
    assert f.case(cid).owner_role == "ops_manager"
    assert f.engine.verify() == []


def test_mall_manual_escalation_unsatisfied_loop_and_major_report(flow):
    f = flow("shopping_mall")
    cid = mall_start(f, at("2025-10-14 11:00"), category="tenant", severity="major")
    f.refused(
        cid,
        "pass_to_department",
        "cs_centre",
        at("2025-10-14 11:05"),
        re.escape("its condition \"category == 'other_department'\" is false"),
    )
    f.act(cid, "pass_to_floor", "cs_centre", at("2025-10-14 11:05"))
    f.act(cid, "escalate_to_ops_manager", "floor_supervisor", at("2025-10-14 11:30"))
    assert f.case(cid).owner_role == "ops_manager"
    f.refused(cid, "escalate_to_store_manager", "floor_supervisor", at("2025-10-14 11:40"), needs_roles("ops_manager"))
    f.act(cid, "escalate_to_store_manager", "ops_manager", at("2025-10-14 12:00"))
    assert (f.case(cid).state, f.case(cid).owner_role) == ("store_manager_handling", "store_manager")
    f.act(cid, "submit_result", "store_manager", at("2025-10-14 14:00"), result="商户退货")
    f.act(cid, "ops_manager_signs", "ops_manager", at("2025-10-14 14:30"))
    f.act(cid, "gm_reviews", "store_gm", at("2025-10-14 15:00"))
    assert f.briefs(cid, "deadline_met") == [("met", "results_by_17", True), ("met", "reply_24h", True)]

    # Not satisfied: a signed plan, back to the floor; both clocks start again.
    back = at("2025-10-14 15:30")
    f.act(cid, "customer_unsatisfied_floor", "cs_centre", back, remedy_plan="商户负责人签名的赔偿方案")
    assert f.case(cid).state == "floor_handling"
    assert f.clock(cid, "reply_24h")["due"] == back + 24 * HOUR
    assert f.clock(cid, "results_by_17")["due"] == at("2025-10-14 17:00")

    f.reload()
    f.act(cid, "submit_result", "floor_supervisor", at("2025-10-14 16:30"), result="按方案赔偿")
    f.act(cid, "ops_manager_signs", "ops_manager", at("2025-10-14 16:40"))
    f.act(cid, "gm_reviews", "store_gm", at("2025-10-14 16:50"))
    f.refused(
        cid,
        "customer_satisfied",
        "cs_centre",
        at("2025-10-14 17:10"),
        re.escape("its condition \"severity != 'major'\" is false"),
    )
    f.act(cid, "customer_satisfied_major", "cs_centre", at("2025-10-14 17:10"))
    assert (f.case(cid).state, f.case(cid).owner_role) == ("major_report", "group_gm")
    f.act(cid, "group_gm_informed", "group_gm", at("2025-10-15 09:00"))
    assert f.case(cid).state == "closed"
    assert f.briefs(cid, "deadline_breached") == []
    assert f.engine.verify() == []


# ---------------------------------------------------------------------------------------------------------
# 000 C general_affairs_dispatch
# ---------------------------------------------------------------------------------------------------------


def ga_start(f: Flow, when: int) -> str:
    return f.start("general_affairs", when, customer_name="王先生", content="送货延误", phone="13900000000")


def test_dispatch_pass_on_within_10_minutes(flow):
    f = flow("general_affairs_dispatch")
    t0 = at("2025-10-13 09:00")
    on_time, tie, ticked = (ga_start(f, t0) for _ in range(3))
    for cid in (on_time, tie, ticked):
        assert f.clock(cid, "transmit_10m")["due"] == t0 + 10 * MIN
    f.act(on_time, "pass_to_sales_manager", "general_affairs", t0 + 10 * MIN - 1, record_no="TS-001")
    f.ticks_nothing(t0 + 10 * MIN - 1, tie, ticked)
    assert f.engine.overdue(t0 + 10 * MIN - 1) == []
    # Passed on at the due instant itself ("within 10 minutes" includes the 10th minute): on time.
    f.act(tie, "pass_to_sales_manager", "general_affairs", t0 + 10 * MIN, record_no="TS-002")
    assert f.briefs(tie)[1:] == [
        ("acted", "pass_to_sales_manager", "with_sales_manager"),
        ("met", "transmit_10m", True),
    ]
    assert f.tick(t0 + 10 * MIN) == [("breached", "transmit_10m", t0 + 10 * MIN, t0 + 10 * MIN)]
    assert [c.id for c in f.engine.overdue(t0 + 10 * MIN)] == [ticked]

    old_hash = f.spec.content_hash
    f.reload(load_process=True)  # loading the same file again into the store is accepted
    assert f.spec.content_hash == old_hash
    f.act(ticked, "pass_to_sales_manager", "general_affairs", t0 + 12 * MIN, record_no="TS-003")
    assert f.briefs(on_time, "deadline_met") == [("met", "transmit_10m", True)]
    assert f.briefs(ticked)[1:] == [
        ("breached", "transmit_10m", t0 + 10 * MIN, t0 + 10 * MIN),
        ("acted", "pass_to_sales_manager", "with_sales_manager"),
        ("met", "transmit_10m", False),
    ]
    assert f.engine.overdue(t0 + 1 * HOUR) == []
    assert f.engine.verify() == []


def test_dispatch_progress_every_30_minutes_redispatch_loops_and_same_day_result(flow):
    f = flow("general_affairs_dispatch")
    cid = ga_start(f, at("2025-10-13 09:00"))
    f.act(cid, "pass_to_sales_manager", "general_affairs", at("2025-10-13 09:05"), record_no="TS-010")
    t1 = at("2025-10-13 09:10")
    f.act(cid, "assign_regional_head", "sales_manager", t1)
    assert f.clock(cid, "progress_30m")["due"] == t1 + 30 * MIN

    # Reporting progress satisfies the current period and starts a new one of 30 minutes.
    r1 = t1 + 20 * MIN
    f.act(cid, "report_progress", "regional_head", r1)
    assert f.case(cid).state == "regional_handling"
    assert f.clock(cid, "progress_30m")["due"] == r1 + 30 * MIN
    assert f.briefs(cid, "deadline_met") == [("met", "transmit_10m", True), ("met", "progress_30m", True)]

    # Two periods missed (r1+30m and r1+60m; a tick at exactly the second one counts it), reported once as
    # one breach event; the clock waits for the third.
    d = r1 + 30 * MIN
    f.ticks_nothing(d - 1, cid)
    assert f.tick(d + 30 * MIN) == [("breached", "progress_30m", d, d, 2, d + 60 * MIN)]
    clock = f.clock(cid, "progress_30m")
    assert (clock["misses"], clock["due"], clock["breached"]) == (2, d + 60 * MIN, False)

    f.reload()
    f.ticks_nothing(d + 45 * MIN, cid)
    r2 = d + 50 * MIN
    f.act(cid, "report_progress", "regional_head", r2)
    clock = f.clock(cid, "progress_30m")
    assert (clock["misses"], clock["due"]) == (0, r2 + 30 * MIN)
    assert f.briefs(cid, "deadline_met", "progress_30m")[-1] == ("met", "progress_30m", False)

    # Two re-dispatch loops (customer not satisfied), then satisfied.
    t = r2 + 10 * MIN
    for loop in range(3):
        f.act(cid, "finish_handling", "regional_head", t, handling_plan=f"方案{loop + 1}")
        f.act(cid, "sign_record", "responsible_dept", t + 5 * MIN)
        assert f.case(cid).state == "callback"
        assert "progress_30m" not in f.case(cid).clocks
        if loop == 2:
            break
        f.act(cid, "redispatch", "general_affairs", t + 10 * MIN, new_measures=f"新措施{loop + 1}")
        assert (f.case(cid).state, f.case(cid).owner_role) == ("with_sales_manager", "sales_manager")
        f.act(cid, "assign_regional_head", "sales_manager", t + 15 * MIN)
        assert f.clock(cid, "progress_30m")["due"] == t + 45 * MIN
        t += 40 * MIN
    assert [b for b in f.briefs(cid, "acted") if b[1] == "redispatch"] == [
        ("acted", "redispatch", "with_sales_manager")
    ] * 2

    satisfied = at("2025-10-13 15:00")
    f.act(cid, "customer_satisfied", "general_affairs", satisfied)
    end_of_day = at("2025-10-13 18:00")
    assert f.clock(cid, "result_same_day")["due"] == end_of_day
    f.reload()
    f.ticks_nothing(end_of_day - 1, cid)
    assert f.tick(end_of_day) == [("breached", "result_same_day", end_of_day, end_of_day)]
    f.act(cid, "report_result", "dept_head", end_of_day + 30 * MIN)
    assert f.case(cid).state == "archived"
    assert f.briefs(cid, "deadline_met", "result_same_day") == [("met", "result_same_day", False)]
    assert f.engine.verify() == []


@pytest.mark.parametrize(
    "satisfied, due",
    [
        ("2025-10-13 15:00", "2025-10-13 18:00"),  # Monday afternoon: that day's close
        ("2025-10-13 19:00", "2025-10-14 18:00"),  # after close: the next working day
        ("2025-09-30 19:00", "2025-10-09 18:00"),  # after close before National Day: first working day after it
    ],
)
def test_dispatch_same_day_result_report(flow, satisfied, due):
    f = flow("general_affairs_dispatch")
    s = at(satisfied)
    cid = ga_start(f, s - 2 * HOUR)
    f.act(cid, "pass_to_sales_manager", "general_affairs", s - 2 * HOUR + 5 * MIN, record_no="TS-020")
    f.act(cid, "assign_regional_head", "sales_manager", s - 2 * HOUR + 10 * MIN)
    f.act(cid, "finish_handling", "regional_head", s - 2 * HOUR + 30 * MIN, handling_plan="更换")
    f.act(cid, "sign_record", "responsible_dept", s - 1 * HOUR)
    f.act(cid, "customer_satisfied", "general_affairs", s)
    assert f.clock(cid, "result_same_day")["due"] == at(due)
    f.reload()
    f.ticks_nothing(at(due) - 1, cid)
    f.act(cid, "report_result", "dept_head", at(due) - 1 * MIN)
    assert f.briefs(cid, "deadline_met", "result_same_day") == [("met", "result_same_day", True)]
    assert f.engine.verify() == []


# ---------------------------------------------------------------------------------------------------------
# 004 service_desk (calendar "office": Mon-Fri 09:00-12:00 and 13:00-18:00, statutory china)
# ---------------------------------------------------------------------------------------------------------


def sd_start(f: Flow, when: int, case_type: str, urgency: str = "normal") -> str:
    return f.start(
        "receptionist",
        when,
        contact_name="赵经理",
        content="空调不制冷",
        case_type=case_type,
        urgency=urgency,
        address="A座301",
    )


def test_service_desk_follow_ups_after_dispatch_and_close_only_on_the_signed_work_order(flow):
    f = flow("service_desk")
    cid = sd_start(f, at("2025-10-13 09:50"), "complaint")
    f.act(
        cid,
        "open_complaint",
        "receptionist",
        at("2025-10-13 09:55"),
        needs_case=True,
        opened_at="2025-10-13 09:55",
        nature="valid",
        subject="equipment",
    )
    dispatched = at("2025-10-13 10:00")
    f.act(cid, "dispatch", "receptionist", dispatched)
    assert f.clock(cid, "first_follow_up_2h")["due"] == dispatched + 2 * HOUR
    eod = at("2025-10-13 18:00")
    assert f.clock(cid, "second_follow_up_eod")["due"] == eod

    # Closing (销项) is only possible on the customer-signed work order. The file encodes "signed" as a state,
    # not a field: the order is back at the desk (work_order_returned, reached by implementer_done or, for
    # repairs, customer_signs), and close_case is taken only from there.
    f.refused(
        cid,
        "close_case",
        "receptionist",
        dispatched + 30 * MIN,
        re.escape("action 'close_case' cannot be taken in 'dispatched' (it applies in work_order_returned)"),
        close_result="已修好",
    )

    assert f.tick(dispatched + 2 * HOUR) == [
        ("breached", "first_follow_up_2h", dispatched + 2 * HOUR, dispatched + 2 * HOUR)
    ]
    # Still not handled at the end of the day: the CS supervisor, then (a working day on) the project manager.
    next_eod = at("2025-10-14 18:00")
    assert f.tick(eod) == [
        ("breached", "second_follow_up_eod", eod, eod),
        ("escalated", "second_follow_up_eod", "service_chain", 1, 2, "cs_supervisor", "notify", next_eod, eod),
    ]
    f.reload()
    f.ticks_nothing(next_eod - 1, cid)
    assert f.tick(next_eod) == [
        ("escalated", "second_follow_up_eod", "service_chain", 2, 2, "project_manager", "notify", None, next_eod),
    ]

    returned = at("2025-10-15 10:00")
    f.act(cid, "implementer_done", "implementer", returned)
    assert f.briefs(cid, "deadline_met")[-2:] == [
        ("met", "first_follow_up_2h", False),
        ("met", "second_follow_up_eod", False),
    ]
    f.refused(
        cid,
        "close_case",
        "receptionist",
        returned + 5 * MIN,
        re.escape("action 'close_case' needs input(s): close_result"),
    )
    f.refused(cid, "close_case", "implementer", returned + 5 * MIN, needs_roles("receptionist"), close_result="已修好")
    closed = returned + 10 * MIN
    f.act(cid, "close_case", "receptionist", closed, close_result="已修好，业户签名")
    assert f.case(cid).state == "case_closed"
    assert f.clock(cid, "callback_2d")["due"] == at("2025-10-17 10:10")
    assert f.clock(cid, "callback_1w")["due"] == at("2025-10-22 10:10")
    f.act(cid, "callback_ok", "receptionist", at("2025-10-16 15:00"))
    assert f.case(cid).state == "archived"
    assert f.engine.verify() == []


@pytest.mark.parametrize(
    "dispatched, eod",
    [
        ("2025-10-13 17:00", "2025-10-13 18:00"),
        ("2025-10-13 18:30", "2025-10-14 18:00"),  # after close: the next working day's close
        ("2025-09-30 18:30", "2025-10-09 18:00"),  # National Day in between
    ],
)
def test_service_desk_second_follow_up_before_the_end_of_the_working_day(flow, dispatched, eod):
    f = flow("service_desk")
    cid = sd_start(f, at(dispatched) - 10 * MIN, "complaint")
    f.act(
        cid,
        "open_complaint",
        "receptionist",
        at(dispatched) - 5 * MIN,
        needs_case=True,
        nature="valid",
        subject="service_quality",
        opened_at=dispatched,
    )
    f.act(cid, "dispatch", "receptionist", at(dispatched))
    assert f.clock(cid, "first_follow_up_2h")["due"] == at(dispatched) + 2 * HOUR  # wall clock
    assert f.clock(cid, "second_follow_up_eod")["due"] == at(eod)
    f.reload()
    f.act(cid, "cannot_handle", "implementer", at(dispatched) + 1 * HOUR)
    assert f.engine.verify() == []


def test_service_desk_repair_minute_clocks(flow):
    f = flow("service_desk")
    t0 = at("2025-10-13 10:00")
    cid = sd_start(f, t0, "repair")
    f.act(cid, "open_repair", "receptionist", t0, needs_case=True, opened_at="2025-10-13 10:00")
    assert f.clock(cid, "work_order_3m")["due"] == t0 + 3 * MIN
    f.act(cid, "fill_work_order", "receptionist", t0 + 2 * MIN)
    assert f.clock(cid, "notify_engineering_2m")["due"] == t0 + 4 * MIN
    f.ticks_nothing(t0 + 4 * MIN - 1, cid)
    assert f.tick(t0 + 4 * MIN) == [("breached", "notify_engineering_2m", t0 + 4 * MIN, t0 + 4 * MIN)]
    f.act(cid, "notify_engineering", "receptionist", t0 + 5 * MIN)
    assert f.clock(cid, "first_follow_up_2h")["due"] == t0 + 5 * MIN + 2 * HOUR
    f.act(cid, "assign_at_once", "engineering_supervisor", t0 + 6 * MIN, in_fee_schedule=True)
    assert f.case(cid).state == "technician_dispatched"
    assert f.clock(cid, "onsite_10m")["due"] == t0 + 16 * MIN

    f.reload()
    f.ticks_nothing(t0 + 16 * MIN - 1, cid)
    assert f.tick(t0 + 16 * MIN) == [
        ("breached", "onsite_10m", t0 + 16 * MIN, t0 + 16 * MIN),
        ("escalated", "onsite_10m", "repair_chain", 1, 1, "engineering_supervisor", "notify", None, t0 + 16 * MIN),
    ]
    f.act(cid, "arrive", "technician", t0 + 20 * MIN)
    f.act(cid, "start_repair", "technician", t0 + 25 * MIN)
    f.act(cid, "customer_signs", "technician", t0 + 50 * MIN)
    f.act(cid, "close_case", "receptionist", t0 + 55 * MIN, close_result="已修复，园区单位签名")
    f.act(cid, "callback_ok", "receptionist", t0 + 1 * DAY)
    assert f.case(cid).state == "archived"
    assert {b[1]: b[2] for b in f.briefs(cid, "deadline_met")} == {
        "work_order_3m": True,
        "notify_engineering_2m": False,
        "onsite_10m": False,
        "first_follow_up_2h": True,
        "second_follow_up_eod": True,
        "callback_2d": True,
        "callback_1w": True,
    }

    # A repair left unwritten: the 3-minute work order breaches at exactly start + 3m.
    f.reload(load_process=True)
    t1 = at("2025-10-14 11:00")
    late = sd_start(f, t1, "repair")
    f.act(late, "open_repair", "receptionist", t1, needs_case=True, opened_at="2025-10-14 11:00")
    f.ticks_nothing(t1 + 3 * MIN - 1, late)
    assert f.tick(t1 + 3 * MIN) == [("breached", "work_order_3m", t1 + 3 * MIN, t1 + 3 * MIN)]
    assert f.engine.verify() == []


def test_service_desk_fee_approval_pause_pushes_follow_ups_by_the_time_paused(flow):
    f = flow("service_desk")
    t0 = at("2025-10-13 09:50")
    cid = sd_start(f, t0, "repair")
    f.act(cid, "open_repair", "receptionist", t0, needs_case=True, opened_at="2025-10-13 09:50")
    f.act(cid, "fill_work_order", "receptionist", t0 + 1 * MIN)
    notified = at("2025-10-13 10:00")
    f.act(cid, "notify_engineering", "receptionist", notified)
    f.act(cid, "send_to_pricing", "engineering_supervisor", at("2025-10-13 10:05"), in_fee_schedule=False)
    assert f.clock(cid, "pricing_15m")["due"] == at("2025-10-13 10:20")
    paused = at("2025-10-13 10:30")
    f.act(cid, "quote_fee", "engineering_supervisor", paused)
    assert f.briefs(cid, "deadline_met", "pricing_15m") == [("met", "pricing_15m", False)]
    for name in ("first_follow_up_2h", "second_follow_up_eod"):
        assert f.clock(cid, name)["paused_at"] == paused
    f.ticks_nothing(at("2025-10-14 10:00"), cid)  # both original dues (12:00 and 18:00) pass while paused

    f.reload()
    resumed = at("2025-10-14 10:30")
    f.refused(
        cid,
        "fee_accepted_now",
        "engineering_supervisor",
        resumed,
        re.escape("its condition 'fee_accepted == true and appointment_at == null' is false"),
        fee_accepted=False,
    )
    f.act(cid, "fee_accepted_now", "engineering_supervisor", resumed, fee_accepted=True)
    # 2h wall clock: 1h30 were left at 10:30, so 12:00 the next day. End of day: 6h30 of working time were
    # left (10:30-12:00, 13:00-18:00), counted on from Tue 10:30: Tue 18:00.
    assert f.clock(cid, "first_follow_up_2h")["due"] == at("2025-10-14 12:00")
    assert f.clock(cid, "second_follow_up_eod")["due"] == at("2025-10-14 18:00")
    assert f.clock(cid, "first_follow_up_2h")["paused_at"] is None
    assert f.clock(cid, "onsite_10m")["due"] == resumed + 10 * MIN  # a new clock, not shifted
    f.act(cid, "arrive", "technician", resumed + 8 * MIN)
    f.ticks_nothing(at("2025-10-14 12:00") - 1, cid)
    assert f.tick(at("2025-10-14 12:00")) == [
        ("breached", "first_follow_up_2h", at("2025-10-14 12:00"), at("2025-10-14 12:00"))
    ]
    assert f.engine.verify() == []


def test_service_desk_fee_refused_after_a_pause_meets_the_follow_ups_on_time(flow):
    f = flow("service_desk")
    t0 = at("2025-10-13 09:50")
    cid = sd_start(f, t0, "repair")
    f.act(cid, "open_repair", "receptionist", t0, needs_case=True, opened_at="2025-10-13 09:50")
    f.act(cid, "fill_work_order", "receptionist", t0 + 1 * MIN)
    f.act(cid, "notify_engineering", "receptionist", at("2025-10-13 10:00"))  # follow-ups due 12:00 and 18:00
    f.act(cid, "send_to_pricing", "engineering_supervisor", at("2025-10-13 10:05"), in_fee_schedule=False)
    f.act(cid, "quote_fee", "engineering_supervisor", at("2025-10-13 10:10"))  # paused with 1h50 of 2h left
    f.reload()
    # The customer refuses the fee the next morning; `declined` is a stop state of both follow-ups, and the
    # time spent waiting on the customer does not count, so both are met with time to spare.
    f.act(cid, "fee_refused", "engineering_supervisor", at("2025-10-14 09:30"), fee_accepted=False)
    assert f.case(cid).state == "declined"
    assert f.briefs(cid, "deadline_breached", "first_follow_up_2h") == []
    met = {b[1]: b[2] for b in f.briefs(cid, "deadline_met")}
    assert (met["first_follow_up_2h"], met["second_follow_up_eod"]) == (True, True)


def test_service_desk_unsolvable_weekly_monday_review_rolls_past_national_day(flow):
    f = flow("service_desk")
    cid = sd_start(f, at("2025-09-30 09:00"), "complaint")
    f.act(
        cid,
        "open_complaint",
        "receptionist",
        at("2025-09-30 09:05"),
        needs_case=True,
        nature="valid",
        subject="equipment",
        opened_at="2025-09-30 09:05",
    )
    f.act(cid, "dispatch", "receptionist", at("2025-09-30 09:10"))
    f.act(cid, "cannot_handle", "implementer", at("2025-09-30 10:00"))
    # Monday 10-06 is a holiday: the review rolls to the next working day, Thu 10-09 09:00.
    assert f.clock(cid, "weekly_review")["due"] == at("2025-10-09 09:00")
    assert f.clock(cid, "quarterly_close_due")["due"] == at("2025-09-30 10:00") + 92 * DAY
    f.reload()
    f.ticks_nothing(at("2025-10-09 09:00") - 1, cid)
    f.act(cid, "record_weekly_review", "cs_supervisor", at("2025-10-09 09:30"))
    assert f.clock(cid, "weekly_review")["due"] == at("2025-10-13 09:00")
    f.act(cid, "quarterly_close", "project_manager", at("2025-10-10 10:00"), close_result="季度评审销项")
    assert f.case(cid).state == "case_closed"
    assert f.engine.verify() == []


# ---------------------------------------------------------------------------------------------------------
# 001 furniture_mall
# ---------------------------------------------------------------------------------------------------------


def fm_start(f: Flow, when: int) -> str:
    return f.start("service_centre", when, customer_name="刘女士", content="沙发开裂", phone="13700000000")


def test_furniture_unresolved_after_3_days_goes_to_senior_management(flow):
    f = flow("furniture_mall")
    t0 = at("2025-10-13 11:00")
    cid = fm_start(f, t0)
    f.act(cid, "negotiate", "service_centre", t0 + 1 * HOUR, complaint_type="beyond_policy_reasonable")
    three_days = at("2025-10-16 11:00")
    assert f.clock(cid, "three_days")["due"] == three_days
    f.ticks_nothing(three_days - 1, cid)
    # The file gives each level the same 3 days (the source gives none).
    assert f.tick(three_days) == [
        ("breached", "three_days", three_days, three_days),
        (
            "escalated",
            "three_days",
            "level_by_level",
            1,
            2,
            "mall_senior_mgmt",
            "notify",
            at("2025-10-19 11:00"),
            three_days,
        ),
    ]
    f.reload()
    f.act(cid, "cannot_agree", "service_centre", three_days + 1 * HOUR)
    assert (f.case(cid).state, f.case(cid).owner_role) == ("senior_handling", "mall_senior_mgmt")
    assert f.tick(at("2025-10-19 11:00")) == [
        (
            "escalated",
            "three_days",
            "level_by_level",
            2,
            2,
            "company_senior_mgmt",
            "notify",
            None,
            at("2025-10-19 11:00"),
        ),
    ]
    f.act(cid, "escalate_level", "mall_senior_mgmt", at("2025-10-19 12:00"))
    f.act(cid, "resolve", "company_senior_mgmt", at("2025-10-20 12:00"))
    assert f.case(cid).state == "closed"
    assert f.briefs(cid, "deadline_met") == [("met", "three_days", False)]
    assert f.engine.verify() == []


def test_furniture_injury_checklist_and_treatment_pauses_the_3_day_clock(flow):
    f = flow("furniture_mall")
    checklist = " ".join(item.zh for item in f.spec.states["injury_response"].checklist)
    assert "120" in checklist and "110" in checklist

    t0 = at("2025-10-13 11:00")
    cid = fm_start(f, t0)
    f.refused(
        cid,
        "escort_to_hospital",
        "duty_manager",
        t0 + 1 * MIN,
        re.escape("cannot be taken in 'received'"),
        escort_and_advance=True,
    )
    f.act(cid, "report_injury", "service_centre", t0 + 5 * MIN, injury=True, serious_injury=True, dispute=False)
    assert (f.case(cid).state, f.case(cid).owner_role) == ("injury_response", "duty_manager")
    f.act(cid, "record_injury_steps", "duty_manager", t0 + 10 * MIN, injury_steps=["called_120", "notified"])
    assert f.case(cid).data["injury_steps"] == ["notified", "called_120"]  # the items' order, as declared
    due = t0 + 3 * DAY
    paused = t0 + 1 * HOUR
    f.act(cid, "escort_to_hospital", "duty_manager", paused, escort_and_advance=True)
    assert f.clock(cid, "three_days")["paused_at"] == paused
    assert f.clock(cid, "three_days")["due"] == due
    f.ticks_nothing(due + 1 * DAY, cid)  # paused: no breach at the original due
    assert f.engine.overdue(due + 1 * DAY) == []

    f.reload()
    resumed = t0 + 5 * DAY
    f.act(cid, "discharged", "insurance_officer", resumed)
    new_due = due + (resumed - paused)  # the 2 days 23 hours that were left, counted on from the discharge
    clock = f.clock(cid, "three_days")
    assert (clock["paused_at"], clock["due"]) == (None, new_due)
    f.ticks_nothing(new_due - 1, cid)
    assert f.tick(new_due)[0] == ("breached", "three_days", new_due, new_due)
    f.act(cid, "resolve", "duty_manager", new_due + 1 * HOUR)
    assert f.case(cid).state == "closed"
    assert f.engine.verify() == []


# ---------------------------------------------------------------------------------------------------------
# 000 A building_materials_after_sales
# ---------------------------------------------------------------------------------------------------------


def bm_start(f: Flow, when: int) -> str:
    return f.start("customer_mgmt", when, customer_name="周先生", phone="13600000000")


def bm_record(f: Flow, cid: str, when: int) -> None:
    f.act(
        cid,
        "record_complaint",
        "sales_staff",
        when,
        product="防水涂料",
        quantity=20,
        specification="20kg/桶",
        area_applied=150,
        phenomena="起泡脱落",
    )


def test_building_materials_parallel_onsite_and_remedy_join_before_close(flow):
    f = flow("building_materials_after_sales")
    t0 = at("2025-10-13 09:00")
    cid = bm_start(f, t0)
    assert f.clock(cid, "close_48h")["due"] == t0 + 48 * HOUR
    bm_record(f, cid, t0 + 30 * MIN)
    assert f.clock(cid, "react_24h")["due"] == t0 + 30 * MIN + 24 * HOUR
    f.act(cid, "react", "after_sales", t0 + 2 * HOUR, analysis="application_problem")
    case = f.case(cid)
    assert case.state == "handling"
    assert case.branches == {"onsite": "onsite_planning", "remedy": "remedy_talks"}
    assert f.briefs(cid, "deadline_met") == [("met", "react_24h", True)]

    text = f.refused(
        cid, "close_and_archive", "after_sales_supervisor", t0 + 2 * HOUR + 5 * MIN, r"waiting for branch\(es\)"
    )
    assert "onsite" in text and "remedy" in text
    # Side by side: a step in each branch, in either order.
    f.act(cid, "agree_remedy", "after_sales_supervisor", t0 + 3 * HOUR)
    f.act(cid, "send_onsite_application", "after_sales", t0 + 4 * HOUR)
    assert f.case(cid).branches == {"onsite": "onsite_visit", "remedy": "notify_agent"}
    assert f.case(cid).state == "handling"
    f.act(cid, "finish_onsite", "after_sales", t0 + 6 * HOUR)
    text = f.refused(
        cid, "close_and_archive", "after_sales_supervisor", t0 + 6 * HOUR, r"waiting for branch\(es\) remedy to finish"
    )
    assert "onsite," not in text
    supervisor = f.actor("after_sales_supervisor")
    assert "close_and_archive" not in [a.id for a in f.engine.available_actions(cid, supervisor)]

    f.reload()
    f.act(cid, "inform_agent", "after_sales_supervisor", t0 + 7 * HOUR)
    assert f.case(cid).branches == {"onsite": "onsite_done", "remedy": "remedy_agreed"}
    assert "close_and_archive" in [a.id for a in f.engine.available_actions(cid, supervisor)]
    f.ticks_nothing(t0 + 48 * HOUR - 1, cid)
    f.act(cid, "close_and_archive", "after_sales_supervisor", t0 + 48 * HOUR - 1 * MIN)
    case = f.case(cid)
    assert (case.state, case.branches, case.closed_at) == ("archived", {}, t0 + 48 * HOUR - 1 * MIN)
    assert f.briefs(cid, "deadline_met")[-1] == ("met", "close_48h", True)
    assert f.engine.verify() == []


def test_building_materials_24h_reaction_and_48h_close_breaches(flow):
    f = flow("building_materials_after_sales")
    t0 = at("2025-10-13 09:00")
    cid = bm_start(f, t0)
    recorded = t0 + 30 * MIN
    bm_record(f, cid, recorded)
    f.ticks_nothing(recorded + 24 * HOUR - 1, cid)
    assert f.tick(recorded + 24 * HOUR) == [("breached", "react_24h", recorded + 24 * HOUR, recorded + 24 * HOUR)]
    f.reload()
    f.act(cid, "react", "after_sales", recorded + 25 * HOUR, analysis="likely_quality")
    f.act(cid, "send_with_technical", "after_sales", recorded + 26 * HOUR)
    f.act(cid, "finish_onsite", "technical_dept", recorded + 30 * HOUR)
    f.act(cid, "agree_remedy", "after_sales_supervisor", recorded + 31 * HOUR)
    f.act(cid, "inform_agent", "after_sales_supervisor", recorded + 32 * HOUR)
    f.ticks_nothing(t0 + 48 * HOUR - 1, cid)
    assert f.tick(t0 + 48 * HOUR) == [("breached", "close_48h", t0 + 48 * HOUR, t0 + 48 * HOUR)]
    f.act(cid, "close_and_archive", "after_sales_supervisor", t0 + 50 * HOUR)
    assert f.briefs(cid, "deadline_met") == [("met", "react_24h", False), ("met", "close_48h", False)]
    assert f.engine.verify() == []


def test_building_materials_president_approval_lifts_the_48h_and_sample_result_same_day(flow):
    f = flow("building_materials_after_sales")
    t0 = at("2025-10-13 09:00")
    cid = bm_start(f, t0)
    bm_record(f, cid, t0 + 10 * MIN)
    f.act(cid, "react", "after_sales", t0 + 1 * HOUR, analysis="cause_unknown")
    f.act(cid, "send_sample_inspection", "after_sales", at("2025-10-13 14:00"))
    assert f.clock(cid, "sample_result_same_day")["due"] == at("2025-10-13 18:00")
    f.act(cid, "refer_to_president", "after_sales_supervisor", at("2025-10-13 15:00"), needs_president_approval=True)
    # "除需通过总裁批准外": the file ends the 48h clock on entering president_approval.
    assert "close_48h" not in f.case(cid).clocks
    assert f.tick(at("2025-10-13 18:00")) == [
        ("breached", "sample_result_same_day", at("2025-10-13 18:00"), at("2025-10-13 18:00"))
    ]
    f.reload()
    f.ticks_nothing(t0 + 60 * HOUR, cid)
    f.act(cid, "report_inspection", "engineering_dept", t0 + 60 * HOUR)
    f.act(cid, "finish_onsite", "after_sales", t0 + 61 * HOUR)
    f.act(cid, "president_approves", "president", t0 + 70 * HOUR)
    f.act(cid, "inform_agent", "after_sales_supervisor", t0 + 71 * HOUR)
    f.act(cid, "close_and_archive", "after_sales_supervisor", t0 + 72 * HOUR)
    assert f.case(cid).state == "archived"
    assert ("met", "close_48h", True) in f.briefs(cid, "deadline_met")
    assert f.engine.verify() == []


# ---------------------------------------------------------------------------------------------------------
# 000 G property_developer
# ---------------------------------------------------------------------------------------------------------


def pd_to_appraisal(f: Flow, t0: int) -> str:
    cid = f.start("property_branch", t0, customer_name="黄女士", content="外墙渗水")
    f.act(cid, "record_and_classify", "property_branch", t0 + 10 * MIN, severity="general", content="外墙渗水")
    f.act(cid, "hand_over_general", "property_branch", t0 + 20 * MIN)
    f.act(cid, "route_quality", "project_mgmt", t0 + 1 * HOUR, responsibility="product_quality")
    f.act(cid, "outside_warranty", "engineering_staff", t0 + 2 * HOUR, in_warranty=False)
    f.act(cid, "repair_done", "project_mgmt", t0 + 1 * DAY)
    f.act(cid, "compensation_due", "project_mgmt", t0 + 1 * DAY + HOUR, compensation_claimed=True)
    assert f.case(cid).state == "appraisal_negotiation"
    return cid


@pytest.mark.parametrize(
    "amount, takes, lands, refused, condition",
    [
        (2999, "amount_below_review", "awaiting_acceptance", "amount_needs_review", "compensation_amount >= 3000"),
        (3000, "amount_needs_review", "settlement_review", "amount_below_review", "compensation_amount < 3000"),
        (3001, "amount_needs_review", "settlement_review", "amount_below_review", "compensation_amount < 3000"),
    ],
)
def test_developer_compensation_review_from_3000_yuan(flow, amount, takes, lands, refused, condition):
    f = flow("property_developer")
    t0 = at("2025-10-13 09:00")
    cid = pd_to_appraisal(f, t0)
    t = t0 + 2 * DAY
    message = f.refused(
        cid,
        refused,
        "project_mgmt",
        t,
        re.escape(f"its condition {condition!r} is false"),
        compensation_amount=amount,
        third_party_appraisal=False,
    )
    assert refused in message
    assert "compensation_amount" not in f.case(cid).data
    # Before the amount is on the case, both guards read an input not given yet: both actions are offered,
    # and the guard decides when one is taken with the amount.
    offered = [a.id for a in f.engine.available_actions(cid, f.actor("project_mgmt"))]
    assert "amount_below_review" in offered and "amount_needs_review" in offered
    f.act(cid, takes, "project_mgmt", t, compensation_amount=amount, third_party_appraisal=False)
    assert f.case(cid).state == lands
    assert f.case(cid).data["compensation_amount"] == amount

    f.reload()
    if lands == "settlement_review":
        f.act(cid, "review_done", "audit", t + 1 * HOUR)
        f.act(cid, "gm_meeting_approves", "gm_meeting", t + 2 * DAY)
    # awaiting_acceptance is a pause state: the one-month clock stops while the customer decides.
    clock = f.clock(cid, "resolve_within_month")
    assert clock["paused_at"] is not None and clock["due"] == t0 + 10 * MIN + 30 * DAY
    f.act(cid, "customer_accepts", "project_mgmt", t + 3 * DAY)
    f.act(cid, "recover_done", "project_mgmt", t + 4 * DAY)
    f.act(cid, "finish", "property_branch", t + 5 * DAY)
    assert f.case(cid).state == "closed"
    assert f.briefs(cid, "deadline_met") == [("met", "resolve_within_month", True)]
    assert f.engine.verify() == []


def test_developer_unresolved_within_a_month_reports_to_the_leader(flow):
    f = flow("property_developer")
    t0 = at("2025-10-13 09:00")
    cid = f.start("sales_branch", t0, customer_name="孙先生", content="交房延误")
    classified = t0 + 5 * MIN
    f.act(cid, "record_and_classify", "sales_branch", classified, severity="important", content="交房延误")
    f.act(cid, "report_to_leader", "sales_branch", classified + 5 * MIN)
    f.refused(
        cid,
        "hand_over_after_review",
        "property_branch",
        classified + 6 * MIN,
        needs_roles("supervisor", "company_leader"),
    )
    # 一个月: the file uses 30 calendar days.
    due = at("2025-11-12 09:05")
    assert due == classified + 30 * DAY
    f.reload()
    f.ticks_nothing(due - 1, cid)
    assert f.tick(due) == [
        ("breached", "resolve_within_month", due, due),
        ("escalated", "resolve_within_month", "unresolved_major", 1, 1, "company_leader", "notify", None, due),
    ]
    assert f.engine.verify() == []


# ---------------------------------------------------------------------------------------------------------
# Processes without clocks in the source: a happy path to a final state and a wrong-role refusal each.
# ---------------------------------------------------------------------------------------------------------


def test_taobao_operations_happy_path_with_renegotiation(flow):
    f = flow("taobao_operations")
    t0 = at("2025-10-13 09:00")
    data = dict(
        complaint_no="TB-20251013-01",
        complaint_date="2025-10-13 08:55",
        customer_name="吴女士",
        contact="wangwang:wu",
        content="收到的商品破损",
    )
    cid = f.start("receiver", t0, **data)
    f.refused(
        cid,
        "record",
        "handler",
        t0 + 1 * MIN,
        needs_roles("receiver"),
        customer_name="吴女士",
        contact="wangwang:wu",
        complaint_date="2025-10-13 08:55",
        content="破损",
    )
    f.act(
        cid,
        "record",
        "receiver",
        t0 + 2 * MIN,
        customer_name="吴女士",
        contact="wangwang:wu",
        complaint_date="2025-10-13 08:55",
        content="收到的商品破损",
    )
    f.act(
        cid,
        "classify_and_assign",
        "receiver",
        t0 + 5 * MIN,
        category="logistics",
        priority="important",
        handler_name="小张",
    )
    f.act(cid, "analyse", "handler", t0 + 1 * HOUR, root_cause="快递包装不足")
    f.act(cid, "make_plan", "handler", t0 + 2 * HOUR, solution="补发新品", time_limit="2025-10-15 18:00")
    f.act(cid, "contact_customer", "handler", t0 + 3 * HOUR, expected_resolution="2025-10-15 12:00")
    f.reload()
    f.act(cid, "log_follow_up", "handler", t0 + 1 * DAY)
    f.act(cid, "log_follow_up", "handler", t0 + 1 * DAY + 2 * HOUR)
    f.act(cid, "solve", "related_dept", t0 + 2 * DAY, result="已补发", handled_date="2025-10-15 09:00")
    f.act(cid, "give_feedback", "handler", t0 + 2 * DAY + HOUR)
    f.refused(
        cid,
        "confirm_satisfied",
        "handler",
        t0 + 3 * DAY,
        re.escape("its condition 'customer_satisfied == true' is false"),
        customer_satisfied=False,
    )
    f.act(cid, "renegotiate", "handler", t0 + 3 * DAY, customer_satisfied=False)
    assert f.case(cid).state == "planning"
    f.act(cid, "make_plan", "handler", t0 + 3 * DAY + HOUR, solution="补发并补偿优惠券", time_limit="2025-10-17 18:00")
    f.act(cid, "contact_customer", "handler", t0 + 3 * DAY + 2 * HOUR, expected_resolution="2025-10-17 12:00")
    f.act(cid, "solve", "handler", t0 + 4 * DAY, result="已补偿", handled_date="2025-10-17 09:00")
    f.act(cid, "give_feedback", "handler", t0 + 4 * DAY + HOUR)
    f.act(cid, "confirm_satisfied", "handler", t0 + 5 * DAY, customer_satisfied=True)
    case = f.case(cid)
    assert (case.state, case.closed_at, case.clocks) == ("archived", t0 + 5 * DAY, {})
    assert len(f.briefs(cid, "acted")) == 15
    f.refused(cid, "log_follow_up", "handler", t0 + 6 * DAY, r"is closed \(in 'archived'\)")
    assert f.engine.verify() == []


def test_equipment_after_sales_happy_path_with_parallel_preparation(flow):
    f = flow("equipment_after_sales")
    t0 = at("2025-10-13 09:00")
    cid = f.start("sales", t0, customer_name="某机械厂", defect="主轴异响（附照片）")
    f.act(
        cid,
        "confirm_details",
        "sales",
        t0 + 1 * HOUR,
        defect="主轴异响（附照片）",
        location="车间2",
        quantity=1,
        ship_date="2025-08-01 10:00",
        return_or_exchange=False,
        onsite_service=True,
    )
    f.act(cid, "request_onsite_service", "sales", t0 + 2 * HOUR)
    f.refused(cid, "send_plan", "sales", t0 + 3 * HOUR, needs_roles("engineering_dept"))
    f.act(cid, "send_plan", "engineering_dept", t0 + 3 * HOUR)
    assert f.case(cid).branches == {"lead_prep": "lead_appointment", "parts": "parts_check"}
    f.act(cid, "buy_parts", "purchasing", t0 + 4 * HOUR, parts_needed=True)
    f.reload()
    f.act(cid, "appoint_lead", "production", t0 + 5 * HOUR)
    f.refused(cid, "go_service", "after_sales_lead", t0 + 5 * HOUR, r"waiting for branch\(es\) lead_prep")
    f.act(cid, "lead_prepared", "after_sales_lead", t0 + 1 * DAY, lead_found_solution=True)
    f.act(cid, "go_service", "after_sales_lead", t0 + 1 * DAY + HOUR)
    f.act(
        cid,
        "service_done",
        "after_sales_lead",
        t0 + 2 * DAY,
        root_cause="轴承润滑不足",
        corrective_action="改进装配工艺",
    )
    f.act(cid, "verify_and_archive", "production_qc", t0 + 3 * DAY)
    assert f.case(cid).state == "archived"
    assert f.engine.verify() == []


def test_eight_step_happy_path_with_leader_sending_the_remedy_back(flow):
    f = flow("eight_step")
    t0 = at("2025-10-13 09:00")
    cid = f.start("clerk", t0, complainant="郑先生", record_no="NO-186-01")
    f.act(
        cid,
        "record",
        "clerk",
        t0 + 5 * MIN,
        complainant="郑先生",
        complained_at="2025-10-13 08:50",
        target="客房空调",
        demand="换房",
    )
    f.act(cid, "judge_valid", "clerk", t0 + 10 * MIN, complaint_valid=True)
    f.act(cid, "to_quality", "clerk", t0 + 15 * MIN, problem_type="quality")
    assert f.case(cid).owner_role == "quality_dept"
    f.act(cid, "find_cause", "quality_dept", t0 + 1 * HOUR, cause="空调滤网堵塞", liable_person="维修工")
    f.act(cid, "propose_remedy", "quality_dept", t0 + 2 * HOUR, remedy="repair")
    f.refused(cid, "approve", "clerk", t0 + 3 * HOUR, needs_roles("supervisor_leader"))
    f.act(cid, "send_back", "supervisor_leader", t0 + 3 * HOUR)
    f.act(cid, "propose_remedy", "responsible_dept", t0 + 4 * HOUR, remedy="discount")
    f.reload()
    f.act(cid, "approve", "supervisor_leader", t0 + 5 * HOUR)
    f.act(cid, "notify_customer", "responsible_person", t0 + 6 * HOUR)
    f.act(cid, "feedback_received", "responsible_person", t0 + 1 * DAY)
    f.act(cid, "evaluate", "supervisor_leader", t0 + 2 * DAY)
    case = f.case(cid)
    assert (case.state, case.data["remedy"]) == ("closed", "discount")
    assert f.engine.verify() == []


def test_four_phase_template_happy_path(flow):
    f = flow("four_phase_template")
    t0 = at("2025-10-13 09:00")
    cid = f.start("cs_rep", t0, customer_name="冯女士", content="售后服务态度差")
    f.refused(cid, "record", "related_dept", t0 + 1 * MIN, needs_roles("cs_rep"), channel="email", content="x")
    steps = [
        ("record", "cs_rep", dict(channel="email", content="售后服务态度差")),
        ("confirm", "cs_rep", {}),
        ("classify", "cs_rep", dict(category="after_sales_service")),
        ("propose_solution", "related_dept", dict(solution="道歉并培训")),
        ("customer_rejects", "cs_rep", {}),
        ("propose_solution", "related_dept", dict(solution="道歉、培训并赠送保养")),
        ("customer_confirms", "cs_rep", {}),
        ("execute", "related_dept", {}),
        ("give_feedback", "cs_rep", {}),
        ("confirm_internal_cause", "cs_rep", dict(internal_cause=True)),
        ("finish_corrective_action", "related_dept", {}),
        ("record_data", "cs_rep", {}),
        ("report_to_management", "management", {}),
        ("send_survey", "cs_rep", {}),
        ("close", "cs_rep", {}),
    ]
    for i, (action, role, inputs) in enumerate(steps):
        if i == 7:
            f.reload()
        f.act(cid, action, role, t0 + (i + 1) * HOUR, **inputs)
    assert f.case(cid).state == "closed"
    assert [b[2] for b in f.briefs(cid, "acted")][-3:] == ["satisfaction_survey", "monitoring", "closed"]
    assert f.engine.verify() == []


def test_renovation_approval_happy_path_half_working_day_clocks(flow):
    f = flow("renovation_approval")
    t0 = at("2025-10-13 09:30")
    cid = f.start("cs_dept", t0, applicant_name="何先生", notice_days=10, address="B座1502")
    f.refused(cid, "return_late_application", "cs_dept", t0, re.escape("'notice_days < 7' is false"), notice_days=10)
    accepted = at("2025-10-13 10:00")
    f.act(cid, "accept_application", "cs_dept", accepted, notice_days=10, is_tenant=False)
    # Half a working day = 4 working hours on 09:00-12:00 + 13:00-18:00: 10:00-12:00 and 13:00-15:00.
    assert f.clock(cid, "review_half_day")["due"] == at("2025-10-13 15:00")
    f.refused(cid, "agree", "cs_dept", at("2025-10-13 14:00"), needs_roles("cs_supervisor"), design_ok=True)
    f.act(cid, "agree", "cs_supervisor", at("2025-10-13 16:00"), design_ok=True)
    # Breached at 15:00: the action at 16:00 records the breach first, at its due.
    assert f.briefs(cid, "deadline_breached") == [
        ("breached", "review_half_day", at("2025-10-13 15:00"), at("2025-10-13 15:00"))
    ]
    # 16:00-18:00 and 09:00-11:00 the next day.
    assert f.clock(cid, "approval_half_day")["due"] == at("2025-10-14 11:00")
    f.reload()
    f.act(cid, "approve", "engineering_supervisor", at("2025-10-14 10:00"))
    f.act(cid, "start_works", "security", at("2025-10-15 09:00"))
    f.act(cid, "request_acceptance", "cs_dept", at("2025-11-20 10:00"))
    assert f.clock(cid, "acceptance_same_day")["due"] == at("2025-11-20 18:00")
    f.act(cid, "accept_works", "engineering", at("2025-11-20 15:00"), violation=False)
    f.act(cid, "refund_deposit", "cashier", at("2025-11-20 17:00"), lost_passes=0)
    assert f.case(cid).state == "closed"
    assert f.briefs(cid, "deadline_met") == [
        ("met", "review_half_day", False),
        ("met", "approval_half_day", True),
        ("met", "acceptance_same_day", True),
        ("met", "clear_site_same_day", True),
    ]
    assert f.engine.verify() == []
