"""Guards must parse and read only declared fields with values they can have."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic, Severity
from ..expr import GuardError, check_guard, parse_guard
from .context import Context


def _guards(ctx: Context) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every guard expression with its path: actions' and deadlines' guards and the ``when`` of ``counts_as``
    lines."""
    for action in ctx.process.actions.values():
        if action.guard is not None:
            yield ("actions", action.id, "guard"), action.guard
    for deadline in ctx.process.deadlines.values():
        if deadline.guard is not None:
            yield ("deadlines", deadline.id, "guard"), deadline.guard
    for i, rule in enumerate(ctx.process.counts_as):
        if rule.when is not None:
            yield ("counts_as", i, "when"), rule.when


def _at_column(ctx: Context, path: tuple[str | int, ...], error: GuardError) -> Diagnostic:
    """Point into the expression itself when it sits on the line where its value starts."""
    line, col = ctx.doc.at(path)
    quoted = ctx.doc.char_at(line, col) in ("'", '"')
    raw = ctx.raw(path)
    if isinstance(raw, str) and "\n" not in raw:
        col += error.col - 1 + (1 if quoted else 0)
    return Diagnostic(ctx.doc.file, line, col, Severity.ERROR, error.message, ctx.rule, path, error.hint)


def check_guard_syntax(ctx: Context) -> Iterator[Diagnostic]:
    """A guard is not a valid expression of the guard language."""
    for path, text in _guards(ctx):
        try:
            parse_guard(text)
        except GuardError as error:
            yield _at_column(ctx, path, error)


def check_guard_field(ctx: Context) -> Iterator[Diagnostic]:
    """A guard reads a field that is not declared, or compares an enum field with a value it cannot have."""
    for path, text in _guards(ctx):
        try:
            guard = parse_guard(text)
        except GuardError:
            continue
        for error in check_guard(guard, ctx.process.fields):
            yield _at_column(ctx, path, error)


CHECKS = (check_guard_syntax, check_guard_field)
