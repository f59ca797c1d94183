"""Concurrent actors through one shared Engine on SQLite FULL, with and without group commit.

    .venv/bin/python bench/threads.py                    # 1, 8 and 32 actors, 5 repetitions
    .venv/bin/python bench/threads.py --quick            # smoke test
    .venv/bin/python bench/threads.py --actors 1,8,32 --actions 1600 --reps 7 --json out.json

Each actor is a thread with cases of its own; it takes the workload's five actions on each of them
(bench/workload.py) through the one Engine all actors share. A repetition runs every configuration once
on a fresh store file, in an order that rotates between repetitions, beside the raw peer (one INSERT per
transaction at FULL, bench/peers.py). Figures are medians over repetitions of committed actions per second
(wall clock from releasing all actors to the last one done); ratios are taken within a repetition. Cases
are started before the clock runs: only actions are timed.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `engine` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"

from . import facts, peers  # noqa: E402
from . import workload as w  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def actors_run(path: Path, actors: int, cases_each: int, group_commit: bool) -> float:
    """Committed actions per second for ``actors`` threads on one Engine over a new SQLite FULL file."""
    from complaintflow import Actor, Engine
    from complaintflow.store.sqlite import SQLiteStore

    peers.remove_db(path)
    engine = Engine(SQLiteStore(path, synchronous="FULL", group_commit=group_commit))
    spec = engine.load_process(w.PROCESS_YAML)
    people = {"desk": Actor("wang", ("desk",)), "handler": Actor("li", ("handler",))}
    owned = [
        [engine.start(spec, w.START_DATA, people["desk"], at=w.START_AT).id for _ in range(cases_each)]
        for _ in range(actors)
    ]
    gate = threading.Barrier(actors + 1)
    failures: list[BaseException] = []

    def actor(case_ids: list[str]) -> None:
        gate.wait()
        try:
            for s, step in enumerate(w.STEPS):
                for case_id in case_ids:
                    engine.act(case_id, step.action, people[step.role], step.inputs, at=w.step_at(s))
        except BaseException as exc:  # reported after the run
            failures.append(exc)

    threads = [threading.Thread(target=actor, args=(ids,)) for ids in owned]
    for t in threads:
        t.start()
    gate.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise failures[0]
    for ids in owned:  # every action really committed: each case ended closed
        assert all(engine.case(i).state == "closed" for i in ids)
    assert engine.verify() == []
    engine.close()
    peers.remove_db(path)
    return actors * cases_each * w.ACTIONS_PER_CASE / elapsed


def raw_run(path: Path, appends: int, rows: list[tuple[Any, ...]]) -> float:
    """One-row-per-transaction appends per second at FULL, one thread (the per-commit floor)."""
    peers.remove_db(path)
    raw = peers.RawSQLitePeer(path, "FULL", rows)
    cases = appends // w.ACTIONS_PER_CASE
    began = time.perf_counter()
    for s in range(w.ACTIONS_PER_CASE):
        for n in range(cases):
            raw.act(n, s)
    elapsed = time.perf_counter() - began
    raw.finish()
    peers.remove_db(path)
    return cases * w.ACTIONS_PER_CASE / elapsed


def raw_threaded_run(path: Path, appends: int, rows: list[tuple[Any, ...]], threads: int) -> float:
    """The same appends from ``threads`` threads taking turns on one connection: what taking turns alone
    does to the per-commit floor on this machine, without any grouping."""
    peers.remove_db(path)
    raw = peers.RawSQLitePeer(path, "FULL", rows)
    raw.db.close()
    raw.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    raw.db.execute("PRAGMA synchronous=FULL")
    turn = threading.Lock()
    cases = appends // (w.ACTIONS_PER_CASE * threads)
    gate = threading.Barrier(threads + 1)

    def appender(first: int) -> None:
        gate.wait()
        for s in range(w.ACTIONS_PER_CASE):
            for n in range(first, first + cases):
                with turn:
                    raw.act(n, s)

    workers = [threading.Thread(target=appender, args=(k * cases,)) for k in range(threads)]
    for t in workers:
        t.start()
    gate.wait()
    began = time.perf_counter()
    for t in workers:
        t.join()
    elapsed = time.perf_counter() - began
    raw.finish()
    peers.remove_db(path)
    return threads * cases * w.ACTIONS_PER_CASE / elapsed


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    rows = peers.sample_events()
    top = max(args.actors)
    configs: list[tuple[str, Any]] = [("raw", None), (f"raw_{top}_threads", top)]
    for n in args.actors:
        for group in (True, False):
            configs.append((f"{n}_{'group' if group else 'single'}", (n, group)))
    samples: dict[str, list[float]] = {key: [] for key, _ in configs}
    for rep in range(args.reps):
        # Rotated, and reversed every other repetition, so no configuration always follows the same one.
        order = configs[rep % len(configs) :] + configs[: rep % len(configs)]
        for key, config in order if rep % 2 == 0 else order[::-1]:
            if config is None:
                rate = raw_run(workdir / "raw.db", args.raw_appends, rows)
            elif isinstance(config, int):
                rate = raw_threaded_run(workdir / "raw_threads.db", args.raw_appends, rows, config)
            else:
                n, group = config
                rate = actors_run(workdir / f"t{key}.db", n, max(1, args.actions // (n * w.ACTIONS_PER_CASE)), group)
            samples[key].append(rate)
            log(f"rep {rep + 1}/{args.reps} {key}: {rate:,.0f} actions/s")
    # One caller, the two settings back to back, in alternating order: the fsync time of this disk drifts
    # by several times over minutes, so only close pairs show whether group commit costs one caller anything.
    pairs = []
    for p in range(args.pairs):
        rates = {}
        for group in (True, False) if p % 2 == 0 else (False, True):
            rates[group] = actors_run(workdir / "pair.db", 1, args.pair_actions // w.ACTIONS_PER_CASE, group)
        pairs.append(rates[True] / rates[False])
    log(f"one caller, group ÷ single in {args.pairs} alternating pairs: {[round(r, 2) for r in pairs]}")
    medians = {key: statistics.median(v) for key, v in samples.items()}
    ratios = {
        key: statistics.median(s / r for s, r in zip(v, samples["raw"], strict=True))
        for key, v in samples.items()
        if key != "raw"
    }
    return {"samples": samples, "medians": medians, "vs_raw": ratios, "one_caller_pairs": pairs}


def report(res: dict[str, Any], args: argparse.Namespace) -> str:
    med, vs = res["medians"], res["vs_raw"]
    top = max(args.actors)
    lines = [
        f"raw one-row-per-transaction appends, FULL, one thread: {med['raw']:,.0f} /s",
        f"the same from {top} threads taking turns on one connection: {med[f'raw_{top}_threads']:,.0f} /s "
        f"({vs[f'raw_{top}_threads']:.2f} × raw)",
        "",
        "| actors | group commit: actions/s | × raw | one transaction each: actions/s | × raw | group ÷ single |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for n in args.actors:
        g, s = f"{n}_group", f"{n}_single"
        per_rep = statistics.median(a / b for a, b in zip(res["samples"][g], res["samples"][s], strict=True))
        lines.append(f"| {n} | {med[g]:,.0f} | {vs[g]:.2f} | {med[s]:,.0f} | {vs[s]:.2f} | {per_rep:.2f} |")
    if res["one_caller_pairs"]:
        lines += [
            "",
            f"one caller, group commit ÷ one transaction each, median of {len(res['one_caller_pairs'])} "
            f"back-to-back pairs: {statistics.median(res['one_caller_pairs']):.2f}",
        ]
    best = f"{top}_group"
    verdict = "PASS" if vs[best] > 1 else "MISS"
    lines += ["", f"target: at {top} actors, group commit above the raw append rate: {vs[best]:.2f}× {verdict}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    p.add_argument("--actors", default="1,8,32", help="actor thread counts (default 1,8,32)")
    p.add_argument("--actions", type=int, help="actions per run, split over the actors (default 1600, quick 320)")
    p.add_argument("--raw-appends", type=int, help="raw appends per run (default 1000, quick 200)")
    p.add_argument("--reps", type=int, help="repetitions (default 5, quick 2)")
    p.add_argument("--pairs", type=int, help="one-caller pairs, group commit against none (default 12, quick 2)")
    p.add_argument("--pair-actions", type=int, default=200, help="actions per one-caller run (default 200)")
    p.add_argument("--dir", type=Path, help="where the SQLite files go (default: a new temporary directory)")
    p.add_argument("--json", type=Path, help="also write every number to this file")
    args = p.parse_args(argv)
    args.actors = [int(n) for n in args.actors.split(",")]
    args.actions = args.actions or (320 if args.quick else 1600)
    args.raw_appends = args.raw_appends or (200 if args.quick else 1000)
    args.reps = args.reps or (2 if args.quick else 5)
    args.pairs = args.pairs if args.pairs is not None else (2 if args.quick else 12)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        machine = facts.collect(Path(tmp))
        res = measure(args, Path(tmp))
    res["facts"] = machine
    print(
        f"{machine['cpu']}, {machine['cores']} cores, load {machine['load_average_at_start'][0]} at start; "
        f"Python {machine['python']}, SQLite {machine['sqlite']}; files on {machine['db_filesystem']}; "
        f"commit {machine['commit']}\n"
    )
    print(report(res, args))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
