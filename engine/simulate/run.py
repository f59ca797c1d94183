"""Run a scenario against one process version on simulated time.

Cases open at their arrival instants; each open state (or branch state) gets
one task: the handler picks an action, works for a handling time and then
takes it. Tasks and arrivals sit in one heap ordered by time (ties by push
order), and ``Engine.tick`` runs before each instant, so warnings, breaches
and escalation steps fire in time order on ``Engine(MemoryStore())``. All
randomness comes from ``random.Random(seed)``: one draw per case seeds that
case's own generator, so two versions of a process see the same cases.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..calendar import format_local
from ..runtime.engine import Actor, Engine
from ..runtime.errors import RefusedError
from ..store.memory import MemoryStore
from .arrivals import arrival_times
from .compare import Comparison, compare
from .scenario import Scenario
from .stats import SimulationResult, collect
from .world import World

Progress = Callable[[int, int], None]


@dataclass
class SimCase:
    no: int
    id: str
    rng: random.Random
    steps: int = 0
    outcome: str = ""  # "" while running, then "closed" | "capped" | "stuck"
    # position -> (token of its scheduled task, chosen action, its inputs)
    pending: dict[str, tuple[int, str, dict[str, Any]]] = field(default_factory=dict)


class _Run:
    def __init__(self, process_path: Path, scenario: Scenario, seed: int):
        self.serial = 0
        self.engine = Engine(MemoryStore(keep_outbox=False), new_case_id=self._next_id)
        self.spec = self.engine.load_process(Path(process_path))
        self.world = World(self.engine.compiled(self.spec.content_hash), scenario)
        self.scenario, self.master = scenario, random.Random(seed)
        self.heap: list[tuple[int, int, int, str, int]] = []  # at, order, case no, position ("" = arrival), token
        self.cases: dict[int, SimCase] = {}
        self.order = 0
        self.finished = 0
        self.refused: list[str] = []

    def _next_id(self) -> str:
        self.serial += 1
        return f"sim{self.serial:06d}"

    def push(self, at: int, no: int, pos: str = "", token: int = 0) -> None:
        self.order += 1
        heapq.heappush(self.heap, (at, self.order, no, pos, token))

    def run(self, cases: int, progress: Progress | None) -> tuple[int, int, list[str]]:
        arrivals, warnings = arrival_times(self.scenario, self.spec.timezone, cases, self.master)
        for no, at in enumerate(arrivals):
            self.push(at, no)
        total = len(arrivals)  # the cases asked for, unless the arrival rates could not supply them
        step = max(1, total // 100)
        reported, ticked, now = 0, -1, arrivals[0] if arrivals else 0
        while self.heap:
            now, _, no, pos, token = heapq.heappop(self.heap)
            if now != ticked:
                self.engine.tick(now)
                ticked = now
            if not pos:
                self._open(no, now)
            else:
                self._work(self.cases[no], pos, token, now)
            if progress and self.finished - reported >= step:
                reported = self.finished
                progress(reported, total)
        if progress:
            progress(self.finished, total)
        return (arrivals[0] if arrivals else now), now, warnings

    def _open(self, no: int, at: int) -> None:
        sim = SimCase(no, "", random.Random(self.master.getrandbits(64)))
        facts = self.world.draw_values(sim.rng, self._local(at))
        initial = self.spec.states[self.spec.initial_state]
        role = initial.owner or next(iter(self.spec.roles))
        sim.id = self.engine.start(self.spec, facts, Actor(role, (role,)), at=at).id
        self.cases[no] = sim
        self._plan(sim, at)

    def _local(self, at: int) -> str:
        return format_local(at - at % 60, self.spec.timezone)

    def _work(self, sim: SimCase, pos: str, token: int, at: int) -> None:
        if sim.outcome or sim.pending.get(pos, (0,))[0] != token:
            return  # the case moved on since this task was planned
        _, chosen, inputs = sim.pending.pop(pos)
        case = self.engine.case(sim.id)
        action = self.spec.actions[chosen]
        if not self.world.still_open(case, action, pos, inputs):  # e.g. another branch changed the facts
            decided = self.world.decide(case, pos, self.world.positions(case).get(pos, []), sim.rng, self._local(at))
            action, inputs = decided if decided else (action, inputs)
        role = self.world.role(action, case, pos)
        sim.steps += 1  # a refused step counts too, so the step cap always ends a case
        try:
            self.engine.act(sim.id, action.id, Actor(role, (role,)), inputs, at=at)
        except RefusedError as exc:
            self.refused.append(f"case {sim.id}: {exc}")
        self._plan(sim, at)

    def _plan(self, sim: SimCase, now: int) -> None:
        """Give each open position of the case a task, or record how the case ended."""
        case = self.engine.case(sim.id)
        options = {} if case.closed_at is not None else self.world.positions(case)
        sim.pending = {p: t for p, t in sim.pending.items() if p in options}
        if case.closed_at is not None or sim.steps >= self.scenario.max_steps:
            self._finish(sim, "closed" if case.closed_at is not None else "capped")
            return
        for pos, actions in options.items():
            if pos in sim.pending:
                continue
            decided = self.world.decide(case, pos, actions, sim.rng, self._local(now))
            if decided is None:
                continue
            action, inputs = decided
            when = self.world.after(now, self.world.handling(action, pos).sample(sim.rng))
            token = self.order + 1  # the order push() gives this task
            sim.pending[pos] = (token, action.id, inputs)
            self.push(when, sim.no, pos, token)
        if not sim.pending:
            self._finish(sim, "stuck")

    def _finish(self, sim: SimCase, outcome: str) -> None:
        sim.outcome, sim.pending = outcome, {}
        self.finished += 1


def simulate(
    process_path: Path, scenario: Scenario, cases: int, seed: int, progress: Progress | None = None
) -> SimulationResult:
    """Run ``cases`` simulated complaints through the process file; same seed, same result."""
    if cases < 1:
        raise ValueError("cases must be at least 1")
    run = _Run(process_path, scenario, seed)
    first, last, warnings = run.run(cases, progress)
    outcomes = {c.id: c.outcome for c in run.cases.values()}
    return collect(
        run.engine,
        run.spec,
        scenario,
        outcomes,
        seed=seed,
        start=first,
        end=last,
        process_file=Path(process_path).name,
        warnings=run.world.warnings + warnings + _refusals(run.refused),
    )


def _refusals(refused: list[str]) -> list[str]:
    if not refused:
        return []
    return [f"the engine refused {len(refused)} simulated action(s); the first: {refused[0]}"]


def simulate_compare(
    old_path: Path, new_path: Path, scenario: Scenario, cases: int, seed: int, progress: Progress | None = None
) -> Comparison:
    """The same scenario and seed against two versions of a process; progress runs 0..2*cases."""

    def second(done: int, total: int) -> None:
        if progress:
            progress(total + done, 2 * total)

    old = simulate(old_path, scenario, cases, seed, (lambda d, t: progress(d, 2 * t)) if progress else None)
    return compare(old, simulate(new_path, scenario, cases, seed, second if progress else None))
