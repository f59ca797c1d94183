"""A process version compiled once and shared by all its cases.

Holds the spec, one ``transitions`` machine (no models registered: each step
drives a throw-away token, so the machine never keeps per-case objects),
parsed guards and compiled calendars. The only home of ``transitions``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from transitions import Machine, MachineError

from ..calendar import BusinessCalendar
from ..language.expr import Guard, parse_guard
from ..language.spec import Calendar, Deadline, Process, UnpublishedYear

# Deadlines counted purely on the wall clock still need a timezone for calendar days.
_ALWAYS = Calendar("_wall_clock", None, frozenset(range(7)), ((0, 24 * 60),), "none", frozenset(), frozenset(),
                   UnpublishedYear.WEEKLY)


class _Token:
    """What transitions moves: a bare holder of one state name."""

    __slots__ = ("state",)

    def __init__(self, state: str):
        self.state = state


@dataclass
class CompiledProcess:
    spec: Process
    machine: Machine
    guards: dict[str, Guard]
    calendars: dict[str, BusinessCalendar]
    wall: BusinessCalendar
    starts_in: dict[str, tuple[Deadline, ...]] = field(default_factory=dict)  # state -> deadlines it starts
    branch_initial: dict[str, str] = field(default_factory=dict)

    def move(self, action_id: str, from_state: str) -> str:
        """The state ``action_id`` leads to from ``from_state``; raises ValueError when it cannot be taken there."""
        token = _Token(from_state)
        try:
            self.machine.events[action_id].trigger(token)
        except MachineError:
            raise ValueError(f"action {action_id!r} cannot be taken in state {from_state!r}") from None
        return token.state

    def calendar_for(self, deadline: Deadline) -> BusinessCalendar:
        name = deadline.calendar or self.spec.calendar
        return self.calendars[name] if name else self.wall


def compile_process(spec: Process) -> CompiledProcess:
    machine = Machine(model=None, states=list(spec.states), initial=spec.initial_state, auto_transitions=False,
                      send_event=True, ignore_invalid_triggers=False)
    for action in spec.actions.values():
        machine.add_transition(action.id, list(action.sources), action.target)
    starts_in: dict[str, list[Deadline]] = {}
    for deadline in spec.deadlines.values():
        for state in deadline.start:
            starts_in.setdefault(state, []).append(deadline)
    return CompiledProcess(
        spec=spec, machine=machine,
        guards={a.id: parse_guard(a.guard) for a in spec.actions.values() if a.guard},
        calendars={cid: BusinessCalendar.compile(cal, spec.timezone) for cid, cal in spec.calendars.items()},
        wall=BusinessCalendar.compile(_ALWAYS, spec.timezone),
        starts_in={k: tuple(v) for k, v in starts_in.items()},
        branch_initial={s.branch: s.id for s in spec.states.values() if s.branch and s.initial},
    )

