"""Deadlines, calendars and escalation chains that cannot work as written."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic, Severity, did_you_mean
from ..durations import approx_minutes
from ..spec import Deadline, FieldType
from .context import Context

_BUSINESS_UNITS = ("wd", "wh")


def needs_calendar(deadline: Deadline) -> bool:
    """True when the deadline counts working time or falls at a clock time on working days."""
    due = deadline.due
    if due.immediate or due.at is not None:
        return False
    if due.within is not None:
        return due.within.unit in _BUSINESS_UNITS
    if due.every is not None and due.every.interval is not None:
        return due.every.interval.unit in _BUSINESS_UNITS
    return True  # by, end of day and clock schedules fall on working days


def check_deadline_on_final(ctx: Context) -> Iterator[Diagnostic]:
    """A deadline starts in a final state, where nothing can happen any more."""
    for deadline in ctx.process.deadlines.values():
        for name in deadline.start:
            state = ctx.process.states.get(name)
            if state is not None and state.final:
                yield ctx.error(
                    ctx.list_path(("deadlines", deadline.id), "start", name),
                    f"deadline {deadline.id!r} starts in final state {name!r}; it could never be met",
                    "start it in the state where the work is done",
                )


def check_missing_calendar(ctx: Context) -> Iterator[Diagnostic]:
    """A deadline counts working time but neither it nor the process names a calendar."""
    for deadline in ctx.process.deadlines.values():
        if needs_calendar(deadline) and deadline.calendar is None and ctx.process.calendar is None:
            yield ctx.at_key(
                ("deadlines", deadline.id),
                f"deadline {deadline.id!r} counts working time but no calendar applies",
                "set 'calendar:' at the top of the file or on the deadline",
            )


def check_calendar_no_working_time(ctx: Context) -> Iterator[Diagnostic]:
    """A calendar has no working day or no working hours, so no business deadline could ever fall."""
    for calendar in ctx.process.calendars.values():
        if not calendar.weekdays and not calendar.workdays:
            yield ctx.at_key(
                ("calendars", calendar.id),
                f"calendar {calendar.id!r} has no working days",
                "list weekdays such as [mon, tue, wed, thu, fri]",
            )
        elif not calendar.hours:
            yield ctx.at_key(
                ("calendars", calendar.id),
                f"calendar {calendar.id!r} has no working hours",
                'give hours such as ["09:00-18:00"]',
            )


def check_calendar_overlapping_hours(ctx: Context) -> Iterator[Diagnostic]:
    """Two working spans of a calendar overlap, so some time would count twice."""
    for calendar in ctx.process.calendars.values():
        for (start_a, end_a), (start_b, _) in zip(calendar.hours, calendar.hours[1:], strict=False):
            if start_b < end_a:
                yield ctx.error(
                    ("calendars", calendar.id, "hours"),
                    f"working spans of calendar {calendar.id!r} overlap "
                    f"({start_a // 60:02d}:{start_a % 60:02d}-{end_a // 60:02d}:{end_a % 60:02d} "
                    f"and one starting {start_b // 60:02d}:{start_b % 60:02d})",
                )


def check_calendar_without_holidays(ctx: Context) -> Iterator[Diagnostic]:
    """Working days are counted on a calendar that ignores China's statutory holidays."""
    for deadline in ctx.process.deadlines.values():
        within = deadline.due.within
        calendar = ctx.process.calendars.get(deadline.calendar or ctx.process.calendar or "")
        if within is not None and within.unit == "wd" and calendar is not None and calendar.statutory == "none":
            yield ctx.warning(
                ("deadlines", deadline.id, "within"),
                f"{within} counted on calendar {calendar.id!r}, which ignores statutory holidays "
                "and 调休 make-up workdays",
                "set 'statutory: china' on the calendar",
            )


def check_warn_before_too_long(ctx: Context) -> Iterator[Diagnostic]:
    """A warning would come before the deadline's clock even starts."""
    for deadline in ctx.process.deadlines.values():
        warn, within = deadline.warn_before, deadline.due.within
        if warn is not None and within is not None and approx_minutes(warn) >= approx_minutes(within):
            yield ctx.error(
                ("deadlines", deadline.id, "warn_before"),
                f"warning {warn} before a deadline of {within} would fire at once",
                "make warn_before shorter than the deadline",
            )


