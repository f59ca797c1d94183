"""A process version compiled once and shared by all its cases.

Holds the spec, one ``transitions`` machine (no models registered, so it
never keeps per-case objects), the step table read out of that machine,
parsed guards and compiled calendars. The only home of ``transitions``.

A step is a lookup in ``steps``, the machine's own transition table flattened
to ``(action, state) -> target`` when the process is compiled. Triggering the
machine on a throw-away token gives the same answer (tests check both on every
bundled process) but costs about 11 µs a step in logging and event plumbing
for callbacks the engine does not use; the lookup costs well under 1 µs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transitions import Machine, MachineError

from ..calendar import BusinessCalendar
from ..language.expr import Guard, parse_guard
from ..language.spec import Calendar, Deadline, Process, UnpublishedYear

# Deadlines counted purely on the wall clock still need a timezone for calendar days.
_ALWAYS = Calendar(
    "_wall_clock", None, frozenset(range(7)), ((0, 24 * 60),), "none", frozenset(), frozenset(), UnpublishedYear.WEEKLY
)


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
    steps: dict[tuple[str, str], str] = field(default_factory=dict)  # (action, from state) -> target
    starts_in: dict[str, tuple[Deadline, ...]] = field(default_factory=dict)  # state -> deadlines it starts
    branch_initial: dict[str, str] = field(default_factory=dict)
    pausing: frozenset[str] = frozenset()  # states where clocks stop
    final: frozenset[str] = frozenset()
    deadline_guards: dict[str, Guard] = field(default_factory=dict)  # deadline -> condition arming its clock
    pii: frozenset[str] = frozenset()  # fields whose values are kept beside the chain (runtime/personal.py)

    def move(self, action_id: str, from_state: str) -> str:
        """The state ``action_id`` leads to from ``from_state``; raises ValueError when it cannot be taken there."""
        target = self.steps.get((action_id, from_state))
        if target is None:
            raise ValueError(f"action {action_id!r} cannot be taken in state {from_state!r}")
        return target

    def trigger(self, action_id: str, from_state: str) -> str:
        """The same answer as ``move``, by running the transitions machine on a token (for tests and checks)."""
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
    machine = Machine(
        model=None,
        states=list(spec.states),
        initial=spec.initial_state,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )
    for action in spec.actions.values():
        machine.add_transition(action.id, list(action.sources), action.target)
    starts_in: dict[str, list[Deadline]] = {}
    for deadline in spec.deadlines.values():
        for state in deadline.start:
            starts_in.setdefault(state, []).append(deadline)
    steps = {
        (name, source): transitions[0].dest
        for name, event in machine.events.items()
        for source, transitions in event.transitions.items()
        if transitions[0].dest is not None  # always set: every action names its target
    }
    return CompiledProcess(
        spec=spec,
        machine=machine,
        steps=steps,
        pausing=frozenset(s.id for s in spec.states.values() if s.pause),
        final=frozenset(s.id for s in spec.states.values() if s.final),
        pii=frozenset(f.id for f in spec.fields.values() if f.pii),
        guards={a.id: parse_guard(a.guard) for a in spec.actions.values() if a.guard},
        calendars={cid: BusinessCalendar.compile(cal, spec.timezone) for cid, cal in spec.calendars.items()},
        wall=BusinessCalendar.compile(_ALWAYS, spec.timezone),
        starts_in={k: tuple(v) for k, v in starts_in.items()},
        branch_initial={s.branch: s.id for s in spec.states.values() if s.branch and s.initial},
        deadline_guards={d.id: parse_guard(d.guard) for d in spec.deadlines.values() if d.guard},
    )
