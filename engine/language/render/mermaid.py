"""Render a process as a Mermaid ``stateDiagram-v2`` that GitHub and Mermaid's parser accept.

Mermaid is picky: some words cannot be state ids, some characters in labels split
statements or turn into HTML, and a state mentioned inside a composite block is
moved there. So every state, transition and note is written in the block
(top level or parallel region) where the state lives, and all text is sanitised.
"""

from __future__ import annotations

from ..spec import Deadline, Due, Process, State

# Words Mermaid's state grammar treats as keywords (matched case-insensitively), plus
# a few more that other Mermaid renderers stumble on; a state with such an id gets a prefix.
RESERVED = frozenset(
    {
        "end",
        "state",
        "note",
        "direction",
        "class",
        "classdef",
        "default",
        "style",
        "click",
        "href",
        "call",
        "callback",
        "statediagram",
        "hide",
        "empty",
        "as",
        "left",
        "right",
        "of",
        "over",
        "accdescr",
        "acctitle",
        "linkstyle",
        "interpolate",
        "fork",
        "join",
        "choice",
        "concurrent",
        "root",
        "graph",
        "subgraph",
        "flowchart",
        "title",
        "description",
        "tb",
        "bt",
        "lr",
        "rl",
        "td",
    }
)

# Characters that end a statement (;), start an entity (# &), open HTML (< >), close a label
# (" and :) or a block ({ }) are swapped for harmless look-alikes.
_SAFE = str.maketrans(
    {
        '"': "'",
        ":": "：",
        ";": "；",
        "#": "＃",
        "&": "＆",
        "{": "(",
        "}": ")",
        "<": "‹",
        ">": "›",
        "`": "'",
        "\\": "/",
        "|": "¦",
    }
)

PAUSE_MARK = "⏸"
CLOCK_MARK = "⏱"


def text(value: str) -> str:
    """Label text Mermaid shows literally: unsafe characters replaced, whitespace collapsed."""
    return " ".join(value.translate(_SAFE).split())


def state_ids(process: Process) -> dict[str, str]:
    """Spec state id -> Mermaid id; reserved words get an ``s_`` prefix that clashes with nothing."""
    taken = set(process.states)
    out: dict[str, str] = {}
    for sid in process.states:
        mid = sid
        if sid.lower() in RESERVED:
            mid = f"s_{sid}"
            while mid in taken:
                mid = f"s_{mid}"
            taken.add(mid)
        out[sid] = mid
    return out


def due_text(due: Due) -> str:
    """Short due text for a diagram: ``3m``, ``by 17:00``, ``by end of day``, ``every 30m``."""
    return str(due.within) if due.within is not None else str(due)


REMINDER_MARK = "🔔"


def deadline_line(deadline: Deadline) -> str:
    """``⏱ 4wh 标题 (warn 50%, 75%) if severity == 'major' → escalation chain``; a reminder wears a bell."""
    mark = REMINDER_MARK if deadline.reminder else CLOCK_MARK
    line = f"{mark} {due_text(deadline.due)} {deadline.title.zh}"
    warns = [f"{share}%" for share in deadline.warn_at] + (
        [f"{deadline.warn_before} before"] if deadline.warn_before else []
    )
    if warns:
        line += f" (warn {', '.join(warns)})"
    if deadline.guard:
        line += f" if {deadline.guard}"
    if deadline.escalation:
        line += f" → escalation {deadline.escalation}"
    return line


class _Writer:
    def __init__(self, process: Process):
        self.p = process
        self.ids = state_ids(process)
        self.lines: list[str] = []

    def id(self, sid: str) -> str:
        # an id no state declares only occurs in an unchecked spec; guard it all the same
        return self.ids.get(sid) or (f"s_{sid}" if sid.lower() in RESERVED else sid)

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def members(self, branch: str | None) -> list[State]:
        return [s for s in self.p.states.values() if s.branch == branch]

    def label(self, state: State) -> str:
        title = text(state.title.zh) or state.id
        return f"{title} {PAUSE_MARK}" if state.pause else title

    def action_label(self, title: str, roles: tuple[str, ...]) -> str:
        names = [self.p.roles[r].title.zh if r in self.p.roles else r for r in roles]
        return text(f"{title} ({'、'.join(names)})" if names else title)

    def scope(self, branch: str | None, depth: int) -> None:
        """Write one block: the top level (branch None) or one parallel region."""
        members = self.members(branch)
        for state in members:
            self.emit(depth, f'state "{self.label(state)}" as {self.id(state.id)}')
        for state in members:
            self.parallel(state, depth)
        for state in members:
            if state.initial:
                self.emit(depth, f"[*] --> {self.id(state.id)}")
        inside = {s.id for s in members}
        for action in self.p.actions.values():
            for source in action.sources:
                if source in inside:
                    self.emit(
                        depth,
                        f"{self.id(source)} --> {self.id(action.target)} : "
                        f"{self.action_label(action.title.zh, action.roles)}",
                    )
        for state in members:
            if state.final:
                self.emit(depth, f"{self.id(state.id)} --> [*]")
        for state in members:
            self.note(state, depth)

    def parallel(self, state: State, depth: int) -> None:
        """A parallel state: a composite whose regions, split by ``--``, are its branches."""
        regions = [b for b in state.branches if self.members(b)]
        if not regions:
            return  # an empty composite block does not parse; the plain state stays
        self.emit(depth, f"state {self.id(state.id)} {{")
        for i, branch in enumerate(regions):
            if i:
                self.emit(depth + 1, "--")
            self.scope(branch, depth + 1)
        self.emit(depth, "}")

    def note(self, state: State, depth: int) -> None:
        # Multi-line notes only: the one-line form breaks on a colon in the text.
        lines = [deadline_line(d) for d in self.p.deadlines.values() if state.id in d.start]
        if not lines:
            return
        self.emit(depth, f"note right of {self.id(state.id)}")
        for line in lines:
            self.emit(depth + 1, text(line))
        self.emit(depth, "end note")


def render(process: Process) -> str:
    """The process as Mermaid ``stateDiagram-v2`` source, ending with a newline."""
    writer = _Writer(process)
    writer.emit(0, "stateDiagram-v2")
    writer.emit(1, f"%% {text(process.id)} v{process.version} {text(process.title.zh)}")
    writer.scope(None, 1)
    return "\n".join(writer.lines) + "\n"


def render_markdown(process: Process) -> str:
    """The diagram in a fenced ```mermaid block, ready to paste into Markdown."""
    return f"```mermaid\n{render(process)}```\n"
