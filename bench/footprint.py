"""Memory per open case in ``Engine(MemoryStore())``, measured two ways in a fresh process.

- tracemalloc: bytes of Python allocations still alive after ``gc.collect()``, divided by the number
  of open cases; the allocation sites (file:line) that hold the most are listed, per case.
- RSS: growth of the process's resident set (``/proc/self/statm``) while the same cases are
  started, without tracemalloc running; includes allocator slack, so it is the larger number.

Two moments of a case's life are measured: just started (1 event), and mid-flow after dispatch,
handle and an unsatisfied callback (4 actions' worth of events, still open in ``dispatched``).
``MemoryStore()`` keeps every case's history (encoded rows) and an outbox log entry per event until it
is acknowledged; "drained" is the mid-flow figure after ``ack_outbox`` of every message, and "runtime
state" what is left once the store also drops its histories: the case rows, their clocks and the
due-time heap, which is what the runtime itself holds per open case (a database keeps histories on disk).

Run alone: ``python -m bench.footprint CASES`` prints the result as JSON.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import tracemalloc
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # python bench/footprint.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"

from . import workload as w  # noqa: E402

MID_FLOW_STEPS = 3  # dispatch, handle, callback_unsatisfied: open again in `dispatched`


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _engine() -> tuple[Any, Any, dict[str, Any]]:
    from complaintflow import Actor, Engine
    from complaintflow.store.memory import MemoryStore

    engine = Engine(MemoryStore())
    spec = engine.load_process(w.PROCESS_YAML)
    return engine, spec, {"desk": Actor("wang", ("desk",)), "handler": Actor("li", ("handler",))}


def _start(engine: Any, spec: Any, actors: dict[str, Any], n: int) -> list[str]:
    return [engine.start(spec, w.START_DATA, actors["desk"], at=w.START_AT).id for _ in range(n)]


def _advance(engine: Any, actors: dict[str, Any], ids: list[str]) -> None:
    for s in range(MID_FLOW_STEPS):
        step = w.STEPS[s]
        for case_id in ids:
            engine.act(case_id, step.action, actors[step.role], step.inputs, at=w.step_at(s))


def _traced(snapshot: Any, base: Any, n: int, top: int = 10) -> tuple[float, list[dict[str, Any]]]:
    diff = snapshot.compare_to(base, "lineno")
    total = sum(d.size_diff for d in diff)
    sites = []
    for d in sorted(diff, key=lambda d: -d.size_diff)[:top]:
        frame = d.traceback[0]
        where = Path(frame.filename)
        parts = where.parts
        short = "/".join(parts[parts.index("engine") :]) if "engine" in parts else where.name
        sites.append({"site": f"{short}:{frame.lineno}", "bytes_per_case": d.size_diff / n})
    return total / n, sites


def measure(n: int, traced: int = 2_000) -> dict[str, Any]:
    """``n`` cases for the RSS figures, ``traced`` (fewer: tracemalloc slows every allocation) for tracemalloc."""
    # RSS first, without tracemalloc (it would add its own per-block bookkeeping).
    engine, spec, actors = _engine()
    gc.collect()
    before = _rss()
    ids = _start(engine, spec, actors, n)
    gc.collect()
    rss_started = (_rss() - before) / n
    _advance(engine, actors, ids)
    gc.collect()
    rss_mid = (_rss() - before) / n
    del engine, ids
    gc.collect()

    n, rss_cases = min(n, traced), n
    engine, spec, actors = _engine()
    tracemalloc.start()
    gc.collect()
    base = tracemalloc.take_snapshot()
    ids = _start(engine, spec, actors, n)
    gc.collect()
    started, started_sites = _traced(tracemalloc.take_snapshot(), base, n)
    _advance(engine, actors, ids)
    gc.collect()
    mid, mid_sites = _traced(tracemalloc.take_snapshot(), base, n)
    store = engine.store
    store.ack_outbox([m.id for m in store.outbox(None, 10**9)])
    gc.collect()
    drained, _ = _traced(tracemalloc.take_snapshot(), base, n)
    assert all(engine.case(i).state == "dispatched" for i in ids[:: max(1, n // 20)])
    events_mid_flow = len(engine.history(ids[0]))
    # What the runtime holds per open case (row, clocks, heap entry) is what is left once the
    # store forgets its histories, which a database would keep on disk.
    store._events.clear()
    store._log.clear()
    gc.collect()
    state, state_sites = _traced(tracemalloc.take_snapshot(), base, n)
    tracemalloc.stop()
    return {
        "cases": n,
        "rss_cases": rss_cases,
        "method": "tracemalloc live bytes after gc / open cases; RSS delta / open cases",
        "started_bytes": started,
        "mid_flow_bytes": mid,
        "mid_flow_drained_bytes": drained,
        "rss_started_bytes": rss_started,
        "rss_mid_flow_bytes": rss_mid,
        "runtime_state_bytes": state,
        "events_mid_flow": events_mid_flow,
        "top_sites_started": started_sites,
        "top_sites_mid_flow": mid_sites,
        "top_sites_state": state_sites,
    }


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)))
