"""What psycopg's server-side prepared statements are worth on a direct connection (docs/postgres.md).

    .venv/bin/python bench/pg_prepare.py              # 12 interleaved rounds
    .venv/bin/python bench/pg_prepare.py --rounds 30

Two stores on one throw-away cluster (bench/pg_scale.py's, durability on), one with the URL option
``prepare_threshold=none`` (what a store behind PgBouncer needs) and one with psycopg's default (a statement
is prepared after its fifth run). Each round runs, on each store in turn, 40 starts and 40 actions (changes/s)
and then 400 reads of a case by id (reads/s); the medians over the rounds are printed, so a busy machine
slows both sides alike.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"

from . import workload as w  # noqa: E402
from .pg_scale import side_by_side  # noqa: E402

CASES = 40


def one_round(engine: Any, spec: Any, desk: Any) -> dict[str, float]:
    """40 starts and 40 actions (changes/s), then 400 reads of a case by id (reads/s)."""
    began = time.perf_counter()
    opened = [engine.start(spec, w.START_DATA, desk, at=w.START_AT).id for _ in range(CASES)]
    for case_id in opened:
        engine.act(case_id, w.STEPS[0].action, desk, at=w.step_at(0))
    changes = 2 * CASES / (time.perf_counter() - began)
    began = time.perf_counter()
    for n in range(10 * CASES):
        engine.store.case(opened[n % CASES])
    return {"changes/s": changes, "reads/s": 10 * CASES / (time.perf_counter() - began)}


def main() -> None:
    from complaintflow import Engine

    opened = {"prepared": Engine, "unprepared": lambda url: Engine(url + "&prepare_threshold=none")}
    side_by_side(__doc__, 12, opened, one_round)


if __name__ == "__main__":
    main()
