"""The simulated people: what a new case holds, which action a handler takes, who takes it and how long.

``World`` binds one scenario to one process version. It draws each case's
field values once (the facts of the case), offers the actions whose state
matches and whose guard passes with those values, and chooses among them by
the scenario's weights, or its loop-back share, or uniformly.
"""

from __future__ import annotations

import random
from collections import deque
from itertools import islice, product
from typing import Any

from ..calendar import BusinessCalendar
from ..language.spec import Action, Field, FieldType, Process
from ..runtime.decide import source_of
from ..runtime.machine import CompiledProcess
from ..store.base import CaseRecord
from .dist import Dist
from .scenario import Scenario

DEFAULT_NUMBER = Dist("lognormal", 1000.0, 10000.0)


class World:
    def __init__(self, cp: CompiledProcess, scenario: Scenario):
        self.cp, self.spec, self.sc = cp, cp.spec, scenario
        self.warnings: list[str] = []
        inputs_anywhere = {f for a in self.spec.actions.values() for f in a.inputs}
        self.fixed = [f.id for f in self.spec.fields.values() if f.required or f.id not in inputs_anywhere]
        self._fixed = set(self.fixed)
        self.actions_from: dict[str, list[Action]] = {}
        for action in self.spec.actions.values():
            for state in action.sources:
                self.actions_from.setdefault(state, []).append(action)
        self.depth, self.reach = _graph(self.spec, cp)
        self._check_names()
        cal = self.spec.calendar
        self.calendar: BusinessCalendar | None = (
            cp.calendars[cal] if cal and scenario.handling_clock == "business" else None
        )

    # -- case values ------------------------------------------------------------------------
    def draw_values(self, rng: random.Random, arrived: str) -> dict[str, Any]:
        """A new case's facts: required fields and those no action asks for, fixed for its whole life."""
        return {f: self._value(self.spec.fields[f], rng, arrived) for f in self.fixed}

    def _value(self, f: Field, rng: random.Random, arrived: str) -> Any:
        given = self.sc.fields.get(f.id)
        if isinstance(given, str):
            return given == "true" if f.type is FieldType.BOOL else given
        if f.type in (FieldType.ENUM, FieldType.BOOL):
            names = list(given) if isinstance(given, dict) else (list(f.values) or ["true", "false"])
            weights = list(given.values()) if isinstance(given, dict) else None
            pick = rng.choices(names, weights)[0]
            return pick == "true" if f.type is FieldType.BOOL else pick
        if f.type is FieldType.NUMBER:
            x = round((given if isinstance(given, Dist) else DEFAULT_NUMBER).sample(rng), 2)
            return int(x) if x.is_integer() else x
        if f.type is FieldType.DATETIME:
            return arrived
        if f.type is FieldType.CHECKLIST:
            return [item.id for item in f.items]
        return (f.title.zh if f.title else f.id) + "（模拟）"

    # -- actions --------------------------------------------------------------------------------
    def positions(self, case: CaseRecord) -> dict[str, list[Action]]:
        """Actions that could leave each current state (or branch state), guards not yet read."""
        out: dict[str, list[Action]] = {}
        for pos in (case.state, *case.branches.values()):
            for action in self.actions_from.get(pos, ()):
                if source_of(self.cp, case, action) == pos:
                    out.setdefault(pos, []).append(action)
        return out

    def decide(
        self, case: CaseRecord, pos: str, actions: list[Action], rng: random.Random, now: str
    ) -> tuple[Action, dict[str, Any]] | None:
        """The action a handler takes at ``pos`` and its inputs, or None when no guard can pass.

        Inputs not fixed at the start are judged afresh (one draw per decision). With a back and a
        forward way open, ``loop_back`` picks the back one; ``choices`` weights override both.
        """
        judged = dict.fromkeys(f for a in actions for f in a.inputs if f not in self._fixed)
        fresh = {f: self._value(self.spec.fields[f], rng, now) for f in judged}
        draw = {**case.data, **fresh}
        feasible = [a for a in actions if self._passes(a, case, draw) or self._witness(a, case, draw) is not None]
        if not feasible:
            return None
        if any(a.id in self.sc.choices for a in feasible):
            weights = [self.sc.choices.get(a.id, 1.0) for a in feasible]
            group = [rng.choices(feasible, weights)[0]] if sum(weights) > 0 else feasible
        else:
            back = [a for a in feasible if self.is_back(a, pos)]
            group = feasible
            if back and len(back) < len(feasible):
                group = back if rng.random() < self.sc.loop_back else [a for a in feasible if a not in back]
        passing = [a for a in group if self._passes(a, case, draw)] or group
        action = passing[rng.randrange(len(passing))]
        if self._passes(action, case, draw):
            return action, {f: draw[f] for f in action.inputs}
        witness = self._witness(action, case, draw)
        assert witness is not None
        return action, witness

    def still_open(self, case: CaseRecord, action: Action, pos: str, inputs: dict[str, Any]) -> bool:
        guard = self.cp.guards.get(action.id)
        return source_of(self.cp, case, action) == pos and (guard is None or guard({**case.data, **inputs}))

    def _passes(self, action: Action, case: CaseRecord, draw: dict[str, Any]) -> bool:
        guard = self.cp.guards.get(action.id)
        return guard is None or guard({**case.data, **{f: draw[f] for f in action.inputs if f in draw}})

    def _witness(self, action: Action, case: CaseRecord, draw: dict[str, Any]) -> dict[str, Any] | None:
        """Inputs that let the guard pass: the draw with judged enum/bool/number inputs varied."""
        guard = self.cp.guards.get(action.id)
        base = {f: draw[f] for f in action.inputs if f in draw}
        free = [f for f in action.inputs if f not in self._fixed]
        domains = [_domain(self.spec.fields[f], draw.get(f)) for f in free]
        for combo in islice(product(*domains), 512):
            inputs = {**base, **dict(zip(free, combo, strict=False))}
            if guard is None or guard({**case.data, **inputs}):
                return inputs
        return None

    def is_back(self, action: Action, pos: str) -> bool:
        """Leads to a state nearer the start than ``pos`` from which ``pos`` can be reached again."""
        far = len(self.spec.states)
        return (
            action.target != pos
            and self.depth.get(action.target, far) < self.depth.get(pos, far)
            and pos in self.reach[action.target]
        )

    def role(self, action: Action, case: CaseRecord, pos: str) -> str:
        """The holder after any reassignment, else the state's owner, else the action's first role."""
        for role in (case.owner_role, self.spec.states[pos].owner):
            if role in action.roles:
                return role
        return action.roles[0]

    def handling(self, action: Action, pos: str) -> Dist:
        sc = self.sc
        return sc.handling_actions.get(action.id) or sc.handling_states.get(pos) or sc.handling_default

    def after(self, now: int, secs: float) -> int:
        """When work of ``secs`` started at ``now`` is done (counted in working time on a business clock)."""
        if self.calendar is None:
            return now + round(secs)
        return self.calendar.add_working_seconds(now, round(secs)).at

    # -- checks ---------------------------------------------------------------------------------
    def _check_names(self) -> None:
        spec, sc = self.spec, self.sc
        for kind, names, known in (
            ("state", sc.handling_states, spec.states),
            ("action", sc.handling_actions, spec.actions),
            ("action", sc.choices, spec.actions),
            ("field", sc.fields, spec.fields),
        ):
            for name in names:
                if name not in known:
                    self.warnings.append(f"scenario names {kind} {name!r}, which process {spec.id!r} does not have")
        for name, given in sc.fields.items():
            f = spec.fields.get(name)
            if f is not None:
                _check_field(sc, f, given)


