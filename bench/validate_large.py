"""How validation time grows with the size of a process: a chain of N states, each with an action on
to the next and one back to the start, checked with ``check_bytes``; prints the time of each rule.

    .venv/bin/python bench/validate_large.py --states 1000 2500 5000 10000

Linear rules keep time per state flat as N grows; a quadratic one shows up as a per-rule time that
grows fourfold when N doubles.
"""

from __future__ import annotations

import argparse
import time

from complaintflow.language import rules as rules_module
from complaintflow.language.check import check_bytes


def chain_process(states: int) -> bytes:
    lines = [
        "process: big",
        "version: 1",
        "title: {zh: 大流程}",
        "roles:",
        "  clerk: {title: {zh: 客服}}",
        "states:",
        "  s0: {title: {zh: 开始}, initial: true, owner: clerk}",
    ]
    lines += [f"  s{i}: {{title: {{zh: 第{i}步}}, owner: clerk}}" for i in range(1, states - 1)]
    lines += [f"  s{states - 1}: {{title: {{zh: 结案}}, final: true}}", "actions:"]
    for i in range(states - 1):
        lines.append(f"  next{i}: {{title: {{zh: 下一步}}, from: s{i}, to: s{i + 1}, roles: [clerk]}}")
        if 0 < i:
            lines.append(f"  back{i}: {{title: {{zh: 退回}}, from: s{i}, to: s0, roles: [clerk]}}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def timed_rules() -> dict[str, float]:
    """Wrap every registered rule so its time is summed under its id."""
    spent: dict[str, float] = {}
    wrapped = []
    for rule in rules_module.RULES:

        def check(ctx, _check=rule.check, _id=rule.id):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            found = list(_check(ctx))
            spent[_id] = spent.get(_id, 0.0) + time.perf_counter() - start
            return iter(found)

        wrapped.append(rules_module.Rule(rule.id, check, rule.summary))
    rules_module.RULES = tuple(wrapped)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--states", type=int, nargs="+", default=[1000, 2500, 5000, 10000])
    args = parser.parse_args()
    spent = timed_rules()
    for n in args.states:
        raw = chain_process(n)
        spent.clear()
        start = time.perf_counter()
        process, problems = check_bytes(raw, "big.yaml")
        total = time.perf_counter() - start
        slowest = sorted(spent.items(), key=lambda kv: -kv[1])[:3]
        rules_text = ", ".join(f"{rule} {seconds * 1000:.0f} ms" for rule, seconds in slowest)
        print(
            f"{n:>6} states, {len(raw) / 1000:>6.0f} KB: {total:6.2f} s, {len(problems)} problem(s); "
            f"rules {sum(spent.values()):.2f} s (slowest: {rules_text})"
        )


if __name__ == "__main__":
    main()
