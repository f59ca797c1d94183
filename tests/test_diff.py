"""Tests of complaintflow.language.diff: the semantic diff of two process versions.

Each case edits the YAML of a small process and loads both versions through the
real pipeline, then checks the exact changes reported.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache

from hypothesis import given
from hypothesis import strategies as st

from complaintflow.language.check import load_process_bytes
from complaintflow.language.diff import Change, budget_kind, diff
from complaintflow.language.durations import approx_minutes
from complaintflow.language.spec import Deadline, Due, Duration, Process

BASE = """\
process: diffy
version: 1
title: {zh: 投诉处理, en: Complaint handling}
source: {file: demo.txt}
calendar: office
calendars:
  office: {title: {zh: 办公时间}, hours: ["09:00-12:00", "13:30-18:00"], statutory: china}
roles:
  front_desk: {title: {zh: 客户中心前台}}
  after_sales: {title: {zh: 售后}}
  office_head: {title: {zh: 管理处负责人}}
fields:
  customer_name: {type: string, required: true, title: {zh: 姓名}}
  severity: {type: enum, values: [general, major], title: {zh: 投诉等级}}
states:
  received: {title: {zh: 受理登记}, initial: true, owner: front_desk}
  handling: {title: {zh: 处理中}, owner: after_sales}
  completed: {title: {zh: 处理完成}, owner: front_desk}
  archived: {title: {zh: 结案归档}, final: true}
actions:
  dispatch:
    title: {zh: 派单}
    from: received
    to: handling
    roles: [front_desk]
    guard: "severity != 'major'"
  complete: {title: {zh: 处理完毕}, from: handling, to: completed, roles: [after_sales]}
  call_back: {title: {zh: 回访客户}, from: completed, to: archived, roles: [front_desk]}
  reject: {title: {zh: 不予受理}, from: received, to: archived, roles: [front_desk]}
deadlines:
  first_response:
    title: {zh: 24小时内答复}
    start: received
    within: 24h
    escalation: major_case
  callback:
    title: {zh: 完成后2个工作日内回访客户}
    start: completed
    within: 2wd
escalations:
  major_case:
    title: {zh: 重大投诉逐级上报}
    steps:
      - {role: office_head, do: notify, within: 5m}
      - {role: after_sales, do: reassign}
