"""Templates render the demo's warnings, breaches and escalations in Chinese and English, without PII."""

from __future__ import annotations

import re

from complaintflow.calendar import format_local
from complaintflow.store.base import OutboxMessage

from .conftest import BASE_URL, DemoDay

LOCAL = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


def test_a_breach_says_which_case_what_was_missed_who_acts_and_links(demo_day: DemoDay) -> None:
    message = demo_day.of_kind("deadline_breached")[0]
    n = demo_day.render(message)
    assert n is not None
    case = demo_day.cases[message.case_id]
    spec = demo_day.processes[case.process_hash]
    p = message.message["payload"]
    deadline = spec.deadlines[p["deadline"]].title
    assert n.delivery_id == message.id and n.case_id == case.id and n.kind == "deadline_breached"
    assert n.link == f"{BASE_URL}/cases/{case.id}"
    assert "已超时" in n.title_zh and case.id in n.title_zh
    assert deadline.zh in n.text_zh and spec.states[case.state].title.zh in n.text_zh
    assert format_local(p["due"], spec.timezone) in n.text_zh
    assert spec.roles[p["role"]].title.zh in n.text_zh
    assert "breached" in n.text_en and (deadline.en or deadline.zh) in n.text_en
    assert n.link in n.text_zh and n.link in n.text_en


def test_an_escalation_names_the_step_the_role_and_its_own_due_time(demo_day: DemoDay) -> None:
    steps = demo_day.of_kind("escalated")
    assert steps, "the demo escalates"
    for message in steps:
        n = demo_day.render(message)
        assert n is not None
        p = message.message["payload"]
        spec = demo_day.processes[demo_day.cases[message.case_id].process_hash]
        assert f"{p['step']}/{p['of']}" in n.title_zh and f"step {p['step']}/{p['of']}" in n.text_en
        assert spec.roles[p["role"]].title.zh in n.text_zh
        if p["step_due"] is not None:
            assert format_local(p["step_due"], spec.timezone) in n.text_zh
            assert n.facts["due"] == format_local(p["step_due"], spec.timezone)
        else:
            assert "最后一级" in n.text_zh and "last step" in n.text_en


def test_the_demo_escalation_on_property_management_reads_like_the_readme(demo_day: DemoDay) -> None:
    first = next(
        m
        for m in demo_day.of_kind("escalated")
        if m.message["payload"]["step"] == 1 and m.message["payload"]["step_due"]
    )
    n = demo_day.render(first)
    assert n is not None
    times = LOCAL.findall(n.text_zh)
    assert times and all(len(t) == 16 for t in times)  # "2025-09-29 10:18", local time, no seconds


def test_customer_personal_data_never_appears(demo_day: DemoDay) -> None:
    checked = 0
    for message in demo_day.messages:
        n = demo_day.render(message)
        if n is None:
            continue
        case = demo_day.cases[message.case_id]
        spec = demo_day.processes[case.process_hash]
        for name, value in case.data.items():
            f = spec.fields.get(name)
            if f is not None and f.pii and isinstance(value, str) and value:
                checked += 1
                assert value not in n.text_zh + n.text_en + n.title_zh + n.title_en, (name, value)
    assert checked > 0


def test_plain_actions_and_starts_need_no_message(demo_day: DemoDay) -> None:
    for kind in ("started", "acted", "deadline_met"):
        messages = demo_day.of_kind(kind)
        assert messages
        assert all(demo_day.render(m) is None for m in messages)


def test_a_late_rendering_says_when_it_happened(demo_day: DemoDay) -> None:
    message = demo_day.of_kind("deadline_breached")[0]
    on_time, late = demo_day.render(message), demo_day.render(message, at=message.at + 3600)
    assert on_time is not None and late is not None
    assert "补发" not in on_time.text_zh and "补发" in late.text_zh and "sent late" in late.text_en


def test_a_warning_names_the_due_time_and_who_must_act_before_it(demo_day: DemoDay) -> None:
    breach = demo_day.of_kind("deadline_breached")[0]
    warning = OutboxMessage(breach.id, breach.case_id, breach.at, {**breach.message, "kind": "deadline_warning"})
    n = demo_day.render(warning)
    assert n is not None and n.kind == "deadline_warning"
    spec = demo_day.processes[demo_day.cases[breach.case_id].process_hash]
    due = format_local(breach.message["payload"]["due"], spec.timezone)
    assert "即将到期" in n.title_zh and f"请于 {due} 前完成" in n.text_zh and f"by {due}" in n.text_en
