"""Self-contained HTML reports (inline CSS and SVG, no scripts) for a run and for a comparison."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from ..charts import bar_chart, rate_color
from .compare import Comparison
from .stats import SimulationResult
from .text import deadline_rows, num, pct, signed

CSS = (
    "body{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:.6em 0}td,th{padding:3px 10px;border-bottom:1px solid #eee;"
    "text-align:right}td:first-child,th:first-child,td.t{text-align:left}.note{color:#555;font-size:.9em}"
    ".warn{color:#a33}.big{font-size:1.1em}"
)


def _page(title: str, body: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title_last: bool = False) -> str:
    """A table; the first column (and the last, a title, when ``title_last``) left-aligned."""

    def td(i: int, cell: Any) -> str:
        left = i == 0 or (title_last and i == len(headers) - 1)
        return f"<td{' class=t' if left else ''}>{escape(str(cell))}</td>"

    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(td(i, c) for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _warnings(warnings: list[str]) -> list[str]:
    return [f'<p class="warn">⚠ {escape(w)}</p>' for w in warnings]


def result_page(res: SimulationResult) -> str:
    p, o = res.process, res.outcome
    levels = list(res.escalations_by_level)
    body = [
        f"<h1>投诉时限模拟 SLA simulation: {escape(p['title'])}</h1>",
        f"<p class=big>{res.cases} 个模拟投诉 simulated complaints · {o['closed']} 已结案 closed · "
        f"{o['open']} 未结 open ({o['capped']} 达到步数上限 hit the step cap, {o['stuck']} 无可用动作 stuck) · "
        f"结案时间 time to close p50 {num(o['close_p50_h'])} h, p90 {num(o['close_p90_h'])} h</p>",
        f"<p class=note>流程 Process {escape(p['id'])} v{p['version']} ({escape(p['file'])}) · 场景 Scenario "
        f"{escape(res.scenario['id'])}: {escape(res.scenario['title'])} · seed {res.seed} · "
        f"{escape(res.period['first_arrival'])} – {escape(res.period['end'])} ({escape(res.period['timezone'])})</p>",
        *(
            [
                "<p>期末未结案所在状态 Open at the end, by state: "
                f"{escape(', '.join(f'{k} {v}' for k, v in o['open_in'].items()))}"
                "（stuck = 没有任何动作的条件能成立 no action's guard can pass）</p>"
            ]
            if o["open_in"]
            else []
        ),
        *_warnings(res.warnings),
        "<h2>各时限按时完成率 On-time rate per deadline</h2>",
        bar_chart(
            [(d["title"], f"{d['id']}: {d['title']} ({d['rule']})", [d["on_time_rate"]]) for d in res.deadlines],
            ["on time"],
            fmt=lambda v: f"{v * 100:.1f}%",
            max_value=1.0,
            color=lambda _s, v: rate_color(v),
            caption="On-time rate per deadline",
        ),
        _table(
            ["deadline", "rule", "started", "on time", "late", "open late", "running", "breaches", "on-time", "title"],
            deadline_rows(res),
            title_last=True,
        ),
        "<p class=note>按时率 = 按时 / (按时 + 逾期完成 + 逾期未完成)。 On-time rate = on time / (on time + met late"
        " + open past due); clocks still running before their due time are left out.</p>",
        "<h2>升级到各角色 Escalation steps per role and level</h2>",
        bar_chart(
            [
                (res.roles.get(r, r), f"{r}: {c.get('total', 0)} escalations", [c.get(f"level {n}", 0) for n in levels])
                for r, c in res.escalations_by_role.items()
            ],
            [f"level {n}" for n in levels] or ["escalations"],
            fmt=lambda v: f"{v:g}",
            caption="Escalation steps per role and level",
        ),
        _table(
            ["role", "total", "notify", "reassign", *[f"level {n}" for n in levels], "title"],
            [
                [
                    r,
                    c.get("total", 0),
                    c.get("notify", 0),
                    c.get("reassign", 0),
                    *[c.get(f"level {n}", 0) for n in levels],
                    res.roles.get(r, ""),
                ]
                for r, c in res.escalations_by_role.items()
            ],
            title_last=True,
        ),
        "<h2>超时责任角色 Breaches by responsible role</h2>",
        bar_chart(
            [(res.roles.get(r, r), f"{r}: {n} breaches", [n]) for r, n in res.breaches_by_role.items()],
            ["breaches"],
            fmt=lambda v: f"{v:g}",
            color=lambda _s, _v: "#c8443a",
            caption="Breaches by responsible role",
        ),
        "<h2>各状态停留时间 Time in state (hours, p50 and p90)</h2>",
        bar_chart(
            [(s["title"], f"{s['id']}: {s['visits']} visits", [s["p50_h"], s["p90_h"]]) for s in res.states],
            ["p50", "p90"],
            fmt=lambda v: f"{v:.1f} h",
            caption="Time in state, p50 and p90 hours",
        ),
        "<h2>最忙的角色 Busiest roles (actions taken)</h2>",
        bar_chart(
            [(res.roles.get(r, r), f"{r}: {n} actions", [n]) for r, n in res.actions_by_role.items()],
            ["actions"],
            fmt=lambda v: f"{v:g}",
            caption="Actions taken per role",
        ),
    ]
    return _page(f"SLA simulation {p['id']}", body)


def comparison_page(cmp: Comparison) -> str:
    old, new = cmp.old, cmp.new
    ch = cmp.to_json()["changes"]
    rows = ch["deadlines"]
    esc = ch["escalations_by_role"]
    titles = {d["id"]: d["title"] for d in old.deadlines + new.deadlines}
    body = [
        f"<h1>新旧流程对比 Old vs new process: {escape(new.process['title'])}</h1>",
        f"<p class=note>old: {escape(old.process['file'])} v{old.process['version']} · new: "
        f"{escape(new.process['file'])} v{new.process['version']} · 场景 Scenario {escape(new.scenario['id'])} · "
        f"{new.cases} cases · seed {new.seed}</p>",
        *_warnings(cmp.warnings),
        "<ul>" + "".join(f"<li>{escape(h)}</li>" for h in cmp.headlines()) + "</ul>",
        "<h2>按时完成率 On-time rate per deadline (old, new)</h2>",
        bar_chart(
            [
                (titles[r["id"]], f"{r['id']}: {r['old_rule']} -> {r['new_rule']}", [r["old_rate"], r["new_rate"]])
                for r in rows
            ],
            ["old", "new"],
            fmt=lambda v: f"{v * 100:.1f}%",
            max_value=1.0,
            caption="On-time rate, old and new",
        ),
        "<h2>超时次数 Breaches per deadline (old, new)</h2>",
        bar_chart(
            [(titles[r["id"]], r["id"], [r["old_breaches"], r["new_breaches"]]) for r in rows],
            ["old", "new"],
            fmt=lambda v: f"{v:g}",
            caption="Breaches, old and new",
        ),
        _table(
            ["deadline", "old rule", "new rule", "on-time old", "new", "breaches old", "new", "change"],
            [
                [
                    r["id"],
                    r["old_rule"],
                    r["new_rule"],
                    pct(r["old_rate"]),
                    pct(r["new_rate"]),
                    r["old_breaches"],
                    r["new_breaches"],
                    signed(r["breach_change"]),
                ]
                for r in rows
            ],
        ),
        "<h2>升级到各角色 Escalation steps per role (old, new)</h2>",
        bar_chart(
            [(new.roles.get(r["role"], r["role"]), r["role"], [r["old"], r["new"]]) for r in esc],
            ["old", "new"],
            fmt=lambda v: f"{v:g}",
            caption="Escalation steps per role, old and new",
        ),
        _table(
            ["role", "old", "new", "change", "title"],
            [[r["role"], r["old"], r["new"], signed(r["change"]), new.roles.get(r["role"], "")] for r in esc],
            title_last=True,
        ),
    ]
    return _page(f"SLA comparison {new.process['id']}", body)
