"""The demo: one scripted working day of complaints through every bundled process.

A simulated clock starts on Monday 2025-09-29 09:00 (the day before China's
National Day break, so working-day deadlines visibly jump over it). Each
process gets a case; staff take the first sensible action open to them after
a scripted delay, some quick and some slow, so the timeline shows deadlines
met, deadlines breached and escalation chains climbing level by level. After
the day ends the clock jumps ahead to show what falls due over the holiday.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .calendar import format_local, parse_local
from .language.spec import Field, FieldType, Process
from .report.timeline import describe_event
from .runtime.engine import Actor, Engine
from .runtime.errors import RefusedError

DAY_START = "2025-09-29 09:00"
DAY_END = "2025-09-29 18:00"
AFTER_HOLIDAY = "2025-10-10 18:00"
DELAYS_MIN = (2, 25, 4, 70, 3, 150, 8, 40)  # minutes staff take for successive steps, cycling
MAX_STEPS = 12
PEOPLE = ("王芳", "李强", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴婷", "徐明", "孙丽")


@dataclass
class DemoStats:
    cases: int = 0
    actions: int = 0
    met_on_time: int = 0
    met_late: int = 0
    breaches: int = 0
    escalations: int = 0
    deepest_step: int = 0
    closed: int = 0
    per_kind: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, payload: dict[str, Any]) -> None:
        self.per_kind[kind] = self.per_kind.get(kind, 0) + 1
        if kind == "deadline_met":
            if payload["on_time"]:
                self.met_on_time += 1
            else:
                self.met_late += 1
        elif kind == "deadline_breached":
            self.breaches += 1
        elif kind == "escalated":
            self.escalations += 1
            self.deepest_step = max(self.deepest_step, payload["step"])


_SURNAMES = "张李王赵刘陈杨黄周吴徐孙"


def sample_value(f: Field, case_no: int, serial: int | None = None) -> Any:
    """Plausible, fake record values; personal data is obviously made up, and differs by ``serial`` (the
    case's number in the run) so that erasing one case's values is seen in the store (docs/privacy.md)."""
    if f.type is FieldType.ENUM:
        return f.values[case_no % len(f.values)]
    if f.type is FieldType.NUMBER:
        return 5000
    if f.type is FieldType.BOOL:
        return case_no % 2 == 0
    if f.type is FieldType.DATETIME:
        return DAY_START
    if f.pii:
        n = case_no if serial is None else serial
        if "name" in f.id:
            return _SURNAMES[n % len(_SURNAMES)] + ("先生" if n % 2 == 0 else "女士")
        if any(w in f.id for w in ("phone", "tel", "mobile", "contact")):
            return f"138-0000-{1000 + n:04d}"
        return f"示例路 {n + 1} 号"
    return (f.title.zh if f.title else f.id) + "（示例）"


def _actor_for(spec: Process, role: str) -> Actor:
    return Actor(PEOPLE[list(spec.roles).index(role) % len(PEOPLE)], (role,))


def run_demo(engine: Engine, process_files: list[Path], stats: DemoStats) -> Iterator[str]:
    """Yield timeline lines as the simulated day unfolds."""
    specs = [engine.load_process(path) for path in process_files]
    tz = specs[0].timezone if specs else "Asia/Shanghai"
    t0, day_end = parse_local(DAY_START, tz), parse_local(DAY_END, tz)
    agenda: list[tuple[int, int, str]] = []  # (when, order, case id or "" to open the order-th case)
    by_case: dict[str, Process] = {}
    taken: dict[str, set[str]] = {}
    steps: dict[str, int] = {}
    for n in range(len(specs)):
        heapq.heappush(agenda, (t0 + n * 10 * 60, n, ""))
    while agenda:
        at, order, case_id = heapq.heappop(agenda)
        if at > day_end:
            break
        yield from _tick(engine, at, by_case, stats)
        if not case_id:
            spec = specs[order]
            data = {f.id: sample_value(f, order, stats.cases) for f in spec.fields.values()}
            opener = _actor_for(spec, spec.states[spec.initial_state].owner or next(iter(spec.roles)))
            case = engine.start(spec, data, opener, at=at)
            by_case[case.id], taken[case.id], steps[case.id] = spec, set(), 0
            stats.cases += 1
            yield from _lines(engine, engine.history(case.id), spec, stats)
            heapq.heappush(agenda, (at + DELAYS_MIN[order % len(DELAYS_MIN)] * 60, order, case.id))
            continue
        spec = by_case[case_id]
        moved = _take_next_action(engine, spec, case_id, at, taken[case_id], stats)
        if moved is None:
            continue
        yield from _lines(engine, moved, spec, stats)
        steps[case_id] += 1
        if engine.case(case_id).closed_at is None and steps[case_id] < MAX_STEPS:
            delay = DELAYS_MIN[(order + steps[case_id]) % len(DELAYS_MIN)]
            heapq.heappush(agenda, (at + delay * 60, order, case_id))
    yield f"--- {format_local(day_end, tz)}: the working day ends; the clock jumps to {AFTER_HOLIDAY} ---"
    yield from _tick(engine, day_end, by_case, stats)
    yield from _tick(engine, parse_local(AFTER_HOLIDAY, tz), by_case, stats)
    stats.closed = sum(engine.case(cid).closed_at is not None for cid in by_case)


def _input_value(f: Field, case: Any, case_no: int, stats: DemoStats) -> Any:
    """An action's input: a personal value the case holds is given again; a new one is unique in the run."""
    if f.pii:
        held = case.data.get(f.id)
        return held if held is not None else sample_value(f, case_no, 100 + stats.actions)
    return sample_value(f, case_no)


def _take_next_action(
    engine: Engine, spec: Process, case_id: str, at: int, taken: set[str], stats: DemoStats
) -> list[Any] | None:
    everyone = Actor("demo", tuple(spec.roles))
    options = engine.available_actions(case_id, everyone)
    # Prefer moving on: an action not taken yet, and one that leaves the current state.
    case = engine.case(case_id)
    options.sort(key=lambda a: (a.id in taken, a.target == case.state))
    for action in options:
        actor = _actor_for(spec, action.roles[0])
        inputs = {name: _input_value(spec.fields[name], case, len(taken), stats) for name in action.inputs}
        before = case.last_seq
        try:
            engine.act(case_id, action.id, actor, inputs, at=at)
        except RefusedError:
            continue  # its guard reads an input we guessed wrong; try the next action
        taken.add(action.id)
        stats.actions += 1
        return [e for e in engine.history(case_id) if e.seq > before]
    return None


def _tick(engine: Engine, at: int, by_case: dict[str, Process], stats: DemoStats) -> Iterator[str]:
    for event in engine.tick(at):
        stats.count(event.kind, event.payload)
        yield describe_event(engine, event, by_case.get(event.case_id))


def _lines(engine: Engine, events: list[Any], spec: Process, stats: DemoStats) -> Iterator[str]:
    for event in events:
        stats.count(event.kind, event.payload)
        yield describe_event(engine, event, spec)
