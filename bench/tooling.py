"""The author-facing costs: validating a process file, and starting the CLI."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import workload as w


def validation(reps: int) -> dict[str, Any]:
    """``check_file`` per process file, warm (each file checked once first), median of ``reps`` calls."""
    from complaintflow.language.check import check_file

    files = sorted((w.REPO_DIR / "processes").glob("*.yaml")) + [w.PROCESS_YAML]
    per_file: dict[str, float] = {}
    for path in files:
        process, _ = check_file(path)
        assert process is not None, f"{path} does not validate"
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            check_file(path)
            times.append(time.perf_counter() - t)
        per_file[path.name] = statistics.median(times)
    slowest = max(per_file, key=per_file.__getitem__)
    return {
        "per_file_s": per_file,
        "median_s": statistics.median(per_file.values()),
        "max_s": per_file[slowest],
        "slowest": slowest,
        "sizes": {p.name: p.stat().st_size for p in files},
    }


def _wall(cmd: list[str], reps: int) -> dict[str, Any]:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        done = subprocess.run(cmd, cwd=w.REPO_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
        assert done.returncode == 0, cmd
    return {"command": " ".join(cmd), "runs_s": times, "median_s": statistics.median(times)}


def cli_start(reps: int) -> dict[str, Any]:
    """Wall time of a new process per run (the OS file cache is warm after the first)."""
    python = sys.executable
    script = Path(python).parent / "complaintflow"
    if not script.exists():
        found = shutil.which("complaintflow")
        script = Path(found) if found else script
    out = {"python_only": _wall([python, "-c", "pass"], reps), "cli_py_help": _wall([python, "cli.py", "--help"], reps)}
    if script.exists():
        out["complaintflow_help"] = _wall([str(script), "--help"], reps)
    return out