def check_deadline_setting(ctx: Context) -> Iterator[Diagnostic]:
    """A deadline's settings contradict each other or name a field that cannot give a time."""
    fields = ctx.process.fields
    for d in ctx.process.deadlines.values():
        path = ("deadlines", d.id)
        if d.due.immediate and (d.warn_before or d.warn_at):
            key = "warn_before" if d.warn_before else "warn_at"
            yield ctx.error(
                path + (key,),
                f"deadline {d.id!r} is due immediately, so it has no time to warn in",
                f"remove {key}, or give the deadline a budget such as within: 30m",
            )
        if d.reminder and d.escalation:
            yield ctx.error(
                path + ("escalation",),
                f"deadline {d.id!r} is a reminder, which never breaches, so escalation {d.escalation!r} never starts",
                "remove reminder: true to make it a deadline, or remove the escalation",
            )
        chain = ctx.process.escalations.get(d.escalation or "")
        no_calendar = d.calendar is None and ctx.process.calendar is None
        for i, step in enumerate(chain.steps if chain is not None and no_calendar else ()):
            if chain is not None and step.deliver == "business_hours":
                yield ctx.error(
                    ("escalations", chain.id, "steps", i, "deliver"),
                    f"step {i + 1} of escalation {chain.id!r} waits for business hours, but deadline {d.id!r} "
                    "that starts it has no calendar",
                    "set 'calendar:' at the top of the file or on the deadline",
                )
        if d.due.at is not None:
            field = fields.get(d.due.at.field)
            if field is None:
                hint = did_you_mean(d.due.at.field, fields)
                yield ctx.error(path + ("at",), f"deadline {d.id!r} reads undeclared field {d.due.at.field!r}", hint)
            elif field.type is not FieldType.DATETIME:
                yield ctx.error(
                    path + ("at",),
                    f"deadline {d.id!r} reads field {field.id!r}, which is {field.type.value}, not a datetime",
                    "name a field of type: datetime",
                )


def check_escalation_cycle(ctx: Context) -> Iterator[Diagnostic]:
    """A chain comes back to a role it already passed, so it would go round in circles."""
    for chain in ctx.process.escalations.values():
        first_step: dict[str, int] = {}
        for i, step in enumerate(chain.steps):
            if step.role in first_step:
                yield ctx.error(
                    ("escalations", chain.id, "steps", i, "role"),
                    f"escalation {chain.id!r} returns to role {step.role!r} (already step {first_step[step.role] + 1})",
                    "each step should go one level higher",
                )
            first_step.setdefault(step.role, i)


def check_escalation_step_within(ctx: Context) -> Iterator[Diagnostic]:
    """A step before the last has no ``within``, so the steps after it could never start."""
    for chain in ctx.process.escalations.values():
        for i, step in enumerate(chain.steps[:-1]):
            if step.within is None:
                yield ctx.error(
                    ("escalations", chain.id, "steps", i),
                    f"step {i + 1} of escalation {chain.id!r} has no 'within', so step {i + 2} never starts",
                    "give the step its own deadline, e.g. within: 15m",
                )


def check_unused_escalation(ctx: Context) -> Iterator[Diagnostic]:
    """An escalation chain no deadline uses."""
    used = {d.escalation for d in ctx.process.deadlines.values()}
    for chain in ctx.process.escalations.values():
        if chain.id not in used:
            yield ctx.at_key(
                ("escalations", chain.id),
                f"no deadline starts escalation {chain.id!r}",
                "name it in a deadline's 'escalation:'",
                severity=Severity.WARNING,
            )


CHECKS = (
    check_deadline_on_final,
    check_missing_calendar,
    check_calendar_no_working_time,
    check_calendar_overlapping_hours,
    check_calendar_without_holidays,
    check_warn_before_too_long,
    check_deadline_setting,
    check_escalation_cycle,
    check_escalation_step_within,
    check_unused_escalation,
)
