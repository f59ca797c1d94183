"""complaintflow benchmark: one command, every peer, one run, ratios of medians.

    .venv/bin/python bench/run.py                 # full run (a few minutes on 2 cores)
    .venv/bin/python bench/run.py --quick         # small sizes, for a smoke test
    .venv/bin/python bench/run.py --open-cases 100000 --json out.json

See BENCHMARKS.md for what is measured and how to read it. Progress goes to stderr, the report
to stdout.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `engine` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"

from . import facts, peers, tick, tooling  # noqa: E402
from . import workload as w  # noqa: E402

KB = 1024


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes everywhere (about 30 s)")
    p.add_argument("--reps", type=int, help="repetitions of each measurement (default 5, quick 3)")
    p.add_argument("--cases", type=int, help="cases per repetition for the in-memory peers (default 2000)")
    p.add_argument("--spiff-cases", type=int, help="cases per repetition for SpiffWorkflow (default 400)")
    p.add_argument("--durable-cases", type=int, help="cases per repetition for the SQLite peers (default 300)")
    p.add_argument("--open-cases", type=int, help="open cases for the tick test (default 1,000,000)")
    p.add_argument("--footprint-cases", type=int, help="cases for the memory-per-case RSS figure (default 20,000)")
    p.add_argument(
        "--tick-durability",
        default="FULL,NORMAL",
        help="SQLite synchronous settings for the tick test (default FULL,NORMAL)",
    )
    p.add_argument("--skip-tick", action="store_true", help="leave out the tick test")
    p.add_argument("--dir", type=Path, help="where the SQLite files go (default: a new temporary directory)")
    p.add_argument("--json", type=Path, help="also write every number to this file")
    args = p.parse_args(argv)
    quick = args.quick
    defaults = {
        "reps": 3 if quick else 5,
        "cases": 300 if quick else 2000,
        "spiff_cases": 100 if quick else 400,
        "durable_cases": 60 if quick else 300,
        "open_cases": 20_000 if quick else 1_000_000,
        "footprint_cases": 3000 if quick else 20_000,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


# -- the workload on every peer ------------------------------------------------------------------


def throughput(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Each repetition runs every peer once (in a rotating order, so load on a shared machine falls on
    all of them alike): start K cases, then each of the five steps over all K cases."""
    rows = peers.sample_events()
    makers: list[tuple[str, int, Callable[[Path], peers.Peer]]] = [
        ("cf_memory", args.cases, lambda d: peers.memory_peer()),
        ("cf_sqlite_full", args.durable_cases, lambda d: peers.sqlite_peer(d / "cf_full.db", "FULL")),
        ("cf_sqlite_normal", args.durable_cases, lambda d: peers.sqlite_peer(d / "cf_normal.db", "NORMAL")),
        ("transitions_naive", args.cases, lambda d: peers.TransitionsNaivePeer()),
        ("transitions_shared", args.cases, lambda d: peers.TransitionsSharedPeer()),
        ("spiff", args.spiff_cases, lambda d: peers.SpiffPeer()),
        ("raw_sqlite_full", args.durable_cases, lambda d: peers.RawSQLitePeer(d / "raw_full.db", "FULL", rows)),
        ("raw_sqlite_normal", args.durable_cases, lambda d: peers.RawSQLitePeer(d / "raw_normal.db", "NORMAL", rows)),
    ]
    results: dict[str, dict[str, Any]] = {}
    for rep in range(args.reps):
        order = makers[rep % len(makers) :] + makers[: rep % len(makers)]
        for key, k, make in order:
            rep_dir = workdir / f"rep{rep}_{key}"
            rep_dir.mkdir(parents=True, exist_ok=True)
            peer = make(rep_dir)
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            for n in range(k):
                peer.start(n)
            start_wall, start_cpu = time.perf_counter() - wall, time.process_time() - cpu
            wall, cpu = time.perf_counter(), time.process_time()
            for s in range(w.ACTIONS_PER_CASE):
                for n in range(k):
                    peer.act(n, s)
            act_wall, act_cpu = time.perf_counter() - wall, time.process_time() - cpu
            peer.finish()
            for db in rep_dir.glob("*.db"):
                peers.remove_db(db)
            r = results.setdefault(
                key,
                {
                    "label": peer.label,
                    "durability": peer.durability,
                    "cases": k,
                    "start_s": [],
                    "act_s": [],
                    "start_cpu_s": [],
                    "act_cpu_s": [],
                },
            )
            r["start_s"].append(start_wall / k)
            r["act_s"].append(act_wall / (k * w.ACTIONS_PER_CASE))
            r["start_cpu_s"].append(start_cpu / k)
            r["act_cpu_s"].append(act_cpu / (k * w.ACTIONS_PER_CASE))
        log(f"  workload: repetition {rep + 1}/{args.reps} done")
    for r in results.values():
        r["start_median_s"] = statistics.median(r["start_s"])
        r["act_median_s"] = statistics.median(r["act_s"])
        r["starts_per_s"] = 1 / r["start_median_s"]
        r["actions_per_s"] = 1 / r["act_median_s"]
    return results


