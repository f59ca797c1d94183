"""Scheduler lateness: 10,000 timers falling due at one instant among many open cases, on SQLite FULL.

    .venv/bin/python bench/scheduler.py                      # 1,000,000 open cases, 1% due at once
    .venv/bin/python bench/scheduler.py --open-cases 100000  # 1,000 due
    .venv/bin/python bench/scheduler.py --keep /tmp/sched    # build once into /tmp/sched, then reuse it


The store is built as bench/tick.py builds it (rows cloned from real cases). A desk opens it with its
clock stopped at the instant the timers fall due, and the service's scheduler steps until nothing is
due. Each fired event's lateness is the real time from the first step until the step that fired it
ended (the clock is stopped, so this is the time the scheduler needed to reach it). Reported: due
timers, events fired, p50/p99/max lateness, and the target (p99 <= 1 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"

from . import tick  # noqa: E402


def prepare(open_cases: int, workdir: Path, keep: Path | None) -> Path:
    """The store to fire on, in ``workdir``: built there, or copied from the one kept in ``keep`` (built
    there first when missing; a run changes its store, so each run fires on a fresh copy)."""
    path = workdir / "scheduler.db"
    source = path if keep is None else keep / f"scheduler_{open_cases}.db"
    if not source.exists():
        started = time.perf_counter()
        source.parent.mkdir(parents=True, exist_ok=True)
        building = source.with_suffix(".building")
        building.unlink(missing_ok=True)
        tick.build_sqlite(tick.templates(), open_cases, 1, building)
        building.rename(source)  # no WAL left: build_sqlite checkpointed and closed it
        print(f"built {open_cases:,} open cases in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if source != path:
        shutil.copyfile(source, path)
        with open(path, "rb+") as copy:  # on disk before the clock starts, as a fresh build's checkpoint leaves it:
            os.fsync(copy.fileno())  # else the first checkpoint's fsync writes the whole copy out
    return path


def run(open_cases: int, workdir: Path, batch: int, rounds: int, keep: Path | None = None) -> dict[str, float]:
    from complaintflow import Engine
    from complaintflow.service.desk import Desk
    from complaintflow.service.metrics import Metrics
    from complaintflow.service.scheduler import Scheduler
    from complaintflow.store.sqlite_directory import SQLiteDirectory as Directory

    path = prepare(open_cases, workdir, keep)
    desk = Desk(lambda: Engine(str(path)), lambda: Directory(path), lambda: float(tick.T0))
    scheduler = Scheduler(desk, Metrics(), batch=batch, rounds=rounds)
    lateness: list[float] = []
    began = time.perf_counter()
    while fired := scheduler.step():
        done = time.perf_counter() - began
        lateness += [done] * len({e.case_id for e in fired if e.kind == "deadline_breached"})
    desk.close()
    lateness.sort()
    n = len(lateness)
    return {
        "due": open_cases // tick.PER_SLICE,
        "breaches": n,
        "p50_s": lateness[n // 2] if n else 0.0,
        "p99_s": lateness[min(n - 1, int(n * 0.99))] if n else 0.0,
        "max_s": lateness[-1] if n else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--open-cases", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="a folder to build the store in once and copy it from later")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = run(args.open_cases, Path(tmp), args.batch, args.rounds, args.keep)
    verdict = "PASS" if r["p99_s"] <= 1.0 else "MISS"
    print("| open cases | due at once | breaches fired | p50 | p99 | max | target p99 <= 1 s |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {args.open_cases:,} | {r['due']:,} | {r['breaches']:,} | {r['p50_s']:.2f} s | {r['p99_s']:.2f} s | "
        f"{r['max_s']:.2f} s | {verdict} |"
    )


if __name__ == "__main__":
    main()
