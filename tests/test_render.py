"""Tests of complaintflow.language.render: Mermaid and DOT diagrams and the ``show`` tables.

The process under test is a small YAML file loaded through the real pipeline; it has
a parallel state, a pause state, a state whose id (``end``) is a Mermaid keyword,
deadlines on a top-level state and inside a branch, and text with characters that
would break Mermaid (colon, semicolon, quotes, angle brackets).
"""

from __future__ import annotations

import re

import pytest

from complaintflow.language.check import load_process_bytes
from complaintflow.language.render import dot, mermaid, table
from complaintflow.language.render.table import display_width, pad
from complaintflow.language.spec import Process

SMALL = """\
process: small
version: 3
title: {zh: 小流程, en: Small flow}
source: {file: demo.txt, section: "A"}
calendar: office
calendars:
  office: {title: {zh: 办公时间}, hours: ["09:00-12:00", "13:30-18:00"], statutory: china}
roles:
  front_desk: {title: {zh: 客户中心前台, en: Front desk}}
  after_sales: {title: {zh: 售后, en: After sales}}
fields:
  customer_name: {type: string, required: true, pii: true, title: {zh: 姓名}}
  severity: {type: enum, values: [general, major], title: {zh: 投诉等级}}
states:
  received:
    title: {zh: 受理登记, en: Received}
    initial: true
    owner: front_desk
    checklist: [{zh: 人身伤害拨打120}, {zh: 纠纷报警110}]
  waiting: {title: {zh: 等待客户确认, en: Waiting}, pause: true, owner: front_desk}
  handling: {title: {zh: 处理中, en: Handling}, branches: [onsite, remedy], owner: after_sales}
  onsite_visit: {title: {zh: 现场处理, en: On site}, branch: onsite, initial: true}
  onsite_done: {title: {zh: 现场处理完毕}, branch: onsite, final: true}
  remedy_talks: {title: {zh: "协商: 方案; \\"A\\" <B>"}, branch: remedy, initial: true}
  remedy_agreed: {title: {zh: 方案已达成}, branch: remedy, final: true}
  end: {title: {zh: 结案归档, en: Archived}, final: true}
actions:
  dispatch: {title: {zh: 派单, en: Dispatch}, from: received, to: handling, roles: [front_desk],
             guard: "severity != 'major'"}
  hold: {title: {zh: 等待确认}, from: received, to: waiting, roles: [front_desk]}
  resume: {title: {zh: 恢复受理}, from: waiting, to: received, roles: [front_desk]}
  finish_onsite: {title: {zh: 完成现场处理}, from: onsite_visit, to: onsite_done, roles: [after_sales]}
  agree: {title: {zh: 达成方案}, from: remedy_talks, to: remedy_agreed, roles: [after_sales]}
  close: {title: {zh: 结案}, from: handling, to: end, roles: [after_sales, front_desk]}
deadlines:
  notify_department:
    title: {zh: 接报后3分钟内知会相关部门}
    start: received
    within: 3m
    escalation: desk_chain
  daily_result:
    title: {zh: 每天17:00前交处理结果}
    start: handling
    by: "17:00"
  visit_24h:
    title: {zh: 24小时内上门}
    start: onsite_visit
    within: 24h
escalations:
  desk_chain:
    title: {zh: 逐级上报}
    steps:
      - {role: front_desk, do: notify, within: 5m}
      - {role: after_sales, do: reassign}
"""


@pytest.fixture(scope="module")
def small() -> Process:
    return load_process_bytes(SMALL.encode("utf-8"), "small.yaml")


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


# --- Mermaid ------------------------------------------------------------------------------------


def test_mermaid_header_and_initial_arrow(small: Process) -> None:
    out = mermaid.render(small)
    assert out.startswith("stateDiagram-v2\n")
    assert out.endswith("\n")
    assert "[*] --> received" in lines_of(out)


