"""Run one process file the way a clumsy operator would: validate it and, when it validates clean,
start a case, try every action offered, and tick at instants up to 100 years ahead.

``exercise`` returns what happened; anything raised that is not a ``ComplaintflowError`` is a finding
(the engine must refuse in words, never crash), as is a clean file that cannot start a case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from complaintflow import Actor, Engine
from complaintflow.errors import ComplaintflowError
from complaintflow.language.check import check_bytes
from complaintflow.language.spec import FieldType, Process

START_AT = 1_767_196_800  # 2026-01-01 00:00 UTC
YEAR = 365 * 24 * 3600


@dataclass
class Outcome:
    clean: bool = False
    started: bool = False
    actions_tried: int = 0
    refusals: list[str] = field(default_factory=list)


def _value(kind: FieldType, values: tuple[str, ...]) -> Any:
    return {
        FieldType.STRING: "张三",
        FieldType.NUMBER: 3000,
        FieldType.ENUM: values[0] if values else "x",
        FieldType.BOOL: True,
        FieldType.DATETIME: "2026-01-01 09:00",
        FieldType.CHECKLIST: [],
    }[kind]


def _record(process: Process) -> dict[str, Any]:
    return {f.id: _value(f.type, f.values) for f in process.fields.values()}


def exercise(raw: bytes, tick_offsets: tuple[int, ...] = (3600, 40 * 24 * 3600, 100 * YEAR), steps: int = 6) -> Outcome:
    """Validate, then run; raises only what the engine should never raise."""
    outcome = Outcome()
    process, _ = check_bytes(raw, "fuzzed.yaml")
    if process is None:
        return outcome
    outcome.clean = True
    engine = Engine(":memory:")
    spec = engine.load_process(raw, "fuzzed.yaml")
    actor = Actor("wang", tuple(spec.roles))
    record = _record(spec)
    case = engine.start(spec, record, actor, at=START_AT)  # a clean file must start a case
    outcome.started = True
    at = START_AT
    for _ in range(steps):  # walk on: each round tries the actions offered until one moves the case
        moved = False
        for action in engine.available_actions(case.id, actor):
            at += 60
            outcome.actions_tried += 1
            try:
                inputs = {k: record[k] for k in action.inputs if k in record}
                moved = engine.act(case.id, action.id, actor, inputs, at=at).state != case.state
            except ComplaintflowError as exc:
                outcome.refusals.append(str(exc))
            case = engine.case(case.id)
            if moved:
                break
        if not moved:
            break
    for offset in tick_offsets:
        try:
            engine.tick(at + offset)
        except ComplaintflowError as exc:
            outcome.refusals.append(str(exc))
    return outcome
