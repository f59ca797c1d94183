"""Parallel branches: declared by a parallel state, each with a start and an end, kept apart."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic
from .context import Context, unknown


def _declared(ctx: Context) -> dict[str, str]:
    """Branch id -> the parallel state that declares it."""
    return {b: s.id for s in ctx.process.states.values() for b in s.branches}


def check_undefined_branch(ctx: Context) -> Iterator[Diagnostic]:
    """A state belongs to a branch no parallel state declares."""
    declared = _declared(ctx)
    for state in ctx.process.states.values():
        if state.branch is not None and state.branch not in declared:
            yield ctx.error(("states", state.id, "branch"), *unknown("branch", state.branch, declared))


def check_branch_final(ctx: Context) -> Iterator[Diagnostic]:
    """A branch has no state at all, or no final state, so the parallel state could never finish."""
    for branch, parent in _declared(ctx).items():
        members = [s for s in ctx.process.states.values() if s.branch == branch]
        if not members:
            yield ctx.error(
                ctx.list_path(("states", parent), "branches", branch),
                f"branch {branch!r} has no states",
                f"add states with 'branch: {branch}'",
            )
        elif not any(s.final for s in members):
            yield ctx.error(
                ctx.list_path(("states", parent), "branches", branch),
                f"branch {branch!r} has no final state, so {parent!r} could never finish",
                "mark the branch's last state 'final: true'",
            )


def check_cross_branch_action(ctx: Context) -> Iterator[Diagnostic]:
    """An action jumps between branches, or between a branch and the top level."""
    states = ctx.process.states
    for action in ctx.process.actions.values():
        target = states.get(action.target)
        for source_id in action.sources:
            source = states.get(source_id)
            if source is not None and target is not None and source.branch != target.branch:
                yield ctx.error(
                    ("actions", action.id, "to"),
                    f"action {action.id!r} moves from {_scope(source.branch)} to {_scope(target.branch)}",
                    "actions stay inside one branch; leave the parallel state itself to join",
                )


def _scope(branch: str | None) -> str:
    return "the top level" if branch is None else f"branch {branch!r}"


CHECKS = (check_undefined_branch, check_branch_final, check_cross_branch_action)
