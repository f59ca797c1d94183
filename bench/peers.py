"""Every engine that runs the workload, behind one small interface.

A peer starts case number ``n`` and takes step ``s`` (an index into workload.STEPS) on it. The
harness times whole phases (all starts, then each step over all cases), so the per-call overhead
of the interface is the same tiny constant for every peer. ``finish`` checks afterwards that every
case really ended closed, so no peer can look fast by doing nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import workload as w


class Peer:
    key = ""  # short id used in the JSON output
    label = ""  # what the table prints
    durability = ""  # for the durable peers: the SQLite synchronous setting

    def start(self, n: int) -> None:
        raise NotImplementedError

    def act(self, n: int, s: int) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Check every case ended closed, then release resources."""


# -- complaintflow ------------------------------------------------------------------------------


class ComplaintflowPeer(Peer):
    """The real engine: Engine(store).start / .act, with roles, guards, deadlines, hash chain, outbox."""

    def __init__(self, key: str, label: str, make_store: Callable[[], Any], durability: str = ""):
        from complaintflow import Actor, Engine

        self.key, self.label, self.durability = key, label, durability
        self.engine = Engine(make_store())
        self.spec = self.engine.load_process(w.PROCESS_YAML)
        self.actors = {"desk": Actor("wang", ("desk",)), "handler": Actor("li", ("handler",))}
        self.ids: list[str] = []

    def start(self, n: int) -> None:
        self.ids.append(self.engine.start(self.spec, w.START_DATA, self.actors["desk"], at=w.START_AT).id)

    def act(self, n: int, s: int) -> None:
        step = w.STEPS[s]
        self.engine.act(self.ids[n], step.action, self.actors[step.role], step.inputs, at=w.step_at(s))

    def finish(self) -> None:
        for case_id in self.ids[:: max(1, len(self.ids) // 50)]:
            assert self.engine.case(case_id).state == "closed", case_id
        self.engine.close()


def memory_peer() -> ComplaintflowPeer:
    from complaintflow.store.memory import MemoryStore

    return ComplaintflowPeer("cf_memory", "complaintflow, MemoryStore", MemoryStore)


def sqlite_peer(path: Path, synchronous: str) -> ComplaintflowPeer:
    from complaintflow.store.sqlite import SQLiteStore

    return ComplaintflowPeer(
        f"cf_sqlite_{synchronous.lower()}",
        f"complaintflow, SQLite {synchronous}",
        lambda: SQLiteStore(path, synchronous=synchronous),
        synchronous,
    )


# -- pytransitions ------------------------------------------------------------------------------


class _NaiveCase:
    """A case object as a naive pytransitions user writes it: the model, with its own Machine."""

    def __init__(self, data: dict[str, Any]):
        self.data = dict(data)

    def is_satisfied(self) -> bool:
        return self.data.get("satisfied") is True

    def is_unsatisfied(self) -> bool:
        return self.data.get("satisfied") is False


class TransitionsNaivePeer(Peer):
    """One ``Machine`` per case with the case as its model; the guard is a transition condition."""

    key, label = "transitions_naive", "pytransitions, Machine per case"

    def __init__(self) -> None:
        from transitions import Machine

        self.Machine = Machine
        self.cases: list[_NaiveCase] = []

    def start(self, n: int) -> None:
        case = _NaiveCase(w.START_DATA)
        self.Machine(
            model=case,
            states=list(w.STATES),
            transitions=[dict(t) for t in w.TRANSITIONS],
            initial=w.INITIAL,
            auto_transitions=False,
        )
        self.cases.append(case)

    def act(self, n: int, s: int) -> None:
        step, case = w.STEPS[s], self.cases[n]
        if step.role not in w.ROLES_OF[step.action]:
            raise PermissionError(step.action)
        case.data.update(step.inputs)
        if not case.trigger(step.action):
            raise RuntimeError(f"{step.action} refused")

    def finish(self) -> None:
        assert all(c.state == "closed" for c in self.cases)


class _Token:
    __slots__ = ("state",)

    def __init__(self, state: str):
        self.state = state


class TransitionsSharedPeer(Peer):
    """The floor: one shared model-less Machine; each step triggers the event on a throw-away token,
    exactly as engine/runtime/machine.py does (``machine.events[name].trigger(token)``)."""

    key, label = "transitions_shared", "pytransitions, shared machine (bare trigger)"

    def __init__(self) -> None:
        from transitions import Machine

        self.machine = Machine(
            model=None,
            states=list(w.STATES),
            initial=w.INITIAL,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for t in w.TRANSITIONS:
            self.machine.add_transition(t["trigger"], t["source"], t["dest"])
        self.states: list[str] = []

    def start(self, n: int) -> None:
        self.states.append(w.INITIAL)

    def act(self, n: int, s: int) -> None:
        token = _Token(self.states[n])
        self.machine.events[w.STEPS[s].action].trigger(token)
        self.states[n] = token.state

    def finish(self) -> None:
        assert all(s == "closed" for s in self.states)


# -- SpiffWorkflow ---------------------------------------------------------------------------------


class SpiffPeer(Peer):
    """bench/complaint.bpmn on SpiffWorkflow, in memory: one BpmnWorkflow per case."""

    key, label = "spiff", "SpiffWorkflow (BPMN), in memory"

    def __init__(self) -> None:
        from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
        from SpiffWorkflow.util.task import TaskState

        parser = BpmnParser()
        parser.add_bpmn_file(str(w.PROCESS_BPMN))
        self.spec = parser.get_spec(w.BPMN_PROCESS_ID)
        self.Workflow, self.READY = BpmnWorkflow, TaskState.READY
        self.flows: list[Any] = []

    def start(self, n: int) -> None:
        wf = self.Workflow(self.spec)
        wf.get_next_task(state=self.READY).set_data(**w.START_DATA)
        wf.do_engine_steps()
        self.flows.append(wf)

    def act(self, n: int, s: int) -> None:
        step, wf = w.STEPS[s], self.flows[n]
        task = wf.get_next_task(state=self.READY, manual=True, spec_name=step.task)
        if task is None:
            raise RuntimeError(f"{step.task} is not ready")
        if task.task_spec.lane != step.role:  # the lane is the role that may complete the task
            raise PermissionError(step.task)
        task.set_data(**step.inputs)
        task.run()
        wf.do_engine_steps()

    def finish(self) -> None:
        assert all(wf.is_completed() for wf in self.flows)


# -- raw SQLite appends ------------------------------------------------------------------------------

_EVENTS_TABLE = """CREATE TABLE events (
  case_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
  kind TEXT NOT NULL, payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
  PRIMARY KEY (case_id, seq))"""


def sample_events() -> list[tuple[Any, ...]]:
    """The rows complaintflow writes for one case's start and each step's action event, taken from a
    real run on the memory store: payloads already JSON-encoded, hashes as stored."""
    from complaintflow import Actor, Engine
    from complaintflow.store.memory import MemoryStore

    engine = Engine(MemoryStore())
    spec = engine.load_process(w.PROCESS_YAML)
    actors = {"desk": Actor("wang", ("desk",)), "handler": Actor("li", ("handler",))}
    case = engine.start(spec, w.START_DATA, actors["desk"], at=w.START_AT)
    for s, step in enumerate(w.STEPS):
        engine.act(case.id, step.action, actors[step.role], step.inputs, at=w.step_at(s))
    history = engine.history(case.id)
    rows = [e for e in history if e.kind in ("started", "acted")]
    assert len(rows) == 1 + w.ACTIONS_PER_CASE
    return [
        (
            e.at,
            e.actor,
            e.role,
            e.kind,
            json.dumps(e.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
            e.prev_hash,
            e.hash,
        )
        for e in rows
    ]


class RawSQLitePeer(Peer):
    """The limit of the durable path: one INSERT of an already-encoded event row per start or action,
    each in its own BEGIN IMMEDIATE ... COMMIT, in WAL mode at the given synchronous setting."""

    def __init__(self, path: Path, synchronous: str, rows: list[tuple[Any, ...]]):
        self.key, self.durability = f"raw_sqlite_{synchronous.lower()}", synchronous
        self.label = f"raw SQLite appends, {synchronous}"
        self.path, self.rows = path, rows
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous}")
        self.db.execute(_EVENTS_TABLE)
        self.sql = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        self.count = 0

    def _append(self, n: int, index: int) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute(self.sql, (f"c{n}", index + 1, *self.rows[index]))
        self.db.execute("COMMIT")
        self.count += 1

    def start(self, n: int) -> None:
        self._append(n, 0)

    def act(self, n: int, s: int) -> None:
        self._append(n, s + 1)

    def finish(self) -> None:
        (stored,) = self.db.execute("SELECT count(*) FROM events").fetchone()
        assert stored == self.count, (stored, self.count)
        self.db.close()


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(f"{path}{suffix}")
        except FileNotFoundError:
            pass