def per_rep_ratio(results: dict[str, Any], a: str, b: str, field: str = "act_s") -> float:
    """Median over repetitions of a's time / b's time, each pair measured in the same repetition."""
    return statistics.median(x / y for x, y in zip(results[a][field], results[b][field], strict=False))


def footprint(cases: int) -> dict[str, Any]:
    """In a fresh interpreter, so nothing allocated earlier in this run hides in the figures."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.footprint", str(cases)],
        cwd=w.REPO_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


# -- the report ------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms" if seconds < 0.01 else f"{seconds * 1e3:.1f} ms"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs"


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(header[i]), *(len(r[i]) for r in rows)) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(cells)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (x + 2) for x in widths) + "|", *map(line, rows)])


def targets(res: dict[str, Any]) -> list[list[str]]:
    t = res["throughput"]
    out: list[list[str]] = []

    def add(metric: str, result: str, target: str, ok: bool | None) -> None:
        out.append([metric, result, target, "-" if ok is None else "PASS" if ok else "MISS"])

    spiff = 1 / per_rep_ratio(t, "cf_memory", "spiff")
    spiff_cpu = 1 / per_rep_ratio(t, "cf_memory", "spiff", "act_cpu_s")
    add(
        "in-memory actions vs SpiffWorkflow",
        f"{spiff:.1f}x as fast (CPU time: {spiff_cpu:.1f}x)",
        ">= 20x",
        spiff >= 20,
    )
    floor = per_rep_ratio(t, "cf_memory", "transitions_shared")
    floor_cpu = per_rep_ratio(t, "cf_memory", "transitions_shared", "act_cpu_s")
    add(
        "in-memory action time vs bare shared transitions trigger",
        f"{floor:.1f}x the time (CPU time: {floor_cpu:.1f}x)",
        "<= 3x",
        floor <= 3,
    )
    for sync in ("full", "normal"):
        key = f"cf_sqlite_{sync}"
        if key in t:
            share = 1 / per_rep_ratio(t, key, f"raw_sqlite_{sync}")
            add(
                f"SQLite {sync.upper()} actions vs raw appends at {sync.upper()}",
                f"{share:.1%} of raw rate",
                ">= 50%",
                share >= 0.5,
            )
    if "tick" in res:
        k = res["tick"]
        n, small = k["open_cases"], k["small_open_cases"]
        for store, key_big, key_small in [("memory", str(n), str(small))] + [
            (f"SQLite {s}", f"{n}_{s}", f"{small}_{s}") for s in res["args"]["tick_durabilities"]
        ]:
            m = k["memory"] if store == "memory" else k["sqlite"]
            idle = m[key_big]["idle_median_s"]
            add(f"tick, none due of {n:,} open ({store})", ms(idle), "< 10 ms", idle < 0.010)
            growth = m[key_big]["per_due_timer_s"] / m[key_small]["per_due_timer_s"]
            idle_growth = idle / m[key_small]["idle_median_s"]
            add(
                f"tick cost follows due timers, not open cases ({store})",
                f"per due timer {us(m[key_big]['per_due_timer_s'])} at {n:,} vs {us(m[key_small]['per_due_timer_s'])}"
                f" at {small:,} ({growth:.2f}x); idle {idle_growth:.2f}x",
                "<= 2x for 100x the open cases",
                growth <= 2 and (idle_growth <= 2 or idle < 0.001),
            )
    f = res["footprint"]
    add(
        "memory per open case in the runtime (row, clocks, due-time heap; mid-flow)",
        f"{f['runtime_state_bytes'] / KB:.2f} KB",
        "< 2 KB",
        f["runtime_state_bytes"] < 2 * KB,
    )
    add(
        f"the same plus its history of {f['events_mid_flow']} events kept in RAM (MemoryStore)",
        f"{f['mid_flow_bytes'] / KB:.2f} KB",
        "(information)",
        None,
    )
    add("just started, with its one event kept in RAM", f"{f['started_bytes'] / KB:.2f} KB", "(information)", None)
    v = res["validation"]
    add(
        "validate one process file, warm (slowest file)",
        f"{ms(v['max_s'])} ({v['slowest']})",
        "< 20 ms",
        v["max_s"] < 0.020,
    )
    c = res["cli"]
    if "complaintflow_help" in c:
        x = c["complaintflow_help"]["median_s"]
        add("`complaintflow --help` cold", ms(x), "< 300 ms", x < 0.300)
    return out


def report(res: dict[str, Any]) -> str:
    f, t = res["facts"], res["throughput"]
    lines = [
        "# complaintflow benchmark",
        "",
        f"machine: {f['cpu']}, {f['cores']} cores, {f['memory_gib']} GiB; load average at start "
        f"{f['load_average_at_start']}",
        f"complaintflow commit: {f['commit']}",
        f"software: Python {f['python']}, SQLite {f['sqlite']}, "
        + ", ".join(f"{k} {v}" for k, v in f["libraries"].items()),
        f"SQLite files: {f['db_dir']} on {f['db_filesystem']}; journal_mode=WAL, one BEGIN IMMEDIATE "
        "... COMMIT per start/action",
        f"sizes: {res['args']['reps']} repetitions; cases per repetition: in-memory {res['args']['cases']}, "
        f"SpiffWorkflow {res['args']['spiff_cases']}, SQLite {res['args']['durable_cases']}; each case = "
        f"start + {w.ACTIONS_PER_CASE} actions (one re-dispatch loop)",
        "",
    ]

    base = t["cf_memory"]["act_median_s"]
    rows = []
    for _key, r in t.items():
        rows.append(
            [
                r["label"],
                r["durability"] or "-",
                f"{r['starts_per_s']:,.0f}",
                f"{r['actions_per_s']:,.0f}",
                us(r["act_median_s"]),
                f"{r['act_median_s'] / base:.2f}x",
            ]
        )
    lines += [
        "## Workload throughput (median of repetitions, wall clock)",
        "",
        table(["engine", "synchronous", "starts/s", "actions/s", "per action", "time vs cf memory"], rows),
        "",
    ]

    lines += [
        "## Targets (ratios: median over repetitions of the pair measured in the same repetition)",
        "",
        table(["target", "result", "wanted", "verdict"], targets(res)),
        "",
    ]

    fp = res["footprint"]
    lines += [
        "## Memory per open case",
        "",
        f"tracemalloc over {fp['cases']:,} cases (live bytes after gc / cases), RSS delta over "
        f"{fp['rss_cases']:,} cases:",
        "",
        table(
            ["moment", "tracemalloc", "RSS delta"],
            [
                ["just started (1 event)", f"{fp['started_bytes']:,.0f} B", f"{fp['rss_started_bytes']:,.0f} B"],
                [
                    f"mid-flow ({fp['events_mid_flow']} events)",
                    f"{fp['mid_flow_bytes']:,.0f} B",
                    f"{fp['rss_mid_flow_bytes']:,.0f} B",
                ],
                ["mid-flow, outbox acknowledged", f"{fp['mid_flow_drained_bytes']:,.0f} B", "-"],
                ["mid-flow, runtime state only (histories dropped)", f"{fp['runtime_state_bytes']:,.0f} B", "-"],
            ],
        ),
        "",
        "largest allocation sites, mid-flow (bytes per case):",
        "",
    ]
    lines += [f"    {s['bytes_per_case']:8,.0f}  {s['site']}" for s in fp["top_sites_mid_flow"][:8]] + [""]

    if "tick" in res:
        k = res["tick"]
        rows = []
        for store, sizes in [("memory", k["memory"])] + [
            (f"SQLite {s}", {key.split("_")[0]: v for key, v in k["sqlite"].items() if key.endswith(s)})
            for s in res["args"]["tick_durabilities"]
        ]:
            for size, m in sizes.items():
                rows.append(
                    [
                        store,
                        f"{int(size):,}",
                        ms(m["idle_median_s"]),
                        f"{m['due_timers'][0]:,}",
                        ms(m["due_median_s"]),
                        us(m["per_due_timer_s"]),
                    ]
                )
        lines += [
            "## tick",
            "",
            "open cases written straight into the store (see bench/tick.py); build times "
            + ", ".join(f"{name} {sec:.1f} s" for name, sec in k["build"].items()),
            "",
            table(["store", "open cases", "tick, none due", "due timers", "tick, 1% due", "per due timer"], rows),
            "",
        ]

    v = res["validation"]
    lines += [
        "## Validation and CLI",
        "",
        f"check_file warm, median over {len(v['per_file_s'])} files: {ms(v['median_s'])}; slowest "
        f"{v['slowest']} {ms(v['max_s'])}",
        "",
    ]
    for _name, c in res["cli"].items():
        lines.append(f"- `{c['command'].replace(str(w.REPO_DIR) + '/', '')}`: median {ms(c['median_s'])}")
    lines += ["", f"run took {res['elapsed_s']:.0f} s"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="complaintflow-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    durabilities = tuple(s.strip().upper() for s in args.tick_durability.split(",") if s.strip())
    res: dict[str, Any] = {
        "args": {
            **{k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "tick_durabilities": durabilities,
        }
    }
    res["facts"] = facts.collect(workdir)
    log(f"benchmark: {res['facts']['cpu']}, {res['facts']['cores']} cores; SQLite files in {workdir}")
    log("workload on every peer ...")
    res["throughput"] = throughput(args, workdir)
    log("validation ...")
    res["validation"] = tooling.validation(args.reps * 3)
    log("CLI cold start ...")
    res["cli"] = tooling.cli_start(max(args.reps, 5) + 2)
    log("memory per open case ...")
    res["footprint"] = footprint(args.footprint_cases)
    if not args.skip_tick:
        log(f"tick with {args.open_cases:,} open cases ...")
        res["tick"] = tick.run(args.open_cases, args.reps, durabilities, workdir, log)
    res["elapsed_s"] = time.perf_counter() - began
    res["targets"] = [dict(zip(("target", "result", "wanted", "verdict"), row, strict=False)) for row in targets(res)]
    text = report(res)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, ensure_ascii=False, default=str))
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
