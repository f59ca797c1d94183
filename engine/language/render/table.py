"""Plain-text tables of a process for the CLI ``show`` command.

Tables are Markdown-style pipe grids so they also paste into an issue or a
wiki. Chinese characters take two terminal columns, so cells are padded by
display width (``unicodedata.east_asian_width``), not by ``len``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from ..durations import WEEKDAYS
from ..spec import Calendar, Field, Process, Title


def display_width(s: str) -> int:
    """Terminal columns ``s`` takes: wide and full-width characters 2, combining and format marks 0."""
    width = 0
    for ch in s:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def pad(s: str, width: int) -> str:
    """``s`` followed by spaces up to ``width`` display columns (never cut)."""
    return s + " " * max(0, width - display_width(s))


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")  # one line per row; a bare | would split the cell


def grid(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A pipe table whose lines all have the same display width."""
    cells = [[_cell(c) for c in row] for row in (headers, *rows)]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "| " + " | ".join(pad(c, w) for c, w in zip(row, widths, strict=False)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return [line(cells[0]), rule, *(line(row) for row in cells[1:])]


def _title(t: Title | None) -> str:
    return "" if t is None else t.zh


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


def _seen_by(f: Field) -> str:
    """Who may see a personal-data field's value; blank for a field that is not personal."""
    if not f.pii:
        return ""
    if f.visible_to is None:
        return "every role"
    return ", ".join(f.visible_to) or "nobody"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def weekdays_text(days: frozenset[int]) -> str:
    """``mon-fri`` for a run of days, otherwise a comma list."""
    ordered = sorted(days)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{WEEKDAYS[ordered[0]]}-{WEEKDAYS[ordered[-1]]}"
    return ", ".join(WEEKDAYS[d] for d in ordered)


def hours_text(cal: Calendar) -> str:
    return ", ".join(f"{_clock(a)}-{_clock(b)}" for a, b in cal.hours)


def _section(
    name: str, headers: Sequence[str], rows: Sequence[Sequence[object]], count: int | None = None
) -> list[str]:
    shown = len(rows) if count is None else count
    return [f"{name} ({shown})", *(grid(headers, rows) if rows else ["(none)"]), ""]


def render(process: Process) -> str:
    """Every part of the process as titled tables, ending with a newline."""
    p = process
    source = p.source.file + (f" § {p.source.section}" if p.source.section else "")
    out = [f"{p.id} v{p.version}  {p.title.zh}" + (f" ({p.title.en})" if p.title.en else ""), ""]
    out += [
        "Process",
        *grid(
            ("key", "value"),
            [
                ("id", p.id),
                ("version", p.version),
                ("title", p.title.zh),
                ("title (en)", p.title.en),
                ("source", source),
                ("timezone", p.timezone),
                ("calendar", p.calendar or "(none)"),
            ],
        ),
        "",
    ]
    out += _section("Roles", ("id", "title", "title (en)"), [(r.id, r.title.zh, r.title.en) for r in p.roles.values()])
    out += _section(
        "Fields",
        ("id", "title", "type", "required", "pii", "visible to", "values"),
        [
            (f.id, _title(f.title), f.type.value, _yes(f.required), _yes(f.pii), _seen_by(f), ", ".join(f.values))
            for f in p.fields.values()
        ],
    )
    out += _section(
        "States",
        ("id", "title", "owner", "kind", "checklist"),
        [
            (
                s.id,
                s.title.zh,
                s.owner or "",
                _kind(s.initial, s.final, s.pause, s.branches, s.branch),
                len(s.checklist) or "",
            )
            for s in p.states.values()
        ],
    )
    out += _section(
        "Actions",
        ("id", "title", "from -> to", "roles", "guard", "inputs"),
        [
            (
                a.id,
                a.title.zh,
                f"{', '.join(a.sources)} -> {a.target}",
                ", ".join(a.roles),
                a.guard or "",
                ", ".join(a.inputs),
            )
            for a in p.actions.values()
        ],
    )
    out += _section(
        "Deadlines",
        ("id", "title", "start -> stop", "due", "calendar", "role", "warn", "escalation"),
        [
            (
                d.id,
                d.title.zh,
                f"{', '.join(d.start)} -> {', '.join(d.stop) or '(leaving start)'}",
                str(d.due) + (f" (reset by {', '.join(d.reset_by)})" if d.reset_by else ""),
                d.calendar or (f"{p.calendar} (default)" if p.calendar else ""),
                d.role or "",
                d.warn_before or "",
                d.escalation or "",
            )
            for d in p.deadlines.values()
        ],
    )
    out += _section(
        "Escalations",
        ("id", "title", "step", "role", "do", "within"),
        [
            (e.id if i == 0 else "", e.title.zh if i == 0 else "", i + 1, s.role, s.do.value, s.within or "")
            for e in p.escalations.values()
            for i, s in enumerate(e.steps)
        ],
        count=len(p.escalations),
    )
    out += _section(
        "Calendars",
        ("id", "title", "extends", "weekdays", "hours", "statutory", "holidays", "workdays", "unpublished year"),
        [
            (
                c.id,
                _title(c.title),
                c.extends or "",
                weekdays_text(c.weekdays),
                hours_text(c),
                c.statutory,
                ", ".join(sorted(c.holidays)),
                ", ".join(sorted(c.workdays)),
                c.unpublished_year.value,
            )
            for c in p.calendars.values()
        ],
    )
    return "\n".join(out).rstrip("\n") + "\n"


def _kind(initial: bool, final: bool, pause: bool, branches: tuple[str, ...], branch: str | None) -> str:
    words = [w for w, on in (("initial", initial), ("final", final), ("pause", pause)) if on]
    if branches:
        words.append(f"parallel: {', '.join(branches)}")
    if branch:
        words.append(f"branch {branch}")
    return ", ".join(words)
