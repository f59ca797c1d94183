"""Metrics of a finished run, read from each case's event history, and the result object.

Per deadline: clocks started, met on time, met late, still open past due,
still running; breaches (a repeating deadline counts each missed occurrence)
and the on-time rate = on time / (on time + late + open past due). Per role:
breaches it was responsible for, escalation steps it received (per level) and
actions it took. Per state: time spent, p50 and p90 in hours (nearest rank,
``complaintflow.stats.percentile``, as in the management report).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from ..calendar import format_local
from ..language.spec import Process
from ..runtime.engine import Engine
from ..stats import percentile  # nearest rank, shared with the report
from .scenario import Scenario


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


@dataclass
class SimulationResult:
    process: dict[str, Any]
    scenario: dict[str, Any]
    cases: int
    seed: int
    period: dict[str, str]
    outcome: dict[str, Any]
    deadlines: list[dict[str, Any]]
    breaches_by_role: dict[str, int]
    escalations_by_level: dict[str, int]
    escalations_by_role: dict[str, dict[str, Any]]
    actions_by_role: dict[str, int]
    actions: dict[str, int]  # action id -> times taken
    states: list[dict[str, Any]]
    roles: dict[str, str] = field(default_factory=dict)  # role id -> title
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def escalations_of(self, role: str) -> int:
        return int(self.escalations_by_role.get(role, {}).get("total", 0))

    def breaches(self) -> int:
        return sum(int(d["breaches"]) for d in self.deadlines)


def collect(
    engine: Engine,
    spec: Process,
    scenario: Scenario,
    outcomes: dict[str, str],
    *,
    seed: int,
    start: int,
    end: int,
    process_file: str,
    warnings: list[str],
) -> SimulationResult:
    """Fold every simulated case's history into the metrics."""
    per: dict[str, Counter[str]] = {d: Counter() for d in spec.deadlines}
    by_role_breach: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    esc: dict[str, Counter[str]] = defaultdict(Counter)
    acts: Counter[str] = Counter()
    by_action: Counter[str] = Counter()
    spent: dict[str, list[float]] = defaultdict(list)
    to_close: list[float] = []
    open_in: Counter[str] = Counter()
    for case_id in outcomes:
        running: dict[str, bool] = {}  # deadline -> its current clock has breached
        entered: dict[str, int] = {}
        for e in engine.history(case_id):
            p = e.payload
            if e.kind in ("started", "acted"):
                for name in p.get("ended", ()):
                    running.pop(name, None)
                for name in p["clocks"]:
                    if name not in running:
                        running[name] = False
                        per[name]["started"] += 1
                now_in = {p["state"], *p["branches"].values()}
                for s in set(entered) - now_in:
                    spent[s].append(e.at - entered.pop(s))
                for s in now_in - set(entered):
                    entered[s] = e.at
                if e.kind == "acted":
                    acts[e.role] += 1
                    by_action[p["action"]] += 1
            elif e.kind == "deadline_met":
                per[p["deadline"]]["on_time" if p["on_time"] else "late"] += 1
            elif e.kind == "deadline_breached":
                per[p["deadline"]]["breaches"] += p.get("missed", 1)
                by_role_breach[p["role"] or "?"] += p.get("missed", 1)
                running[p["deadline"]] = True
            elif e.kind == "escalated":
                levels[str(p["step"])] += 1
                esc[p["role"]].update(("total", p["do"], f"level {p['step']}"))
        for name, breached in running.items():
            per[name]["overdue_open" if breached else "running"] += 1
        row = engine.case(case_id)
        if row.closed_at is not None:
            to_close.append(row.closed_at - row.opened_at)
        else:
            open_in[f"{row.state} ({outcomes[case_id] or 'open'})"] += 1
    tz = spec.timezone
    count = Counter(outcomes.values())
    return SimulationResult(
        process={"id": spec.id, "version": spec.version, "title": str(spec.title), "file": process_file},
        scenario={"id": scenario.id, "title": scenario.title, "file": scenario.file},
        cases=len(outcomes),
        seed=seed,
        period={"first_arrival": format_local(start, tz), "end": format_local(end, tz), "timezone": tz},
        outcome={
            "closed": count["closed"],
            "open": len(outcomes) - count["closed"],
            "capped": count["capped"],
            "stuck": count["stuck"],
            "close_p50_h": hours(percentile(to_close, 50)),
            "close_p90_h": hours(percentile(to_close, 90)),
            "open_in": _ranked(open_in),
        },
        deadlines=[_deadline_row(spec, d, per[d]) for d in spec.deadlines],
        breaches_by_role=_ranked(by_role_breach),
        escalations_by_level=dict(sorted(levels.items(), key=lambda kv: int(kv[0]))),
        escalations_by_role={
            r: dict(sorted(c.items())) for r, c in sorted(esc.items(), key=lambda kv: (-kv[1]["total"], kv[0]))
        },
        actions_by_role=_ranked(acts),
        actions=_ranked(by_action),
        states=[
            {
                "id": s,
                "title": str(spec.states[s].title),
                "visits": len(spent[s]),
                "p50_h": hours(percentile(spent[s], 50)),
                "p90_h": hours(percentile(spent[s], 90)),
            }
            for s in spec.states
            if spent.get(s)
        ],
        roles={r.id: str(r.title) for r in spec.roles.values()},
        warnings=list(warnings),
    )


def _deadline_row(spec: Process, name: str, c: Counter[str]) -> dict[str, Any]:
    decided = c["on_time"] + c["late"] + c["overdue_open"]
    d = spec.deadlines[name]
    return {
        "id": name,
        "title": str(d.title),
        "rule": str(d.due),
        "started": c["started"],
        "on_time": c["on_time"],
        "late": c["late"],
        "overdue_open": c["overdue_open"],
        "running": c["running"],
        "breaches": c["breaches"],
        "on_time_rate": round(c["on_time"] / decided, 4) if decided else None,
    }


def _ranked(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))
