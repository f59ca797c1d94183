"""The one workload every engine runs: start a complaint, then five actions with one re-dispatch loop.

    start                      received
    dispatch            desk   received   -> dispatched
    handle              handler dispatched -> handled      (input: result)
    callback_unsatisfied desk  handled    -> dispatched    (input: satisfied=false; guard)
    handle              handler dispatched -> handled      (input: result)
    callback_satisfied  desk   handled    -> closed        (input: satisfied=true; guard)

Simulated time: every case starts at START_AT and step ``s`` happens at START_AT + 60 s * (s + 1),
so the 3-minute dispatch deadline is met and no timer falls due while actions are measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
PROCESS_YAML = BENCH_DIR / "complaint.yaml"
PROCESS_BPMN = BENCH_DIR / "complaint.bpmn"
BPMN_PROCESS_ID = "bench_complaint"
TIMEZONE = "Asia/Shanghai"

# Monday 2025-11-03 10:00 in Asia/Shanghai (a working day), as epoch seconds.
START_AT = 1762135200

START_DATA: dict[str, Any] = {"customer_name": "张三", "content": "空调维修后仍然漏水，要求上门处理"}

STATES = ("received", "dispatched", "handled", "closed")
INITIAL = "received"


@dataclass(frozen=True)
class Step:
    action: str  # complaintflow action id (also the transitions trigger name)
    role: str  # the role that takes it
    inputs: dict[str, Any] = field(default_factory=dict)
    task: str = ""  # the BPMN user task that stands for it


STEPS: tuple[Step, ...] = (
    Step("dispatch", "desk", {}, "dispatch"),
    Step("handle", "handler", {"result": "已上门维修，更换排水管"}, "handle"),
    Step("callback_unsatisfied", "desk", {"satisfied": False}, "callback"),
    Step("handle", "handler", {"result": "更换室内机，客户确认不再漏水"}, "handle"),
    Step("callback_satisfied", "desk", {"satisfied": True}, "callback"),
)
ACTIONS_PER_CASE = len(STEPS)

# The transitions of the process, for the peers that re-implement it (pytransitions).
TRANSITIONS: tuple[dict[str, Any], ...] = (
    {"trigger": "dispatch", "source": "received", "dest": "dispatched"},
    {"trigger": "handle", "source": "dispatched", "dest": "handled"},
    {"trigger": "callback_unsatisfied", "source": "handled", "dest": "dispatched", "conditions": "is_unsatisfied"},
    {"trigger": "callback_satisfied", "source": "handled", "dest": "closed", "conditions": "is_satisfied"},
)
ROLES_OF = {
    "dispatch": ("desk",),
    "handle": ("handler",),
    "callback_unsatisfied": ("desk",),
    "callback_satisfied": ("desk",),
}


def step_at(step: int) -> int:
    return START_AT + 60 * (step + 1)


def every_role_actor(name: str = "bench") -> Any:
    """One actor holding every role the workload acts in (the PostgreSQL benches act on all steps as one)."""
    from complaintflow import Actor

    return Actor(name, tuple(sorted({role for roles in ROLES_OF.values() for role in roles})))
