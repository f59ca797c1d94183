"""Validation does work linear in the size of the process (issue 14: no-path-to-final was quadratic, and
10,000 states must validate in under a second).

Work is counted, not timed: ``_reaching`` looks up each state's predecessors at most once, however
long the chain, and the function calls of a whole ``check_bytes`` grow as the file does.
bench/validate_large.py shows the times.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from complaintflow.language import rules as rules_module
from complaintflow.language.check import check_bytes
from complaintflow.language.rules import graph

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from validate_large import chain_process, compact_process  # noqa: E402


class CountingDict(dict[str, list[str]]):
    lookups = 0

    def get(self, key: str, default: Any = None) -> Any:
        CountingDict.lookups += 1
        return super().get(key, default)


def test_reaching_looks_up_each_state_once() -> None:
    n = 3000
    reverse = CountingDict({f"s{i + 1}": [f"s{i}"] for i in range(n - 1)})  # a chain s0 -> ... -> s2999
    members = [f"s{i}" for i in range(n)]
    CountingDict.lookups = 0
    assert graph._reaching({f"s{n - 1}"}, members, reverse) == set(members)
    assert CountingDict.lookups == n  # quadratic work would be about n * n / 2


def test_a_long_chain_validates_clean_and_a_stuck_state_is_still_found() -> None:
    raw = chain_process(400)
    process, problems = check_bytes(raw, "big.yaml")
    assert process is not None and problems == []
    stuck = raw.replace(b"  next398:", b"  gone398:").replace(b"from: s398, to: s399", b"from: s398, to: s398")
    _, problems = check_bytes(stuck, "big.yaml")
    assert {p.rule for p in problems} == {"no-path-to-final", "unreachable-state"}
    assert {p.message for p in problems if p.rule == "unreachable-state"} == {
        "state 's399' cannot be reached from the initial state"
    }
    stuck_states = [p for p in problems if p.rule == "no-path-to-final"]
    assert len(stuck_states) == 399  # every state before the cut now only loops back to s0 or s398


def _calls(raw: bytes) -> int:
    """Python functions and builtins called while ``check_bytes`` reads, builds and checks ``raw``: a count of
    the work done that does not depend on the machine's load (sys.setprofile: it leaves coverage's tracer
    alone)."""
    calls = 0

    def count(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        check_bytes(raw, "big.yaml")
    finally:
        sys.setprofile(None)
    return calls


def test_validation_work_grows_linearly_with_the_number_of_states() -> None:
    check_bytes(compact_process(20), "warm.yaml")  # schema validators and patterns are built once per process
    small, large = _calls(compact_process(300)), _calls(compact_process(1200))
    assert small > 300 * 10  # the count sees the reading and the checking, not only a few calls a state
    assert large < 4.4 * small  # four times the states, four times the work (a quadratic step would be ~16x)


def test_the_count_sees_quadratic_work() -> None:
    """The counter would catch a rule that loops over the states inside a loop over the states."""

    def quadratic(ctx: Any) -> Any:
        for state in ctx.process.states:
            for other in ctx.process.states:
                len(state + other)
        return iter(())

    rules = list(rules_module.RULES)
    rules_module.RULES = (*rules, rules_module.Rule("quadratic", quadratic, "a rule that is quadratic"))
    try:
        small, large = _calls(compact_process(100)), _calls(compact_process(400))
    finally:
        rules_module.RULES = tuple(rules)
    assert large > 8 * small
