"""Profile one benchmark path with py-spy and print where its time goes.

    .venv/bin/python bench/profile.py memory-act          # Engine.act on MemoryStore
    .venv/bin/python bench/profile.py sqlite-act --sync NORMAL
    .venv/bin/python bench/profile.py sqlite-act --sync FULL --idle   # --idle: count fsync waits too
    .venv/bin/python bench/profile.py tick-fire           # Engine.tick firing due timers, in memory
    .venv/bin/python bench/profile.py validate            # check_file over processes/*.yaml
    .venv/bin/python bench/profile.py start               # Engine.start on MemoryStore

py-spy (``pip install py-spy``) samples the scenario, run in a child process, at --rate Hz; the
samples whose stack passes through the scenario's root function are kept, and each function's
share of them is printed: inclusive (it or anything it called was running) and self (it was the
innermost frame). Multiply a share by the per-call time the child prints to get microseconds.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"

from . import workload as w  # noqa: E402

ROOTS = {
    "memory-act": "Engine.act",
    "sqlite-act": "Engine.act",
    "tick-fire": "Engine.tick",
    "validate": "check_file",
    "start": "Engine.start",
}


# -- the scenarios (run in the profiled child) ----------------------------------------------------


def _cases(make_store: Callable[[], Any], k: int, steps: int) -> tuple[float, int]:
    from complaintflow import Actor, Engine

    engine = Engine(make_store())
    spec = engine.load_process(w.PROCESS_YAML)
    actors = {"desk": Actor("wang", ("desk",)), "handler": Actor("li", ("handler",))}
    ids = [engine.start(spec, w.START_DATA, actors["desk"], at=w.START_AT).id for _ in range(k)]
    began = time.perf_counter()
    for s in range(steps):
        step = w.STEPS[s]
        for case_id in ids:
            engine.act(case_id, step.action, actors[step.role], step.inputs, at=w.step_at(s))
    return time.perf_counter() - began, k * steps


def scenario(name: str, sync: str, size: int) -> None:
    from complaintflow.store.memory import MemoryStore

    if name == "memory-act":
        took, n = _cases(MemoryStore, size, w.ACTIONS_PER_CASE)
    elif name == "sqlite-act":
        from complaintflow.store.sqlite import SQLiteStore

        path = Path(tempfile.mkdtemp()) / "profile.db"
        took, n = _cases(lambda: SQLiteStore(path, synchronous=sync), size, w.ACTIONS_PER_CASE)
    elif name == "start":
        from complaintflow import Actor, Engine

        engine = Engine(MemoryStore())
        spec = engine.load_process(w.PROCESS_YAML)
        desk = Actor("wang", ("desk",))
        began = time.perf_counter()
        for _ in range(size):
            engine.start(spec, w.START_DATA, desk, at=w.START_AT)
        took, n = time.perf_counter() - began, size
    elif name == "tick-fire":
        from . import tick

        t = tick.templates()
        engine = tick.build_memory(t, size * 100, 5)
        began = time.perf_counter()
        n = sum(len(engine.tick(tick.T0 + r)) // 2 for r in range(5))
        took = time.perf_counter() - began
    elif name == "validate":
        from complaintflow.language.check import check_file

        files = sorted((w.REPO_DIR / "processes").glob("*.yaml"))
        for path in files:
            check_file(path)
        began = time.perf_counter()
        rounds = max(1, size // 100)
        for _ in range(rounds):
            for path in files:
                check_file(path)
        took, n = time.perf_counter() - began, rounds * len(files)
    else:
        raise SystemExit(f"unknown scenario {name!r}; one of {', '.join(ROOTS)}")
    print(f"{name}: {n:,} calls, {took / n * 1e6:.1f} µs per call (under the profiler)", flush=True)


# -- aggregation -------------------------------------------------------------------------------------

_FRAME = re.compile(r"^(?P<fn>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _short(frame: str) -> str:
    m = _FRAME.match(frame)
    if not m:
        return frame
    path = m["file"]
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{m['fn']} ({path})"


# Components, checked in this order: a sample counts for the first one any frame of its stack matches.
COMPONENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("SQLite COMMIT (WAL write, fsync, checkpoints)", ("_Transaction.__exit__",)),
    ("JSON encode/decode of store rows", ("_case (engine/store", "dumps (engine/canonical", "loads (engine/canonical")),
    ("other SQLite statements", ("SQLiteStore.",)),
    ("event encoding and hash (orjson + sha256)", ("encode_event", "event_hash")),
    ("state step (CompiledProcess.move)", ("CompiledProcess.move",)),
    ("dataclass construction / replace", ("replace (dataclasses", "__create_fn__")),
    ("fold", ("fold (engine",)),
    (
        "clocks, timers, calendar",
        ("start_clock", "desired_timers", "earliest_due", "BusinessCalendar", "resume (", "pause ("),
    ),
    ("MemoryStore", ("MemoryStore.",)),
    ("guard and input checks", ("Guard.", "check_values")),
    ("YAML loading (PyYAML with libyaml)", ("load_bytes", "yaml/")),
    ("JSON-schema validation (jsonschema-rs, jsonschema to explain)", ("check_schema",)),
    ("building the spec", ("build_process",)),
    ("semantic rules", ("run_rules",)),
    ("diagnostics sorting", ("sort_unique",)),
)


def _samples(raw: Path, root: str) -> Iterator[tuple[list[str], int]]:
    """Each collapsed stack that passes through ``root``: its frames from ``root`` down, and its count."""
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [_short(f) for f in stack.split(";")]
        at = next((i for i, f in enumerate(frames) if f.split(" (")[0].endswith(root)), None)
        if at is not None:
            yield frames[at:], int(count)


def components(raw: Path, root: str) -> str:
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for frames, count in _samples(raw, root):
        below = frames[1:]
        name = next(
            (label for label, marks in COMPONENTS if any(m in f for f in below for m in marks)),
            f"{root} itself and the rest",
        )
        counts[name] += count
        total += count
    lines = [" share  component (each sample counted once)"]
    lines += [f"{100 * c / total:6.1f}  {name}" for name, c in counts.most_common()]
    return "\n".join(lines)


def aggregate(raw: Path, root: str, top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for frames, n in _samples(raw, root):
        total += n
        for f in set(frames):
            inclusive[f] += n
        own[frames[-1]] += n
    if not total:
        return f"no samples passed through {root}"
    lines = [f"{total:,} samples under {root}", "", " incl%   self%  function (file)"]
    for f, c in inclusive.most_common(top):
        lines.append(f"{100 * c / total:6.1f}  {100 * own[f] / total:6.1f}  {f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", choices=sorted(ROOTS))
    p.add_argument("--sync", default="NORMAL", help="SQLite synchronous setting for sqlite-act")
    p.add_argument("--size", type=int, default=4000, help="cases (or validate rounds x 100)")
    p.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    p.add_argument("--top", type=int, default=40)
    p.add_argument(
        "--idle",
        action="store_true",
        help="keep samples blocked in system calls (fsync): needed to see waits on the disk",
    )
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.inner:
        scenario(args.scenario, args.sync.upper(), args.size)
        return 0
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    raw = Path(tempfile.mkdtemp()) / "samples.txt"
    cmd = [
        spy,
        "record",
        "-r",
        str(args.rate),
        "-f",
        "raw",
        "-o",
        str(raw),
        *(["--idle"] if args.idle else []),
        "--",
        sys.executable,
        str(Path(__file__).resolve()),
        args.scenario,
        "--inner",
        "--sync",
        args.sync,
        "--size",
        str(args.size),
    ]
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    print(aggregate(raw, ROOTS[args.scenario], args.top))
    print()
    print(components(raw, ROOTS[args.scenario]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
