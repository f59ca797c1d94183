"""``Engine.tick`` with many open cases: none due versus 1% due, in memory and on SQLite.

Building a million open cases through ``Engine.start`` would take minutes, so the stores are
written directly with rows cloned from real ones: two template cases are run through the engine
(one just received, with its 3-minute dispatch clock; one handled, with its 2-working-day callback
clock), and each open case is a copy with its own id and its own clock instants, and ``next_due``
set to when the one timer those clocks imply falls due (what ``fold`` would compute).

- Memory: ``MemoryStore.commit`` with the case row (no events; the started event's content does not
  matter to a tick).
- SQLite: one ``executemany`` into ``cases`` in one transaction, with ``synchronous=OFF`` while
  building; the store is then reopened at the durability under test. The ``events`` table starts empty.

Which cases fall due: case ``i`` with ``i % 100 == r`` for ``r < slices`` is in slice ``r``: it sits
in ``received`` with its dispatch deadline due at ``T0 + r`` seconds. Every other case waits in
``handled`` for a callback due days later. ``tick(T0 - 1)`` finds nothing due; ``tick(T0 + r)``
finds exactly slice ``r`` (1% of the open cases) and fires a breach plus escalation step 1 for each.
A breach arms the next escalation step 5 minutes later, beyond every slice, so repetitions do not
overlap.
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import workload as w

T0 = w.START_AT + 3600  # Monday 11:00: slices fall due at T0, T0 + 1, ...
PER_SLICE = 100  # one case in a hundred per slice: 1% due


@dataclass
class Templates:
    spec: Any
    received: Any  # CaseRecord just started
    handled: Any  # CaseRecord after dispatch + handle


def templates() -> Templates:
    from complaintflow import Actor, Engine
    from complaintflow.store.memory import MemoryStore

    engine = Engine(MemoryStore())
    spec = engine.load_process(w.PROCESS_YAML)
    desk, handler = Actor("wang", ("desk",)), Actor("li", ("handler",))
    received = engine.start(spec, w.START_DATA, desk, at=w.START_AT)
    handled = engine.start(spec, w.START_DATA, desk, at=w.START_AT)
    engine.act(handled.id, "dispatch", desk, at=w.step_at(0))
    handled = engine.act(handled.id, "handle", handler, w.STEPS[1].inputs, at=w.step_at(1))
    assert set(received.clocks) == {"dispatch_3m"} and set(handled.clocks) == {"callback_2wd"}
    return Templates(spec, received, handled)


def open_case(t: Templates, i: int, slices: int) -> Any:
    """The case row of open case number ``i``."""
    from complaintflow.runtime.clocks import earliest_due
    from complaintflow.store.base import CaseRecord

    r = i % PER_SLICE
    if r < slices:  # falls due at T0 + r
        base, name, due = t.received, "dispatch_3m", T0 + r
        started = due - 180
    else:  # waits for its callback, days away
        base, name = t.handled, "callback_2wd"
        due = base.clocks[name]["due"] + i % 3600
        started = base.clocks[name]["started"]
    clocks = {name: {**base.clocks[name], "started": started, "due": due}}
    case = CaseRecord(
        f"t{i:07d}",
        base.process_id,
        base.process_hash,
        base.state,
        {},
        base.data,
        base.owner_role,
        clocks,
        1,
        started,
        None,
        started,
        base.last_hash,
        base.last_seq,
        earliest_due(clocks),
    )
    assert case.next_due == due
    return case


def build_memory(t: Templates, n: int, slices: int) -> Any:
    from complaintflow import Engine
    from complaintflow.store.base import Commit
    from complaintflow.store.memory import MemoryStore

    engine = Engine(MemoryStore(keep_outbox=False))
    engine.load_process(w.PROCESS_YAML)
    commit = engine.store.commit
    for i in range(n):
        case = open_case(t, i, slices)
        commit(Commit(case=case, events=(head_event(case),)))
    return engine


def head_event(case: Any) -> Any:
    """The one event a cloned row names as its head: tick checks each row against it before writing
    (audit/rowcheck.py), so a row without one would be refused as edited. Its hash is the template's."""
    from complaintflow.runtime.events import GENESIS
    from complaintflow.store.base import EventRecord

    return EventRecord(
        case.id, case.last_seq, case.last_at, "bench", "bench", "started", {}, GENESIS, case.last_hash, "{}"
    )


