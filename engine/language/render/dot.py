"""Render a process as Graphviz DOT.

Each state is a rounded box labelled with its Chinese title and the deadlines
that start there; final states get a double border. A parallel state becomes a
cluster holding one dashed sub-cluster per branch, and a small node of its own
that transitions enter and leave (clipped to the cluster's border).
"""

from __future__ import annotations

from ..spec import Process, State
from .mermaid import CLOCK_MARK, PAUSE_MARK, due_text

FONT = "Noto Sans CJK SC, Microsoft YaHei, sans-serif"


def quote(value: str) -> str:
    """A DOT double-quoted string; quoting also keeps ids like ``node`` or ``edge`` from being keywords."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "")
    return '"' + escaped.replace("\n", "\\n") + '"'


class _Writer:
    def __init__(self, process: Process):
        self.p = process
        self.lines: list[str] = []

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def members(self, branch: str | None) -> list[State]:
        return [s for s in self.p.states.values() if s.branch == branch]

    def label(self, state: State) -> str:
        head = state.title.zh or state.id
        lines = [f"{head} {PAUSE_MARK}" if state.pause else head]
        for d in self.p.deadlines.values():
            if state.id in d.start:
                escalation = f" → {d.escalation}" if d.escalation else ""
                lines.append(f"{CLOCK_MARK} {due_text(d.due)} {d.title.zh}{escalation}")
        return "\n".join(lines)

    def node(self, state: State, depth: int) -> None:
        attrs = [f"label={quote(self.label(state))}"]
        if state.final:
            attrs.append("peripheries=2")
        if state.pause:
            attrs.append('style="rounded,dashed"')
        self.emit(depth, f"{quote(state.id)} [{', '.join(attrs)}];")

    def scope(self, branch: str | None, depth: int) -> None:
        """Nodes of one scope (top level or a branch), the start point and parallel clusters."""
        members = self.members(branch)
        for state in members:
            if state.initial and branch is None:  # a branch is entered by its parallel state's dashed edge
                self.emit(depth, '"__start" [shape=point, width=0.15, label=""];')
                self.emit(depth, f'"__start" -> {quote(state.id)};')
        for state in members:
            if self.is_cluster(state):
                self.cluster(state, depth)
            else:
                self.node(state, depth)

    def is_cluster(self, state: State) -> bool:
        return any(self.members(b) for b in state.branches)

    def cluster(self, state: State, depth: int) -> None:
        self.emit(depth, f"subgraph {quote('cluster_' + state.id)} {{")
        self.emit(depth + 1, f"label={quote(state.title.zh + ' ∥')}; style=rounded;")
        self.node(state, depth + 1)
        for branch in state.branches:
            if not self.members(branch):
                continue
            self.emit(depth + 1, f"subgraph {quote(f'cluster_{state.id}__{branch}')} {{")
            self.emit(depth + 2, f"label={quote(branch)}; style=dashed;")
            self.scope(branch, depth + 2)
            self.emit(depth + 1, "}")
            for s in self.members(branch):
                if s.initial:  # entering the parallel state enters every branch
                    self.emit(depth + 1, f"{quote(state.id)} -> {quote(s.id)} [style=dashed, arrowhead=empty];")
        self.emit(depth, "}")

    def edges(self) -> None:
        for action in self.p.actions.values():
            roles = "、".join(self.p.roles[r].title.zh if r in self.p.roles else r for r in action.roles)
            text = f"{action.title.zh}\n({roles})" if roles else action.title.zh
            for source in action.sources:
                attrs = [f"label={quote(text)}"]
                if source in self.p.states and self.is_cluster(self.p.states[source]):
                    attrs.append(f"ltail={quote('cluster_' + source)}")
                if action.target in self.p.states and self.is_cluster(self.p.states[action.target]):
                    attrs.append(f"lhead={quote('cluster_' + action.target)}")
                self.emit(1, f"{quote(source)} -> {quote(action.target)} [{', '.join(attrs)}];")


def render(process: Process) -> str:
    """The process as a UTF-8 Graphviz ``digraph``, ending with a newline."""
    w = _Writer(process)
    w.emit(0, f"digraph {quote(process.id)} {{")
    w.emit(
        1,
        f'graph [rankdir=LR, compound=true, charset="UTF-8", fontname={quote(FONT)}, labelloc=t, '
        f"label={quote(f'{process.id} v{process.version} {process.title.zh}')}];",
    )
    w.emit(1, f"node [shape=box, style=rounded, fontname={quote(FONT)}];")
    w.emit(1, f"edge [fontname={quote(FONT)}, fontsize=10];")
    w.scope(None, 1)
    w.edges()
    w.emit(0, "}")
    return "\n".join(w.lines) + "\n"
