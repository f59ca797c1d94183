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

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"

from . import workload as w  # noqa: E402
from .pg_scale import side_by_side, start_server  # noqa: E402

CASES = 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=12)
    rounds = parser.parse_args().rounds
    from complaintflow import Engine

    server = start_server()
    try:
        engines = side_by_side(
            server, {"prepared": Engine, "unprepared": lambda url: Engine(url + "&prepare_threshold=none")}
        )
        desk = w.every_role_actor()
        seen: dict[str, dict[str, list[float]]] = {name: {"changes/s": [], "reads/s": []} for name in engines}
        for _ in range(rounds):
            for name, (engine, spec) in engines.items():
                began = time.perf_counter()
                opened = [engine.start(spec, w.START_DATA, desk, at=w.START_AT).id for _ in range(CASES)]
                for case_id in opened:
                    engine.act(case_id, w.STEPS[0].action, desk, at=w.step_at(0))
                seen[name]["changes/s"].append(2 * CASES / (time.perf_counter() - began))
                began = time.perf_counter()
                for n in range(10 * CASES):
                    engine.store.case(opened[n % CASES])
                seen[name]["reads/s"].append(10 * CASES / (time.perf_counter() - began))
        for name, measured in seen.items():
            print(name, ", ".join(f"{what} {statistics.median(v):,.0f}" for what, v in measured.items()))
        for engine, _ in engines.values():
            engine.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