def _check_field(sc: Scenario, f: Field, given: Any) -> None:
    path = ("fields", f.id)
    allowed = {FieldType.ENUM: list(f.values), FieldType.BOOL: ["true", "false"]}.get(f.type)
    if isinstance(given, dict):
        if allowed is None:
            raise sc.error(path, f"field {f.id!r} is a {f.type.value}; weights by value fit only enum and bool fields")
        for value in given:
            if value not in allowed:
                raise sc.error(
                    path + (value,), f"{value!r} is not a value of field {f.id!r}", hint=f"values: {', '.join(allowed)}"
                )
        if sum(given.values()) <= 0:
            raise sc.error(path, f"the weights of field {f.id!r} add up to 0")
    elif isinstance(given, Dist) and f.type is not FieldType.NUMBER:
        raise sc.error(path, f"field {f.id!r} is a {f.type.value}; a number distribution fits only number fields")
    elif isinstance(given, str) and f.type is FieldType.NUMBER:
        raise sc.error(path, f"field {f.id!r} is a number; give a number or a distribution")
    elif isinstance(given, str) and allowed is not None and given not in allowed:
        raise sc.error(path, f"{given!r} is not a value of field {f.id!r}", hint=f"values: {', '.join(allowed)}")


def _domain(f: Field, drawn: Any) -> list[Any]:
    """Values worth trying for a judged input: every enum/bool value, numbers across magnitudes."""
    if f.type is FieldType.ENUM:
        return [drawn] + [v for v in f.values if v != drawn]
    if f.type is FieldType.BOOL:
        return [drawn, not drawn]
    if f.type is FieldType.NUMBER:
        return [drawn] + [0, 1, 10, 100, 1000, 3000, 5000, 10000, 50000, 100000, 1000000]
    return [drawn]


def _graph(spec: Process, cp: CompiledProcess) -> tuple[dict[str, int], dict[str, set[str]]]:
    """Fewest moves from the initial state to each state, and the states each one can reach.

    A parallel state leads into its branches' initial states; a branch state leads back to its
    parallel state (whose own actions leave after the join).
    """
    edges: dict[str, set[str]] = {s: set() for s in spec.states}
    for action in spec.actions.values():
        for s in action.sources:
            edges[s].add(action.target)
    for state in spec.states.values():
        edges[state.id].update(cp.branch_initial[b] for b in state.branches)
        for b in state.branches:
            for member in spec.states.values():
                if member.branch == b:
                    edges[member.id].add(state.id)
    depth = {spec.initial_state: 0}
    queue = deque([spec.initial_state])
    while queue:
        s = queue.popleft()
        for t in sorted(edges[s]):
            if t not in depth:
                depth[t] = depth[s] + 1
                queue.append(t)
    reach: dict[str, set[str]] = {}
    for origin in spec.states:
        seen, todo = set(), [origin]
        while todo:
            for t in edges[todo.pop()]:
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
        reach[origin] = seen
    return depth, reach
