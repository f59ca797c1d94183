"""Render a :class:`Report` as Markdown, CSV, JSON or self-contained HTML.

Markdown, CSV and HTML share one list of named tables (:func:`tables`); JSON is
the whole report structure. CSV is several blocks, each a ``# <table>`` line,
a header row and the data rows, separated by one blank line.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
from dataclasses import dataclass
from typing import Any

from ..charts import bar_chart, rate_color
from .build import Report

FORMATS = ("markdown", "csv", "json", "html")


@dataclass(frozen=True, slots=True)
class Table:
    name: str  # the CSV block name
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.1f}%"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _age(hours: float) -> str:
    whole = int(hours)
    return f"{whole // 24}d {whole % 24}h" if whole >= 24 else f"{hours:.1f}h"


def rate_line(report: Report) -> str:
    """One sentence: the complaint rate against its target, or why it is missing."""
    r = report.complaint_rate
    if r is None:
        return report.complaint_rate_note
    left_out = (
        f"; {r.not_declared} case(s) of processes that declare no counts_as are not counted" if r.not_declared else ""
    )
    return (
        f"complaint rate = valid complaints / households = {r.valid} / {r.households} = {r.rate * 100:.2f}% "
        f"(target below {r.target * 100:.0f}%): {r.verdict}{left_out}"
    )


def tables(report: Report) -> list[Table]:
    """Every table of the report, in reading order."""
    r = report.complaint_rate
    summary = [
        ("period", report.period),
        ("timezone", report.timezone),
        ("start", report.start),
        ("end", report.end),
        ("as of", report.now),
        ("schedule", report.due),
        ("cases opened", report.cases),
        ("complaint rate", rate_line(report)),
    ]
    return [
        Table("summary", "概要 Summary", ("item", "value"), summary),
        Table(
            "by_process",
            "按流程 Cases by process",
            ("process", "title", "cases"),
            [(c.process, c.title, c.cases) for c in report.by_process],
        ),
        Table(
            "by_kind",
            "统计口径 What the cases count as (the process's counts_as)",
            ("process", "kind", "title", "cases"),
            [(c.process, c.value, c.title, c.cases) for c in report.by_kind],
        ),
        Table("counting_rules", "计数规则 Counting rules", ("rule",), [(rule,) for rule in report.counting_rules]),
        Table(
            "by_category",
            "按类别 Cases by category",
            ("process", "category", "cases"),
            [(c.process, c.value, c.cases) for c in report.by_category],
        ),
        Table(
            "by_severity",
            "按等级 Cases by severity",
            ("process", "severity", "cases"),
            [(c.process, c.value, c.cases) for c in report.by_severity],
        ),
        Table(
            "by_state",
            "按当前状态 Cases by current state",
            ("process", "state", "title", "cases"),
            [(c.process, c.value, c.title, c.cases) for c in report.by_state],
        ),
        Table(
            "deadlines",
            "按时率 On-time rate per deadline",
            ("process", "deadline", "title", "on_time", "late", "breached", "unmet", "on_time_rate"),
            [
                (d.process, d.deadline, d.title, d.on_time, d.late, d.breached, d.unmet, _pct(d.rate))
                for d in report.deadlines
            ],
        ),
        Table(
            "escalations",
            "升级 Escalations per chain, step and role",
            ("process", "chain", "chain_title", "step", "of", "role", "role_title", "do", "count"),
            [
                (e.process, e.chain, e.chain_title, e.step, e.of, e.role, e.role_title, e.do, e.count)
                for e in report.escalations
            ],
        ),
        Table(
            "handling",
            "处理时长 Handling time, opened to closed (hours)",
            ("process", "closed", "still_open", "mean_hours", "p90_hours"),
            [(h.process, h.closed, h.still_open, _num(h.mean_hours), _num(h.p90_hours)) for h in report.handling],
        ),
        Table(
            "complaint_rate",
            "投诉率 Complaint rate",
            ("households", "cases", "invalid", "valid", "rate", "target", "verdict"),
            [(r.households, r.cases, r.invalid, r.valid, f"{r.rate * 100:.2f}%", f"{r.target * 100:.0f}%", r.verdict)]
            if r
            else [],
        ),
        Table(
            "review",
            "周一检查清单 Review list: unresolved cases, oldest first",
            (
                "case",
                "process",
                "state",
                "state_title",
                "holder",
                "holder_title",
                "opened",
                "age_hours",
                "age",
                "breached",
            ),
            [
                (
                    v.case_id,
                    v.process,
                    v.state,
                    v.state_title,
                    v.holder,
                    v.holder_title,
                    v.opened,
                    f"{v.age_hours:.1f}",
                    _age(v.age_hours),
                    " ".join(v.breached) or "-",
                )
                for v in report.review
            ],
        ),
    ]


def _md_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: Report) -> str:
    out = [
        f"# 投诉报表 Complaint report {report.period}",
        "",
        f"- period: {report.start} to {report.end} ({report.timezone}), as of {report.now}",
        f"- {report.due}",
        f"- cases opened: {report.cases}",
        f"- {rate_line(report)}",
    ]
    for t in tables(report)[1:]:
        out += ["", f"## {t.title}", ""]
        if not t.rows:
            out.append("_none_")
            continue
        out.append("| " + " | ".join(t.columns) + " |")
        out.append("|" + "---|" * len(t.columns))
        out += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in t.rows]
    return "\n".join(out) + "\n"


CSV_BOM = "\ufeff"  # Excel reads a CSV file as UTF-8 (Chinese intact) only when it starts with this mark


def to_csv(report: Report) -> str:
    """Named blocks; the text starts with a UTF-8 byte-order mark so Excel opens the Chinese correctly."""
    blocks = []
    for t in tables(report):
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        buf.write(f"# {t.name}\n")
        writer.writerow(t.columns)
        writer.writerows(t.rows)
        blocks.append(buf.getvalue())
    return CSV_BOM + "\n".join(blocks)


def to_json(report: Report) -> str:
    data = {"report": "complaintflow", **dataclasses.asdict(report), "complaint_rate_line": rate_line(report)}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


_CSS = """body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f0f0f0}td.n{text-align:right}.PASS{color:#2e7d32;font-weight:bold}.MISS{color:#c62828;font-weight:bold}
svg text{font-size:12px}"""


def _svg_chart(report: Report) -> str:
    """Horizontal bars: on-time rate per deadline, labelled with its title (deadlines with no judged
    outcome are left out; a rate of 0% is drawn as 0%, not left out)."""
    rows = [(d.title or d.deadline, f"{d.process} / {d.deadline}: {d.title}", [d.rate]) for d in report.deadlines]
    judged = [r for r in rows if r[2][0] is not None]
    if not judged:
        return "<p><em>no deadline outcomes in this period</em></p>"
    return bar_chart(
        judged,
        ["on-time rate"],
        fmt=lambda v: f"{v * 100:.1f}%",
        max_value=1.0,
        color=lambda _series, v: rate_color(v),
        caption="按时率 on-time rate per deadline",
    )


def to_html(report: Report) -> str:
    e = html.escape
    verdict = report.complaint_rate.verdict if report.complaint_rate else ""
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>Complaint report {e(report.period)}</title><style>{_CSS}</style></head><body>",
        f"<h1>投诉报表 Complaint report {e(report.period)}</h1>",
        f"<p>{e(report.start)} to {e(report.end)} ({e(report.timezone)}), as of {e(report.now)}<br>"
        f"{e(report.due)}<br>cases opened: {report.cases}<br>"
        f'<span class="{verdict}">{e(rate_line(report))}</span></p>',
    ]
    for t in tables(report)[1:]:
        out.append(f"<h2>{e(t.title)}</h2>")
        if t.name == "deadlines":
            out.append(_svg_chart(report))
        if not t.rows:
            out.append("<p><em>none</em></p>")
            continue
        out.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in t.columns) + "</tr>")
        for row in t.rows:
            cells = "".join(f'<td class="n">{v}</td>' if isinstance(v, int) else f"<td>{e(str(v))}</td>" for v in row)
            out.append(f"<tr>{cells}</tr>")
        out.append("</table>")
    return "\n".join(out + ["</body></html>"]) + "\n"


def render(report: Report, fmt: str) -> str:
    """``fmt`` is one of markdown, csv, json, html."""
    renderers = {"markdown": to_markdown, "csv": to_csv, "json": to_json, "html": to_html}
    if fmt not in renderers:
        raise ValueError(f"unknown report format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return renderers[fmt](report)
