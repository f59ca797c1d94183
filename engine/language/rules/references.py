"""Every name a process uses must be declared: states, roles, fields, calendars, chains, actions."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic, Severity
from .context import Context, unknown


def check_undefined_state(ctx: Context) -> Iterator[Diagnostic]:
    """An action or deadline names a state that is not declared.

    ``counts_as`` lines are checked too: a state they name must be declared."""
    states = ctx.process.states
    for action in ctx.process.actions.values():
        base = ("actions", action.id)
        for source in action.sources:
            if source not in states:
                yield ctx.error(ctx.list_path(base, "from", source), *unknown("state", source, states))
        if action.target not in states:
            yield ctx.error(base + ("to",), *unknown("state", action.target, states))
    for deadline in ctx.process.deadlines.values():
        base = ("deadlines", deadline.id)
        for key, names in (("start", deadline.start), ("stop", deadline.stop)):
            for name in names:
                if name not in states:
                    problem = unknown("state", name, states, ctx.process.actions)
                    yield ctx.error(ctx.list_path(base, key, name), *problem)
    for i, rule in enumerate(ctx.process.counts_as):
        for name in rule.states:
            if name not in states:
                problem = unknown("state", name, states, ctx.process.actions)
                yield ctx.error(ctx.list_path(("counts_as", i), "states", name), *problem)


def check_undefined_role(ctx: Context) -> Iterator[Diagnostic]:
    """A state owner, action, deadline, escalation step or field's ``visible_to`` names a role that is not declared."""
    roles = ctx.process.roles
    for field in ctx.process.fields.values():
        for i, role in enumerate(field.visible_to or ()):
            if role not in roles:
                yield ctx.error(("fields", field.id, "visible_to", i), *unknown("role", role, roles))
    for state in ctx.process.states.values():
        if state.owner is not None and state.owner not in roles:
            yield ctx.error(("states", state.id, "owner"), *unknown("role", state.owner, roles))
    for action in ctx.process.actions.values():
        for i, role in enumerate(action.roles):
            if role not in roles:
                yield ctx.error(("actions", action.id, "roles", i), *unknown("role", role, roles))
    for deadline in ctx.process.deadlines.values():
        if deadline.role is not None and deadline.role not in roles:
            yield ctx.error(("deadlines", deadline.id, "role"), *unknown("role", deadline.role, roles))
        for i, role in enumerate(deadline.extend_by):
            if role not in roles:
                yield ctx.error(("deadlines", deadline.id, "extend_by", i), *unknown("role", role, roles))
    for chain in ctx.process.escalations.values():
        for i, step in enumerate(chain.steps):
            if step.role not in roles:
                yield ctx.error(("escalations", chain.id, "steps", i, "role"), *unknown("role", step.role, roles))


def check_undefined_field(ctx: Context) -> Iterator[Diagnostic]:
    """An action requires an input that is not a declared field."""
    fields = ctx.process.fields
    for action in ctx.process.actions.values():
        for i, name in enumerate(action.inputs):
            if name not in fields:
                yield ctx.error(("actions", action.id, "inputs", i), *unknown("field", name, fields))


def check_undefined_calendar(ctx: Context) -> Iterator[Diagnostic]:
    """The process, a deadline or a calendar's ``extends`` names a calendar that is not declared."""
    calendars = ctx.process.calendars
    if ctx.process.calendar is not None and ctx.process.calendar not in calendars:
        yield ctx.error(("calendar",), *unknown("calendar", ctx.process.calendar, calendars))
    for deadline in ctx.process.deadlines.values():
        if deadline.calendar is not None and deadline.calendar not in calendars:
            yield ctx.error(
                ("deadlines", deadline.id, "calendar"),
                *unknown("calendar", deadline.calendar, calendars),
            )
    for calendar in calendars.values():
        if calendar.extends is not None and calendar.extends not in calendars:
            yield ctx.error(
                ("calendars", calendar.id, "extends"),
                *unknown("calendar", calendar.extends, calendars),
            )


def check_undefined_escalation(ctx: Context) -> Iterator[Diagnostic]:
    """A deadline names an escalation chain that is not declared."""
    chains = ctx.process.escalations
    for deadline in ctx.process.deadlines.values():
        if deadline.escalation is not None and deadline.escalation not in chains:
            yield ctx.error(
                ("deadlines", deadline.id, "escalation"),
                *unknown("escalation", deadline.escalation, chains),
            )


def check_undefined_action(ctx: Context) -> Iterator[Diagnostic]:
    """A repeating deadline's ``reset_by`` names an action that is not declared."""
    actions = ctx.process.actions
    for deadline in ctx.process.deadlines.values():
        for i, name in enumerate(deadline.reset_by):
            if name not in actions:
                yield ctx.error(("deadlines", deadline.id, "reset_by", i), *unknown("action", name, actions))


def check_unused_role(ctx: Context) -> Iterator[Diagnostic]:
    """A declared role takes no action, owns no state, sees no personal field by name and is named by no
    deadline or escalation step."""
    p = ctx.process
    used = {r for a in p.actions.values() for r in a.roles} | {s.owner for s in p.states.values()}
    used |= {d.role for d in p.deadlines.values()} | {s.role for e in p.escalations.values() for s in e.steps}
    used |= {r for d in p.deadlines.values() for r in d.extend_by}
    used |= {r for f in p.fields.values() for r in f.visible_to or ()}
    for role in p.roles:
        if role not in used:
            yield ctx.at_key(
                ("roles", role),
                f"role {role!r} is declared but never used",
                "give it an action, a state to own or an escalation step, or remove it",
                severity=Severity.WARNING,
            )


CHECKS = (
    check_undefined_state,
    check_undefined_role,
    check_undefined_field,
    check_undefined_calendar,
    check_undefined_escalation,
    check_undefined_action,
    check_unused_role,
)
