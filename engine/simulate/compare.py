"""Two runs of one scenario against an old and a new process version, and what changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .stats import SimulationResult


@dataclass
class Comparison:
    old: SimulationResult
    new: SimulationResult
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "old": self.old.to_json(),
            "new": self.new.to_json(),
            "changes": self._changes(),
            "headlines": self.headlines(),
            "warnings": list(self.warnings),
        }

    def headlines(self) -> list[str]:
        """One sentence per changed deadline and per role receiving escalations, biggest first."""
        out = []
        for r in self._deadlines():
            if r["breach_change"] or r["rate_change"]:
                rate = "" if r["rate_change"] is None else (f", on-time {_pct(r['old_rate'])} -> {_pct(r['new_rate'])}")
                out.append(
                    f"{r['id']} ({r['new_rule']}): {r['new_breaches']} breaches, {r['breach_change']:+d} vs old{rate}"
                )
        for r in _by_role(self.old.escalations_by_role, self.new.escalations_by_role, total=True):
            title = self.new.roles.get(r["role"]) or self.old.roles.get(r["role"]) or r["role"]
            out.append(f"{title} [{r['role']}] got {r['new']} escalations, {r['change']:+d} vs old")
        return out or ["no difference in deadlines or escalations"]

    def _deadlines(self) -> list[dict[str, Any]]:
        old = {d["id"]: d for d in self.old.deadlines}
        new = {d["id"]: d for d in self.new.deadlines}
        rows = []
        for name in list(old) + [n for n in new if n not in old]:
            o, n = old.get(name, {}), new.get(name, {})
            o_rate, n_rate = o.get("on_time_rate"), n.get("on_time_rate")
            rows.append(
                {
                    "id": name,
                    "old_rule": o.get("rule", "-"),
                    "new_rule": n.get("rule", "-"),
                    "old_rate": o_rate,
                    "new_rate": n_rate,
                    "rate_change": None if o_rate is None or n_rate is None else round(n_rate - o_rate, 4),
                    "old_breaches": o.get("breaches", 0),
                    "new_breaches": n.get("breaches", 0),
                    "breach_change": n.get("breaches", 0) - o.get("breaches", 0),
                }
            )
        return rows

    def _changes(self) -> dict[str, Any]:
        o, n = self.old.outcome, self.new.outcome
        return {
            "deadlines": self._deadlines(),
            "escalations_by_role": _by_role(self.old.escalations_by_role, self.new.escalations_by_role, total=True),
            "breaches_by_role": _by_role(self.old.breaches_by_role, self.new.breaches_by_role),
            "actions_by_role": _by_role(self.old.actions_by_role, self.new.actions_by_role),
            "outcome": {k: {"old": o[k], "new": n[k]} for k in o},
            "breaches": {
                "old": self.old.breaches(),
                "new": self.new.breaches(),
                "change": self.new.breaches() - self.old.breaches(),
            },
        }


def compare(old: SimulationResult, new: SimulationResult) -> Comparison:
    """What changes from ``old`` to ``new``; warns when the runs are not like for like."""
    warnings = []
    if old.process["id"] != new.process["id"]:
        warnings.append(f"comparing different processes: {old.process['id']} and {new.process['id']}")
    for what, a, b in (
        ("scenario", old.scenario["id"], new.scenario["id"]),
        ("cases", old.cases, new.cases),
        ("seed", old.seed, new.seed),
    ):
        if a != b:
            warnings.append(f"the runs differ in {what} ({a} vs {b}); differences are not only the process's")
    return Comparison(old, new, warnings)


def _by_role(old: dict[str, Any], new: dict[str, Any], total: bool = False) -> list[dict[str, Any]]:
    def value(table: dict[str, Any], role: str) -> int:
        v = table.get(role, 0)
        return int(v.get("total", 0)) if total and isinstance(v, dict) else int(v)

    roles = list(new) + [r for r in old if r not in new]
    rows = [
        {"role": r, "old": value(old, r), "new": value(new, r), "change": value(new, r) - value(old, r)} for r in roles
    ]
    return sorted(rows, key=lambda r: (-abs(r["change"]), -r["new"], r["role"]))


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"
