"""Hostile process files from issue 14: each is refused with a positioned problem, never a traceback.

One test per input class: nesting past the loader's depth limit (flow, block and libyaml's own
1,000-level limit), a lone surrogate written as an escape (in a value and in a key), guards too
long, too deep or repeating text, and a calendar ``extends`` chain past its limit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from complaintflow.language.check import check_bytes
from complaintflow.language.expr import MAX_GUARD_DEPTH, GuardError, parse_guard
from complaintflow.language.loader import MAX_DEPTH, load_bytes
from complaintflow.resources import processes_dir

BASE = (processes_dir() / "general_affairs_dispatch.yaml").read_bytes()
FIRST_ACTION = b"    roles: [general_affairs]\n    inputs: [record_no]\n"


def _with_guard(guard: bytes) -> bytes:
    assert FIRST_ACTION in BASE
    return BASE.replace(FIRST_ACTION, FIRST_ACTION + b"    guard: '" + guard + b"'\n", 1)


def _rules(raw: bytes) -> list[tuple[str, int, int]]:
    process, problems = check_bytes(raw, "p.yaml")
    assert process is None
    return [(p.rule, p.line, p.col) for p in problems]


@pytest.mark.parametrize(
    ("raw", "line", "col"),
    [
        (b"x: " + b"[" * 500 + b"]" * 500, 1, 3 + MAX_DEPTH),  # composes fine; refused by the loader's count
        (b"x: " + b"{a: " * 1000 + b"}" * 1000, 1, 4 + 4 * (MAX_DEPTH - 1)),  # PyYAML's composer recursed
        (b"x: " + b"[" * 100_000 + b"]" * 100_000, 1, 3 + MAX_DEPTH),  # past libyaml's own 1,000 levels
        (b"x:\n" + b"".join(b" " * (i + 1) + b"a:\n" for i in range(1300)), MAX_DEPTH + 1, MAX_DEPTH + 1),
        (b"- " * 5000 + b"a", 1, 1 + 2 * MAX_DEPTH),
        (b"x: " + b"[" * 3000, 1, 3 + MAX_DEPTH),  # never closed: libyaml's syntax error, not PyYAML's slow re-read
    ],
    ids=["flow-500", "maps-1000", "flow-100000", "block-1300", "dashes-5000", "unclosed-3000"],
)
def test_nesting_past_the_limit_is_one_positioned_problem(raw: bytes, line: int, col: int) -> None:
    doc = load_bytes(raw, "p.yaml")
    assert [(d.rule, d.line, d.col) for d in doc.diagnostics] == [("nesting-too-deep", line, col)]


def test_nesting_at_the_limit_is_read() -> None:
    raw = b"x: " + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1)
    assert load_bytes(raw).diagnostics == []


def test_a_lone_surrogate_in_a_value_is_refused_where_it_stands() -> None:
    raw = BASE.replace(b"Pass the complaint on within 10 minutes", b'"a \\ud800 b"')
    assert _rules(raw) == [("lone-surrogate", 112, 39)]


def test_a_lone_surrogate_in_a_key_is_refused() -> None:
    raw = b'process: x\n"\\udfff": 1\n'
    doc = load_bytes(raw)
    assert [(d.rule, d.line) for d in doc.diagnostics] == [("lone-surrogate", 1)]


def test_a_real_escaped_character_is_kept() -> None:
    assert load_bytes(b'x: "\\u4e2d\\U0001F600"').data == {"x": "\u4e2d\U0001f600"}


@pytest.mark.parametrize(
    "guard", [b"not " * 10_000 + b"true", b"-" * 10_000 + b"1 == 1", b"phone + " * 10_000 + b"phone == 1"]
)
def test_a_guard_too_long_is_refused_before_python_parses_it(guard: bytes) -> None:
    assert [r for r, _, _ in _rules(_with_guard(guard))] == ["guard-syntax"]


def test_a_guard_nested_too_deep_is_refused() -> None:
    with pytest.raises(GuardError, match="nested more than"):
        parse_guard("not " * MAX_GUARD_DEPTH + "true")
    assert parse_guard("not " * (MAX_GUARD_DEPTH // 2) + "true")({}) is True


@pytest.mark.parametrize("guard", [b'"x" * 3000000000 == phone', b"phone * 3 == phone", b"[1] * 9 == phone"])
def test_repetition_in_a_guard_is_refused_at_validate(guard: bytes) -> None:
    assert [r for r, _, _ in _rules(_with_guard(guard))] == ["guard-field"]


def test_repetition_is_refused_at_run_time_too() -> None:
    guard = parse_guard("name * count == 'xx'")  # no declared fields: only the evaluation can refuse it
    assert guard({"name": "x", "count": 2}) is False
    assert parse_guard("amount * 2 == 10")({"amount": 5}) is True


def test_a_long_extends_chain_is_refused_without_recursing(tmp_path: Path) -> None:
    chain = b"".join(b"  c%d: {extends: c%d}\n" % (i, i + 1) for i in range(3000)) + b"  c3000: {}\n"
    raw = BASE.replace(b"calendars:\n", b"calendars:\n" + chain)
    rules = {r for r, _, _ in _rules(raw)}
    assert rules == {"calendar-extends-too-long"}