def build_sqlite(t: Templates, n: int, slices: int, path: Path) -> None:
    from complaintflow import Engine
    from complaintflow.canonical import dumps  # the store's own encoding
    from complaintflow.store.sqlite import SQLiteStore

    engine = Engine(SQLiteStore(path))  # creates the schema and records the process text
    engine.load_process(w.PROCESS_YAML)
    engine.close()
    db = sqlite3.connect(str(path), isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    data = {id(t.received.data): dumps(t.received.data), id(t.handled.data): dumps(t.handled.data)}
    case_rows: list[tuple[Any, ...]] = []
    event_rows: list[tuple[Any, ...]] = []
    (first_pos,) = db.execute("SELECT coalesce(max(pos), 0) + 1 FROM events").fetchone()

    def flush() -> None:
        db.executemany("INSERT INTO events VALUES (" + ", ".join("?" * 12) + ")", event_rows)
        db.executemany("INSERT INTO cases VALUES (" + ", ".join("?" * 17) + ")", case_rows)
        case_rows.clear()
        event_rows.clear()

    db.execute("BEGIN")
    for i in range(n):
        c = open_case(t, i, slices)
        e = head_event(c)  # the event the row names (its last_pos), as tick checks before writing
        event_rows.append(
            (first_pos + i, None, e.case_id, e.seq, e.at, e.actor, e.role, e.kind, e.payload_json, e.prev_hash, e.hash)
            + (None,)  # personal: the head event keeps no personal value
        )
        case_rows.append(
            (
                c.id,
                c.process_id,
                c.process_hash,
                c.state,
                "{}",
                data[id(c.data)],
                c.owner_role,
                dumps(c.clocks),
                c.revision,
                c.opened_at,
                c.closed_at,
                c.last_at,
                c.last_hash,
                c.last_seq,
                c.next_due,
                first_pos + i,
                c.tenant,  # the last column: format 6 added it
            )
        )
        if len(case_rows) >= 50_000:
            flush()
    flush()
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def _idle(engine: Any, calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        t = time.perf_counter()
        fired = engine.tick(T0 - 1)
        out.append(time.perf_counter() - t)
        assert not fired
    return out


def _due(engine: Any, r: int) -> tuple[float, int]:
    t = time.perf_counter()
    fired = engine.tick(T0 + r)
    took = time.perf_counter() - t
    assert fired and len(fired) % 2 == 0, len(fired)  # each due timer: deadline_breached + escalated
    return took, len(fired) // 2


def measure(engines: dict[int, Any], first_slice: int, reps: int, idle_calls: int = 50) -> dict[str, Any]:
    """For each size, tick when nothing is due (``idle_calls`` times); then one tick per due slice. The
    sizes take turns in every repetition, so a slow moment of a shared disk or CPU hits them alike."""
    out: dict[str, Any] = {}
    for size, engine in engines.items():
        engine.tick(T0 - 1)  # warm: the first query on a fresh connection reads the schema
        out[str(size)] = {"idle_s": [], "due_s": [], "due_timers": []}
    for r in range(first_slice, first_slice + reps):
        for size, engine in engines.items():
            m = out[str(size)]
            m["idle_s"] += _idle(engine, idle_calls // reps or 1)
            took, timers = _due(engine, r)
            m["due_s"].append(took)
            m["due_timers"].append(timers)
    for m in out.values():
        m["idle_median_s"] = statistics.median(m["idle_s"])
        m["due_median_s"] = statistics.median(m["due_s"])
        m["per_due_timer_s"] = statistics.median(d / n for d, n in zip(m["due_s"], m["due_timers"], strict=False))
    return out


def run(n: int, reps: int, durabilities: tuple[str, ...], workdir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    from complaintflow import Engine
    from complaintflow.store.sqlite import SQLiteStore

    from .peers import remove_db

    t = templates()
    slices = reps * max(1, len(durabilities))  # the memory store and the SQLite file each use their own
    assert slices <= PER_SLICE
    small = max(n // 100, 1000)
    sizes = (small, n)
    out: dict[str, Any] = {
        "open_cases": n,
        "small_open_cases": small,
        "due_per_tick": n // PER_SLICE,
        "build": {},
        "memory": {},
        "sqlite": {},
    }

    engines = {}
    for size in sizes:
        started = time.perf_counter()
        engines[size] = build_memory(t, size, slices)
        out["build"][f"memory_{size}_s"] = time.perf_counter() - started
        log(f"  tick: {size:,} open cases in memory built in {out['build'][f'memory_{size}_s']:.1f} s")
    out["memory"] = measure(engines, 0, reps)
    del engines
    log("  tick: memory measured")

    paths = {size: workdir / f"tick_{size}.db" for size in sizes}
    for size, path in paths.items():
        remove_db(path)
        started = time.perf_counter()
        build_sqlite(t, size, slices, path)
        out["build"][f"sqlite_{size}_s"] = time.perf_counter() - started
        log(f"  tick: {size:,} open cases in SQLite built in {out['build'][f'sqlite_{size}_s']:.1f} s")
    for k, sync in enumerate(durabilities):
        engines = {size: Engine(SQLiteStore(path, synchronous=sync)) for size, path in paths.items()}
        for size, m in measure(engines, reps * k, reps).items():
            out["sqlite"][f"{size}_{sync}"] = m
        for engine in engines.values():
            engine.close()
        log(f"  tick: SQLite {sync} measured")
    for path in paths.values():
        remove_db(path)
    return out
