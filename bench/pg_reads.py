"""Reads beside writes on one PostgreSQL store object: what the read connections (engine/store/read_pool.py) buy.

    .venv/bin/python bench/pg_reads.py              # 7 interleaved rounds
    .venv/bin/python bench/pg_reads.py --rounds 15

Two stores on one throw-away cluster (bench/pg_scale.py's, durability on): one with the default read
connections, one with ``readers=0`` (every read takes its turn on the change connection, as before them).
In each round, on each store in turn, 8 writer threads act on cases of their own while 8 reader threads read
cases by id, for about 2 s; printed are the medians over the rounds of reads/s and changes/s and each read's
latency p50/p99 (a busy machine slows both stores alike: compare them within the run).
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"

from . import workload as w  # noqa: E402
from .pg_scale import side_by_side  # noqa: E402

THREADS = 8
SECONDS = 2.0


def one_round(engine, spec, desk) -> dict[str, float]:
    opened = [engine.start(spec, w.START_DATA, desk, at=w.START_AT).id for _ in range(THREADS * 60)]
    stop = threading.Event()
    changes = [0]
    latencies: list[float] = []
    lock = threading.Lock()

    def write(mine: list[str]) -> None:
        done = 0
        for case_id in mine:
            if stop.is_set():
                break
            engine.act(case_id, w.STEPS[0].action, desk, at=w.step_at(0))
            done += 1
        with lock:
            changes[0] += done

    def read(n: int) -> None:
        mine: list[float] = []
        while not stop.is_set():
            began = time.perf_counter()
            engine.case(opened[n % len(opened)])
            mine.append(time.perf_counter() - began)
            n += 7
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=write, args=(opened[k::THREADS],)) for k in range(THREADS)]
    threads += [threading.Thread(target=read, args=(k,)) for k in range(THREADS)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(SECONDS)  # a benchmark's measuring window, not a test
    stop.set()
    for t in threads:
        t.join()
    took = time.perf_counter() - began
    latencies.sort()
    return {
        "reads/s": len(latencies) / took,
        "changes/s": changes[0] / took,
        "read p50 ms": 1000 * latencies[len(latencies) // 2],
        "read p99 ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


def main() -> None:
    from complaintflow import Engine
    from complaintflow.store.postgres import PostgresStore

    opened = {
        "read connections": lambda url: Engine(PostgresStore(url)),
        "readers=0": lambda url: Engine(PostgresStore(url, readers=0)),
    }
    side_by_side(__doc__, 7, opened, one_round, alternate=True)


if __name__ == "__main__":
    main()