"""


@cache
def load(text: str) -> Process:
    return load_process_bytes(text.encode("utf-8"), "diffy.yaml")


REJECT = "  reject: {title: {zh: 不予受理}, from: received, to: archived, roles: [front_desk]}\n"


def edited(*pairs: tuple[str, str]) -> Process:
    """The base process with each (old, new) text replaced exactly once."""
    text = BASE
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return load(text)


def summary(changes: list[Change]) -> list[tuple[str, str, str]]:
    return [(c.kind, c.what, c.id) for c in changes]


def test_diff_with_itself_is_empty() -> None:
    base = load(BASE)
    assert diff(base, base) == []
    # other bytes (a comment) give another content hash but the same process
    assert diff(base, load("# a comment\n" + BASE)) == []


def test_callback_loosened_from_2wd_to_5wd() -> None:
    changes = diff(load(BASE), edited(("within: 2wd", "within: 5wd")))
    assert changes == [
        Change(
            "loosened",
            "deadline",
            "callback",
            "within 2wd -> within 5wd (完成后2个工作日内回访客户)",
            "within 2wd",
            "within 5wd",
        )
    ]
    assert str(changes[0]) == "loosened  deadline callback: within 2wd -> within 5wd (完成后2个工作日内回访客户)"


def test_first_response_tightened_from_24h_to_12h() -> None:
    changes = diff(load(BASE), edited(("within: 24h", "within: 12h")))
    assert summary(changes) == [("tightened", "deadline", "first_response")]
    assert (changes[0].old, changes[0].new) == ("within 24h", "within 12h")
    assert str(changes[0]) == "tightened deadline first_response: within 24h -> within 12h (24小时内答复)"


def test_different_units_compare_by_approximate_length() -> None:
    assert summary(diff(load(BASE), edited(("within: 24h", "within: 2d")))) == [
        ("loosened", "deadline", "first_response")
    ]
    assert summary(diff(load(BASE), edited(("within: 2wd", "within: 8wh")))) == [("tightened", "deadline", "callback")]


def test_within_to_by_is_changed() -> None:
    changes = diff(load(BASE), edited(("within: 2wd", 'by: "17:00"')))
    assert summary(changes) == [("changed", "deadline", "callback")]
    assert changes[0].detail == "within 2wd -> by 17:00 (完成后2个工作日内回访客户)"


def test_earlier_clock_time_is_tightened() -> None:
    base = load(BASE)
    by = {k: replace(d, due=Due(by=17 * 60)) if k == "callback" else d for k, d in base.deadlines.items()}
    earlier = {k: replace(d, due=Due(by=12 * 60)) if k == "callback" else d for k, d in base.deadlines.items()}
    changes = diff(replace(base, deadlines=by), replace(base, deadlines=earlier))
    assert summary(changes) == [("tightened", "deadline", "callback")]
    assert (changes[0].old, changes[0].new) == ("by 17:00", "by 12:00")


def test_added_state() -> None:
    state = "  reopened: {title: {zh: 重新处理}, owner: after_sales}\n"
    actions = (
        "  reopen: {title: {zh: 重新处理}, from: completed, to: reopened, roles: [front_desk]}\n"
        "  finish_again: {title: {zh: 再次完成}, from: reopened, to: archived, roles: [after_sales]}\n"
    )
    new = edited(("  archived: {title", state + "  archived: {title"), (REJECT, actions + REJECT))
    changes = diff(load(BASE), new)
    assert summary(changes) == [
        ("added", "state", "reopened"),
        ("added", "action", "finish_again"),
        ("added", "action", "reopen"),
    ]
    assert str(changes[0]) == "added     state reopened: 重新处理"
    assert changes[0].old is None and isinstance(changes[0].new, dict) and changes[0].new["owner"] == "after_sales"
    assert changes[2].detail == "重新处理 (completed -> reopened)"


def test_removed_action() -> None:
    changes = diff(load(BASE), edited((REJECT, "")))
    assert summary(changes) == [("removed", "action", "reject")]
    assert str(changes[0]) == "removed   action reject: 不予受理 (received -> archived)"
    assert changes[0].new is None and isinstance(changes[0].old, dict) and changes[0].old["target"] == "archived"


def test_guard_changed_shows_both_texts() -> None:
    changes = diff(load(BASE), edited(("guard: \"severity != 'major'\"", "guard: \"severity == 'general'\"")))
    assert changes == [
        Change(
            "changed",
            "action",
            "dispatch",
            "guard \"severity != 'major'\" -> \"severity == 'general'\"",
            "severity != 'major'",
            "severity == 'general'",
        )
    ]


def test_role_added_to_action() -> None:
    changes = diff(
        load(BASE), edited(("roles: [front_desk]\n    guard", "roles: [front_desk, office_head]\n    guard"))
    )
    assert changes == [
        Change(
            "changed", "action", "dispatch", "roles: added office_head", ["front_desk"], ["front_desk", "office_head"]
        )
    ]


def test_escalation_step_within_changed() -> None:
    changes = diff(load(BASE), edited(("do: notify, within: 5m", "do: notify, within: 15m")))
    assert changes == [
        Change("loosened", "escalation", "major_case.step1", "within 5m -> 15m (office_head)", "5m", "15m")
    ]
    changes = diff(load(BASE), edited(("do: notify, within: 5m", "do: notify, within: 2m")))
    assert summary(changes) == [("tightened", "escalation", "major_case.step1")]


def test_escalation_step_added_and_role_changed() -> None:
    steps = "      - {role: front_desk, do: reassign, within: 1h}\n      - {role: after_sales, do: notify}\n"
    changes = diff(load(BASE), edited(("      - {role: after_sales, do: reassign}\n", steps)))
    assert [str(c) for c in changes] == [
        "changed   escalation major_case.step2: role after_sales -> front_desk",
        "changed   escalation major_case.step2: within none -> 1h (front_desk)",
        "added     escalation major_case.step3: notify after_sales",
    ]


def test_field_state_calendar_and_header_changes_in_stable_order() -> None:
    new = edited(
        ("version: 1", "version: 2"),
        ("statutory: china}", "statutory: china, weekdays: [mon, tue, wed, thu, fri, sat]}"),
        ("values: [general, major]", "values: [general, important, major], pii: true"),
        ("{title: {zh: 处理中}, owner: after_sales}", "{title: {zh: 处理中}, owner: office_head, pause: true}"),
        ("    start: completed\n", "    start: completed\n    role: front_desk\n"),
    )
    assert [str(c) for c in diff(load(BASE), new)] == [
        "changed   process diffy: version 1 -> 2",
        "changed   calendar office: weekdays: added sat",
        "changed   field severity: pii false -> true",
        "changed   field severity: values: added important",
        "changed   state handling: owner after_sales -> office_head",
        "changed   state handling: pause false -> true",
        "changed   deadline callback: role none -> front_desk",
    ]


def test_changes_are_json() -> None:
    new = edited(
        ("within: 2wd", "within: 5wd"), ("version: 1", "version: 7"), ("statutory: china}", "statutory: none}")
    )
    data = [c.to_json() for c in diff(load(BASE), new)]
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data[0] == {
        "kind": "changed",
        "what": "process",
        "id": "diffy",
        "detail": "version 1 -> 7",
        "old": 1,
        "new": 7,
    }
    removed = diff(load(BASE), edited((REJECT, "")))[0].to_json()
    json.dumps(removed)  # a whole removed item is JSON too


def test_budget_kind_without_a_limit_is_changed() -> None:
    assert budget_kind(None, Duration(5, "m")) == "changed"
    assert budget_kind(Duration(60, "m"), Duration(1, "h")) == "changed"


UNITS = st.sampled_from(["m", "h", "d", "wd", "wh"])
DURATIONS = st.builds(Duration, st.integers(min_value=1, max_value=500), UNITS)


def _with_callback(base: Process, within: Duration) -> Process:
    deadline: Deadline = replace(base.deadlines["callback"], due=Due(within=within))
    return replace(base, deadlines={**base.deadlines, "callback": deadline})


@given(DURATIONS, DURATIONS)
def test_tightened_iff_new_budget_is_shorter(old: Duration, new: Duration) -> None:
    base = load(BASE)
    changes = diff(_with_callback(base, old), _with_callback(base, new))
    if old == new:
        assert changes == []
        return
    assert summary(changes) == [(changes[0].kind, "deadline", "callback")]
    kind = changes[0].kind
    assert (kind == "tightened") == (approx_minutes(new) < approx_minutes(old))
    assert (kind == "loosened") == (approx_minutes(new) > approx_minutes(old))
    assert changes[0].detail.startswith(f"within {old} -> within {new} ")


def test_counts_as_lines_added_changed_and_removed_are_named_by_position() -> None:
    lines = "counts_as:\n  - {kind: valid_complaint, when: \"severity == 'major'\"}\n  - {kind: other}\n"
    before = load(BASE + lines)
    assert summary(diff(load(BASE), before)) == [("added", "counts_as", "1"), ("added", "counts_as", "2")]
    changed = load(BASE + lines.replace("'major'", "'general'"))
    [change] = diff(before, changed)
    assert (change.kind, change.id) == ("changed", "1")
    assert change.detail.startswith("valid_complaint when \"severity == 'major'\" -> valid_complaint when")
    assert summary(diff(before, load(BASE + lines.rsplit("  - {kind: other}\n", 1)[0]))) == [
        ("removed", "counts_as", "2")
    ]


def test_visible_to_changes_read_as_roles() -> None:
    name = "customer_name: {type: string, required: true, title: {zh: 姓名}}"

    def seen_by(visible_to: str) -> Process:
        return edited((name, name.replace("required: true,", f"required: true, pii: true{visible_to},")))

    everyone, desk, nobody = seen_by(""), seen_by(", visible_to: [front_desk]"), seen_by(", visible_to: []")
    assert [str(c) for c in diff(everyone, desk)] == [
        "changed   field customer_name: visible_to every role -> front_desk"
    ]
    assert [str(c) for c in diff(desk, nobody)] == ["changed   field customer_name: visible_to front_desk -> nobody"]
    assert diff(desk, desk) == []
