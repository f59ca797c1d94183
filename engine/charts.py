"""Inline SVG bar charts with no scripts and no external files: horizontal bars, one or more series per row.

The simulation's and the report's HTML draw with it; labels are cut to fit beside their bars.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

LABEL_W, BAR_W, VALUE_W = 230, 380, 90
BAR_H, GAP, ROW_GAP, TOP = 14, 3, 12, 8
PALETTE = ("#3b6ea8", "#e08a2e", "#7a9e3a", "#b8493f", "#7d5ba6", "#4a9a9a")
GOOD, FAIR, POOR = "#4f9a4f", "#e0a030", "#c8443a"


def rate_color(rate: float) -> str:
    """Green from 90% on time, amber from 75%, red below."""
    return GOOD if rate >= 0.9 else FAIR if rate >= 0.75 else POOR


def short(label: str, limit: int = 16) -> str:
    """The Chinese part of a title (before ' ('), cut to ``limit`` characters."""
    head = label.split(" (", 1)[0]
    return head if len(head) <= limit else head[: limit - 1] + "…"


def bar_chart(
    rows: Sequence[tuple[str, str, Sequence[float | None]]],
    series: Sequence[str],
    *,
    fmt: Callable[[float], str],
    max_value: float | None = None,
    color: Callable[[int, float], str] | None = None,
    caption: str = "",
) -> str:
    """Rows of (label, tooltip, one value per series); ``color(series_index, value)`` overrides the palette."""
    values = [v for _, _, vs in rows for v in vs if v is not None]
    top = max_value if max_value is not None else max(values, default=0.0)
    top = top if top > 0 else 1.0
    legend_h = 22 if len(series) > 1 else 0
    row_h = len(series) * (BAR_H + GAP) - GAP + ROW_GAP
    height = TOP + legend_h + max(1, len(rows)) * row_h + 4
    width = LABEL_W + BAR_W + VALUE_W
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(caption)}" '
        'font-family="sans-serif" font-size="12">'
    ]
    if caption:
        out.append(f"<title>{escape(caption)}</title>")
    for i, name in enumerate(series if len(series) > 1 else ()):
        x = LABEL_W + i * 120
        out.append(
            f'<rect x="{x}" y="{TOP}" width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{x + 16}" y="{TOP + 10}">{escape(name)}</text>'
        )
    if not rows:
        out.append(f'<text x="{LABEL_W}" y="{TOP + legend_h + 12}" fill="#666">none</text>')
    for r, (label, tip, vals) in enumerate(rows):
        y0 = TOP + legend_h + r * row_h
        mid = y0 + (row_h - ROW_GAP) / 2 + 4
        out.append(
            f"<g><title>{escape(tip or label)}</title>"
            f'<text x="{LABEL_W - 8}" y="{mid:.1f}" text-anchor="end">{escape(short(label))}</text>'
        )
        for s, v in enumerate(vals):
            y = y0 + s * (BAR_H + GAP)
            if v is None:
                out.append(f'<text x="{LABEL_W + 4}" y="{y + BAR_H - 3}" fill="#666">no data</text>')
                continue
            w = max(1.0, BAR_W * min(v, top) / top) if v > 0 else 0.0
            fill = color(s, v) if color else PALETTE[s % len(PALETTE)]
            out.append(
                f'<rect x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR_H}" fill="{fill}"/>'
                f'<text x="{LABEL_W + w + 4:.1f}" y="{y + BAR_H - 3}">{escape(fmt(v))}</text>'
            )
        out.append("</g>")
    out.append(f'<line x1="{LABEL_W}" y1="{TOP + legend_h}" x2="{LABEL_W}" y2="{height - 4}" stroke="#999"/>')
    out.append("</svg>")
    return "".join(out)