def test_mermaid_labels_states_in_chinese(small: Process) -> None:
    got = lines_of(mermaid.render(small))
    assert 'state "受理登记" as received' in got
    assert 'state "等待客户确认 ⏸" as waiting' in got  # pause marked


def test_mermaid_transition_labelled_with_title_and_roles(small: Process) -> None:
    got = lines_of(mermaid.render(small))
    assert "received --> handling : 派单 (客户中心前台)" in got
    assert "handling --> s_end : 结案 (售后、客户中心前台)" in got


def test_mermaid_reserved_word_id_is_prefixed(small: Process) -> None:
    got = lines_of(mermaid.render(small))
    assert 'state "结案归档" as s_end' in got
    assert "s_end --> [*]" in got
    assert not any(re.search(r"(^|\s)end(\s|$)", line) and "end note" not in line for line in got)


def test_mermaid_parallel_state_is_composite_with_regions(small: Process) -> None:
    out = mermaid.render(small)
    block = out[out.index("    state handling {\n") :]
    block = block[: block.index("\n    }\n") + 7]
    inner = lines_of(block)
    assert inner[0] == "state handling {" and inner[-1] == "}"
    assert inner.count("--") == 1
    first, second = block.split("\n        --\n")
    # each region has its own start and end, and keeps its own states and transitions
    assert "[*] --> onsite_visit" in lines_of(first) and "onsite_done --> [*]" in lines_of(first)
    assert "onsite_visit --> onsite_done : 完成现场处理 (售后)" in lines_of(first)
    assert "[*] --> remedy_talks" in lines_of(second) and "remedy_agreed --> [*]" in lines_of(second)
    assert "remedy_talks" not in first


def test_mermaid_deadline_notes(small: Process) -> None:
    got = lines_of(mermaid.render(small))
    i = got.index("note right of received")
    assert got[i + 1 : i + 3] == ["⏱ 3m 接报后3分钟内知会相关部门 → escalation desk_chain", "end note"]
    j = got.index("note right of handling")
    assert got[j + 1] == "⏱ by 17：00 每天17：00前交处理结果"  # a colon in a note would end its text
    assert "note right of onsite_visit" in got


def test_mermaid_note_inside_branch_stays_in_its_region(small: Process) -> None:
    out = mermaid.render(small)
    region = out[out.index("state handling {") : out.index("\n        --\n")]
    assert "note right of onsite_visit\n            ⏱ 24h 24小时内上门\n        end note" in region


def test_mermaid_sanitises_label_text(small: Process) -> None:
    got = lines_of(mermaid.render(small))
    assert "state \"协商： 方案； 'A' ‹B›\" as remedy_talks" in got


def test_mermaid_text_helper() -> None:
    assert mermaid.text('a:b;c#d{e}<f>"g"\n  h') == "a：b；c＃d(e)‹f›'g' h"


def test_render_markdown_fences_the_diagram(small: Process) -> None:
    md = mermaid.render_markdown(small)
    assert md.startswith("```mermaid\nstateDiagram-v2\n")
    assert md.endswith("\n```\n")


def test_state_ids_avoid_clashes() -> None:
    p = load_process_bytes(re.sub(r"\breceived\b", "s_end", SMALL).encode("utf-8"))
    ids = mermaid.state_ids(p)
    assert ids["end"] == "s_s_end" and ids["s_end"] == "s_end"


# --- DOT ----------------------------------------------------------------------------------------


def test_dot_has_cluster_per_parallel_state_and_branch(small: Process) -> None:
    got = lines_of(dot.render(small))
    assert got[0] == 'digraph "small" {'
    assert 'subgraph "cluster_handling" {' in got
    assert 'subgraph "cluster_handling__onsite" {' in got
    assert 'subgraph "cluster_handling__remedy" {' in got
    assert '"handling" -> "onsite_visit" [style=dashed, arrowhead=empty];' in got


