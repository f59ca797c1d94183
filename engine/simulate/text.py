"""Plain-text reports of a simulation and of a comparison (ids in columns, Chinese titles last)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .compare import Comparison
from .stats import SimulationResult


def deadline_rows(res: SimulationResult) -> list[list[Any]]:
    """One row per deadline, its title last: the text and HTML tables show the same columns."""
    return [
        [
            d["id"],
            d["rule"],
            d["started"],
            d["on_time"],
            d["late"],
            d["overdue_open"],
            d["running"],
            d["breaches"],
            pct(d["on_time_rate"]),
            d["title"],
        ]
        for d in res.deadlines
    ]


def pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def num(x: float | None) -> str:
    return "-" if x is None else f"{x:g}" if isinstance(x, int) else f"{x:.1f}"


def signed(x: float, unit: str = "") -> str:
    if x == 0:
        return f"0{unit}"
    return f"{x:+g}{unit}" if x == int(x) else f"{x:+.1f}{unit}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "  ") -> list[str]:
    """Left-aligned first column, right-aligned numbers, an optional free-width last column (titles)."""
    cells = [[str(c) for c in r] for r in rows]
    width = [max([len(headers[i])] + [len(r[i]) for r in cells]) for i in range(len(headers))]

    def line(r: Sequence[str]) -> str:
        parts = [r[0].ljust(width[0])] + [r[i].rjust(width[i]) for i in range(1, len(headers))]
        return (indent + "  ".join(parts) + ("  " + r[len(headers)] if len(r) > len(headers) else "")).rstrip()

    return [line(list(headers))] + [line(r) for r in cells]


def result_text(res: SimulationResult) -> str:
    p, o = res.process, res.outcome
    out = [
        f"Simulation of {p['id']} v{p['version']} ({p['file']}): {p['title']}",
        f"Scenario {res.scenario['id']}: {res.scenario['title']}; {res.cases} cases, seed {res.seed}",
        f"Period {res.period['first_arrival']} .. {res.period['end']} ({res.period['timezone']})",
        f"Cases: {o['closed']} closed, {o['open']} open at the end ({o['capped']} hit the step cap, "
        f"{o['stuck']} stuck); time to close p50 {num(o['close_p50_h'])} h, p90 {num(o['close_p90_h'])} h",
    ]
    if o["open_in"]:
        out.append("Open at the end, by state: " + ", ".join(f"{s} {n}" for s, n in o["open_in"].items()))
    out += ["", "Deadlines (on-time rate = on time / (on time + late + open past due))"]
    out += table(
        ["deadline", "rule", "started", "on time", "late", "open late", "running", "breaches", "on-time"],
        deadline_rows(res),
    )
    levels = "  ".join(f"level {k}: {v}" for k, v in res.escalations_by_level.items()) or "none"
    out += ["", f"Escalation steps: {sum(res.escalations_by_level.values())} ({levels})"]
    if res.escalations_by_role:
        names = list(res.escalations_by_level)
        out += table(
            ["role", "total", "notify", "reassign"] + [f"level {n}" for n in names],
            [
                [r, c.get("total", 0), c.get("notify", 0), c.get("reassign", 0)]
                + [c.get(f"level {n}", 0) for n in names]
                + [res.roles.get(r, "")]
                for r, c in res.escalations_by_role.items()
            ],
        )
    out += ["", "Breaches by responsible role"]
    out += (
        table(["role", "breaches"], [[r, n, res.roles.get(r, "")] for r, n in res.breaches_by_role.items()])
        if res.breaches_by_role
        else ["  none"]
    )
    out += ["", "Busiest roles (actions taken)"]
    out += table(["role", "actions"], [[r, n, res.roles.get(r, "")] for r, n in res.actions_by_role.items()])
    out += ["", "Time in state (hours)"]
    out += table(
        ["state", "visits", "p50", "p90"],
        [[s["id"], s["visits"], num(s["p50_h"]), num(s["p90_h"]), s["title"]] for s in res.states],
    )
    if res.warnings:
        out += [""] + [f"warning: {w}" for w in res.warnings]
    return "\n".join(out) + "\n"


def comparison_text(cmp: Comparison) -> str:
    old, new, d = cmp.old, cmp.new, cmp.to_json()["changes"]
    out = [
        f"Comparison of {old.process['id']}: old v{old.process['version']} ({old.process['file']}) "
        f"vs new v{new.process['version']} ({new.process['file']})",
        f"Scenario {new.scenario['id']}, {new.cases} cases, seed {new.seed}",
        "",
    ]
    out += cmp.headlines() + ["", "Deadlines"]
    out += table(
        ["deadline", "old rule", "new rule", "on-time old", "new", "change", "breaches old", "new", "change"],
        [
            [
                r["id"],
                r["old_rule"],
                r["new_rule"],
                pct(r["old_rate"]),
                pct(r["new_rate"]),
                "-" if r["rate_change"] is None else signed(round(r["rate_change"] * 100, 1), " pts"),
                r["old_breaches"],
                r["new_breaches"],
                signed(r["breach_change"]),
            ]
            for r in d["deadlines"]
        ],
    )
    for key, title in (
        ("escalations_by_role", "Escalation steps by role"),
        ("breaches_by_role", "Breaches by responsible role"),
        ("actions_by_role", "Actions taken by role"),
    ):
        out += ["", title]
        rows = [[r["role"], r["old"], r["new"], signed(r["change"]), new.roles.get(r["role"], "")] for r in d[key]]
        out += table(["role", "old", "new", "change"], rows) if rows else ["  none"]
    oc = d["outcome"]
    out += [
        "",
        "Cases closed: " + f"{oc['closed']['old']} -> {oc['closed']['new']}; "
        f"time to close p90: {num(oc['close_p90_h']['old'])} h -> {num(oc['close_p90_h']['new'])} h",
    ]
    out += [f"warning: {w}" for w in cmp.warnings]
    return "\n".join(out) + "\n"
