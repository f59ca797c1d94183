"""How validation time grows with the size of a process, checked with ``check_bytes``: prints, for each
size, the median wall and CPU time of several runs and the time of the slowest rules.

    .venv/bin/python bench/validate_large.py --states 1000 5000 10000 --runs 7

Two layouts: ``compact`` (the default), a chain of N states each with one action on to the next, written
as densely as the language allows (each state a title, each action a title, from, to and one role), so
that 10,000 states stay under the 1 MB file limit (985 KB); and ``chain``, the same chain with a second
action from each state back to the start and an owner on each state (195 B a state: over the limit
past about 5,100 states). Linear work keeps the time per state flat as N grows; a quadratic rule shows up
as a per-rule time that grows fourfold when N doubles. The machine is shared: read CPU time beside wall.
"""

from __future__ import annotations

import argparse
import statistics
import time

from complaintflow.language import rules as rules_module
from complaintflow.language.check import check_bytes


def _states(states: int, role: str, owner: bool) -> list[str]:
    """The lines up to ``actions:``: s0 (initial) to s<N-1> (final), each with its owner when ``owner``."""
    owned = f", owner: {role}" if owner else ""
    lines = [
        "process: big",
        "version: 1",
        "title: {zh: 大流程}",
        "roles:",
        f"  {role}: {{title: {{zh: 客服}}}}",
        "states:",
        f"  s0: {{title: {{zh: 开始}}, initial: true, owner: {role}}}",
    ]
    lines += [f"  s{i}: {{title: {{zh: 第{i}步}}{owned}}}" for i in range(1, states - 1)]
    return lines + [f"  s{states - 1}: {{title: {{zh: 结案}}, final: true}}", "actions:"]


def chain_process(states: int) -> bytes:
    lines = _states(states, "clerk", owner=True)
    for i in range(states - 1):
        lines.append(f"  next{i}: {{title: {{zh: 下一步}}, from: s{i}, to: s{i + 1}, roles: [clerk]}}")
        if 0 < i:
            lines.append(f"  back{i}: {{title: {{zh: 退回}}, from: s{i}, to: s0, roles: [clerk]}}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def compact_process(states: int) -> bytes:
    lines = _states(states, "c", owner=False)
    lines += [f"  a{i}: {{title: {{zh: 转}}, from: s{i}, to: s{i + 1}, roles: [c]}}" for i in range(states - 1)]
    return ("\n".join(lines) + "\n").encode("utf-8")


LAYOUTS = {"compact": compact_process, "chain": chain_process}


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
    parser.add_argument("--states", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--layout", choices=sorted(LAYOUTS), default="compact")
    parser.add_argument("--runs", type=int, default=5, help="runs per size; the medians are printed")
    args = parser.parse_args()
    spent = timed_rules()
    for n in args.states:
        raw = LAYOUTS[args.layout](n)
        walls, cpus, rule_runs = [], [], []
        for _ in range(args.runs):
            spent.clear()
            wall, cpu = time.perf_counter(), time.process_time()
            process, problems = check_bytes(raw, "big.yaml")
            cpus.append(time.process_time() - cpu)
            walls.append(time.perf_counter() - wall)
            rule_runs.append(dict(spent))
        rules = {rule: statistics.median(run.get(rule, 0.0) for run in rule_runs) for rule in rule_runs[0]}
        slowest = sorted(rules.items(), key=lambda kv: -kv[1])[:3]
        rules_text = ", ".join(f"{rule} {seconds * 1000:.0f} ms" for rule, seconds in slowest)
        print(
            f"{n:>6} states, {len(raw) / 1000:>5.0f} KB: {statistics.median(walls):5.2f} s "
            f"(CPU {statistics.median(cpus):.2f} s), {len(problems)} problem(s); "
            f"rules {sum(rules.values()):.2f} s (slowest: {rules_text})"
        )


if __name__ == "__main__":
    main()