def test_dot_finals_deadlines_and_compound_edges(small: Process) -> None:
    got = lines_of(dot.render(small))
    assert '"end" [label="结案归档", peripheries=2];' in got
    assert '"received" [label="受理登记\\n⏱ 3m 接报后3分钟内知会相关部门 → desk_chain"];' in got
    assert '"received" -> "handling" [label="派单\\n(客户中心前台)", lhead="cluster_handling"];' in got
    assert '"handling" -> "end" [label="结案\\n(售后、客户中心前台)", ltail="cluster_handling"];' in got


def test_dot_quote_escapes() -> None:
    assert dot.quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'


# --- tables -------------------------------------------------------------------------------------


def test_display_width_counts_wide_characters_twice() -> None:
    assert display_width("abc") == 3
    assert display_width("受理登记") == 8
    assert display_width("（A）") == 5  # full-width brackets
    assert display_width("e\u0301") == 1  # combining accent takes no column
    assert pad("受理", 6) == "受理  "
    assert pad("toolong", 3) == "toolong"


def sections(text: str) -> dict[str, list[str]]:
    """Table lines grouped under the heading line above them."""
    out: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith("|"):
            out.setdefault(current, []).append(line)
        elif line:
            current = line.split(" (")[0]
    return out


def test_table_lines_align_by_display_width(small: Process) -> None:
    found = sections(table.render(small))
    assert set(found) == {"Process", "Roles", "Fields", "States", "Actions", "Deadlines", "Escalations", "Calendars"}
    for name, rows in found.items():
        widths = {display_width(row) for row in rows}
        assert len(widths) == 1, f"{name}: {widths}"
        # every column separator falls in the same display column on every line
        columns = {tuple(display_width(row[:i]) for i, ch in enumerate(row) if ch == "|") for row in rows}
        assert len(columns) == 1, name


def test_table_content(small: Process) -> None:
    out = table.render(small)
    assert out.splitlines()[0] == "small v3  小流程 (Small flow)"
    assert "| received      | 受理登记            | front_desk  | initial                  | 2         |" in out
    assert "| waiting       | 等待客户确认        | front_desk  | pause                    |           |" in out
    assert "| handling      | 处理中              | after_sales | parallel: onsite, remedy |           |" in out
    assert (
        "| dispatch      | 派单         | received -> handling          | front_desk              | "
        "severity != 'major' |        |" in out
    )
    assert (
        "| close         | 结案         | handling -> end               | after_sales, front_desk | "
        "                    |        |" in out
    )
    assert "within 3m" in out and "by 17:00" in out and "office (default)" in out
    assert "| desk_chain | 逐级上报 | 1    | front_desk  | notify   | 5m     |" in out
    assert "|            |          | 2    | after_sales | reassign |        |" in out
    assert "Escalations (1)" in out
    assert "| office | 办公时间 |         | mon-fri  | 09:00-12:00, 13:30-18:00 | china     |" in out


def test_table_field_flags(small: Process) -> None:
    rows = sections(table.render(small))["Fields"]
    assert rows[0] == "| id            | title    | type   | required | pii | visible to | values         |"
    assert rows[2] == "| customer_name | 姓名     | string | yes      | yes | every role |                |"
    assert rows[3] == "| severity      | 投诉等级 | enum   |          |     |            | general, major |"


@pytest.mark.parametrize(
    ("visible_to", "shown"), [("[front_desk, after_sales]", "front_desk, after_sales"), ("[]", "nobody")]
)
def test_table_field_visible_to(visible_to: str, shown: str) -> None:
    text = SMALL.replace("pii: true, title: {zh: 姓名}", f"pii: true, visible_to: {visible_to}, title: {{zh: 姓名}}")
    process = load_process_bytes(text.encode("utf-8"), "small.yaml")
    row = sections(table.render(process))["Fields"][2]
    assert [cell.strip() for cell in row.strip("|").split("|")][5] == shown


def test_weekdays_text() -> None:
    assert table.weekdays_text(frozenset(range(5))) == "mon-fri"
    assert table.weekdays_text(frozenset({0, 2, 4})) == "mon, wed, fri"
