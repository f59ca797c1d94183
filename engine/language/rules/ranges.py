"""Values the schema lets through but the runtime could not use: each refused at validate, so a file
that validates clean also runs.

A duration or budget may reach at most ``MAX_YEARS`` years (10) ahead, counted on its calendar from
a fixed reference day, so ``50000wh`` on an office calendar (about 27 years of working hours) is
refused here instead of on the first action; ``99999999999999999999m`` would overflow the store's
64-bit integers. A version must fit SQLite's INTEGER.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..diagnostics import Diagnostic
from ..spec import Duration
from .context import Context

MAX_YEARS = 10
_MAX_SECONDS = MAX_YEARS * 366 * 24 * 3600
_WALL_SECONDS = {"m": 60, "h": 3600, "d": 24 * 3600}
_REFERENCE = "2026-01-01 00:00"  # where business durations are counted from (any day gives about the same)
# Versions go into hashed event payloads, whose whole numbers RFC 8785 bounds to +-(2^53 - 1) (and
# SQLite's INTEGER holds them too).
MAX_VERSION = 2**53 - 1


def _durations(ctx: Context) -> Iterator[tuple[tuple[Any, ...], Duration, str | None]]:
    """Every duration in the process, with its path and the calendar it is counted on."""
    process = ctx.process
    for deadline in process.deadlines.values():
        base = ("deadlines", deadline.id)
        calendar = deadline.calendar or process.calendar
        if deadline.due.within is not None:
            yield base + ("within",), deadline.due.within, calendar
        if deadline.due.every is not None and deadline.due.every.interval is not None:
            yield base + ("every",), deadline.due.every.interval, calendar
        if deadline.warn_before is not None:
            yield base + ("warn_before",), deadline.warn_before, calendar
    for chain in process.escalations.values():
        for i, step in enumerate(chain.steps):
            if step.within is not None:
                yield ("escalations", chain.id, "steps", i, "within"), step.within, process.calendar


def _reach_seconds(ctx: Context, duration: Duration, calendar_id: str | None) -> int | None:
    """How far ahead ``duration`` reaches from the reference day, in seconds; None when it cannot be
    counted (no calendar applies, or a broken one: other rules report those)."""
    if duration.unit in _WALL_SECONDS:
        return duration.amount * _WALL_SECONDS[duration.unit]
    calendar = ctx.process.calendars.get(calendar_id) if calendar_id else None
    if calendar is None:
        return None
    # Counting working time can only take longer than its wall-clock equal: refuse the hopeless cheaply.
    if duration.amount * (3600 if duration.unit == "wh" else 24 * 3600) > _MAX_SECONDS:
        return _MAX_SECONDS + 1
    from ...calendar import BusinessCalendar, CalendarError, parse_local  # the calendar stack, only when needed

    try:
        start = parse_local(_REFERENCE, ctx.process.timezone)
        due = BusinessCalendar.compile(calendar, ctx.process.timezone).add(start, duration)
    except CalendarError as exc:  # no working time within the search horizon, or data the policy refuses
        return _MAX_SECONDS + 1 if "within" in str(exc) else None
    except (ValueError, OverflowError):
        return None
    return due.at - start


def check_duration_too_long(ctx: Context) -> Iterator[Diagnostic]:
    """A duration or budget reaches more than 10 years ahead on its calendar (or never ends)."""
    for path, duration, calendar_id in _durations(ctx):
        reach = _reach_seconds(ctx, duration, calendar_id)
        if reach is not None and reach > _MAX_SECONDS:
            on = f" on calendar {calendar_id!r}" if duration.unit in ("wd", "wh") else ""
            yield ctx.error(
                path,
                f"{duration} reaches more than {MAX_YEARS} years ahead{on}",
                "a complaint deadline is minutes to months; is a unit or a digit wrong?",
            )


def check_version_out_of_range(ctx: Context) -> Iterator[Diagnostic]:
    """The version is larger than a hashed history can hold (RFC 8785: whole numbers up to 2^53 - 1)."""
    if isinstance(ctx.process.version, int) and ctx.process.version > MAX_VERSION:
        yield ctx.error(("version",), f"version {ctx.process.version} is too large", "count versions 1, 2, 3...")


CHECKS = (check_duration_too_long, check_version_out_of_range)
