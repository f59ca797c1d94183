"""The graph rules do work linear in the size of the process (issue 14: no-path-to-final was quadratic).

Work is counted, not timed: ``_reaching`` looks up each state's predecessors at most once, however
long the chain. bench/validate_large.py shows the times.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from complaintflow.language.check import check_bytes
from complaintflow.language.rules import graph

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from validate_large import chain_process  # noqa: E402


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
