"""The shape of the state graph: one start, everything reachable, every state can finish."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic, closest
from ..spec import Process
from .context import Context


def scopes(process: Process) -> dict[str | None, list[str]]:
    """States grouped by the branch they live in (None: top level)."""
    out: dict[str | None, list[str]] = {None: []}
    for state in process.states.values():
        out.setdefault(state.branch, []).append(state.id)
    return out


def _as_meant(name: str, process: Process) -> str | None:
    """The state a reference means: itself, or for a misspelt one (reported by undefined-state) the
    state it is closest to, so that one typo in 'to:' is not also reported as every state after it
    being unreachable."""
    return name if name in process.states else closest(name, process.states)


def _edges(process: Process) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {sid: set() for sid in process.states}
    for action in process.actions.values():
        target = _as_meant(action.target, process)
        for source in action.sources:
            meant = _as_meant(source, process)
            if meant is not None and target is not None:
                edges[meant].add(target)
    return edges


def reachable_states(process: Process, edges: dict[str, set[str]] | None = None) -> set[str]:
    """States a case can reach from the start, entering branches through their parallel state."""
    edges = _edges(process) if edges is None else edges
    branch_initials: dict[str, list[str]] = {}
    for state in process.states.values():
        if state.branch is not None and state.initial:
            branch_initials.setdefault(state.branch, []).append(state.id)
    todo = [s.id for s in process.states.values() if s.initial and s.branch is None]
    seen: set[str] = set()
    while todo:
        sid = todo.pop()
        if sid in seen:
            continue
        seen.add(sid)
        todo.extend(edges[sid])
        for branch in process.states[sid].branches:
            todo.extend(branch_initials.get(branch, []))
    return seen


def check_initial_state(ctx: Context) -> Iterator[Diagnostic]:
    """The top level and each branch need exactly one initial state."""
    for scope, members in ctx.derived("scopes", scopes).items():
        initials = [sid for sid in members if ctx.process.states[sid].initial]
        where = "the process" if scope is None else f"branch {scope!r}"
        if not initials and (scope is None or members):
            path = ("states",) if scope is None else ("states", members[0], "branch")
            yield ctx.at_key(
                path,
                f"{where} has no initial state",
                "mark the state where a case starts with 'initial: true'",
            )
        for extra in initials[1:]:
            first = ctx.doc.at(("states", initials[0], "initial"))
            yield ctx.error(
                ("states", extra, "initial"),
                f"{where} has more than one initial state ({initials[0]!r} at {first[0]}:{first[1]})",
            )


def _first_cause(ctx: Context, fallback: str) -> str:
    """A hint that points at an action leading to an undeclared state, the likely cause of a graph error."""
    for action in ctx.process.actions.values():
        if _as_meant(action.target, ctx.process) is None:
            line, col = ctx.doc.at(("actions", action.id, "to"))
            return f"first fix action {action.id!r}: its 'to' names undeclared state {action.target!r} ({line}:{col})"
    return fallback


def check_unreachable_state(ctx: Context) -> Iterator[Diagnostic]:
    """No sequence of actions from the initial state reaches this state."""
    if not any(s.initial for s in ctx.process.states.values()):
        return
    seen = reachable_states(ctx.process, ctx.derived("edges", _edges))
    hint = ""  # the same for every state: found once, so many unreachable states cost no more than one
    for sid in ctx.process.states:
        if sid not in seen:
            hint = hint or _first_cause(ctx, "add an action whose 'to' is this state, or remove it")
            yield ctx.at_key(("states", sid), f"state {sid!r} cannot be reached from the initial state", hint)


def check_no_path_to_final(ctx: Context) -> Iterator[Diagnostic]:
    """From this state no sequence of actions reaches a final state (a case would be stuck)."""
    hint = ""
    reverse: dict[str, list[str]] = {}
    for source, targets in ctx.derived("edges", _edges).items():
        for target in targets:
            reverse.setdefault(target, []).append(source)
    for _scope, members in ctx.derived("scopes", scopes).items():
        finals = {sid for sid in members if ctx.process.states[sid].final}
        if not finals:
            continue  # reported by initial/final rules
        done = _reaching(finals, members, reverse)
        for sid in members:
            if sid not in done:
                hint = hint or _first_cause(ctx, "add an action leading on from it, or mark it 'final: true'")
                yield ctx.at_key(("states", sid), f"state {sid!r} has no path to a final state", hint)


def _reaching(finals: set[str], members: list[str], reverse: dict[str, list[str]]) -> set[str]:
    """The states of ``members`` with a path to one of ``finals``: one walk back along the edges, so
    the work is linear in the number of states and actions (a 10,000-state file takes milliseconds)."""
    scope = set(members)
    done = set(finals)
    todo = list(finals)
    while todo:
        for source in reverse.get(todo.pop(), ()):
            if source in scope and source not in done:
                done.add(source)
                todo.append(source)
    return done


def check_final_state_exit(ctx: Context) -> Iterator[Diagnostic]:
    """An action leaves a final state; a final state ends the case (or its branch)."""
    for action in ctx.process.actions.values():
        for source in action.sources:
            state = ctx.process.states.get(source)
            if state is not None and state.final:
                yield ctx.error(
                    ctx.list_path(("actions", action.id), "from", source),
                    f"action {action.id!r} leaves final state {source!r}",
                    "remove 'final: true' from the state or the state from 'from'",
                )


def check_duplicate_action(ctx: Context) -> Iterator[Diagnostic]:
    """Two actions make the same move under the same guard; one of them is redundant."""
    seen: dict[tuple[object, ...], str] = {}
    for action in ctx.process.actions.values():
        for source in action.sources:
            key = (source, action.target, action.guard)
            if key in seen and seen[key] != action.id:
                line, col = ctx.doc.at(("actions", seen[key]), key=True)
                yield ctx.at_key(
                    ("actions", action.id),
                    f"action {action.id!r} repeats {seen[key]!r} (defined at {line}:{col}): "
                    f"both move {source!r} to {action.target!r}",
                    "merge their roles into one action, or give them different guards",
                )
            seen.setdefault(key, action.id)


CHECKS = (
    check_initial_state,
    check_unreachable_state,
    check_no_path_to_final,
    check_final_state_exit,
    check_duplicate_action,
)
