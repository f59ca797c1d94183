"""What machine and software a result was measured on."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _filesystem(path: Path) -> str:
    """The mount (device and type) that holds ``path``: where the SQLite files live matters."""
    best = ("?", "?", "")
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            device, mount, kind = line.split()[:3]
            if str(path.resolve()).startswith(mount) and len(mount) >= len(best[2]):
                best = (device, kind, mount)
    except OSError:
        pass
    return f"{best[1]} ({best[0]} on {best[2]})"


def _git(repo: Path) -> str:
    """The commit measured, with '+changes' when the work tree differs from it (engine code may move)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "engine", "cli.py"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return head + ("+changes in engine/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def collect(workdir: Path) -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "commit": _git(Path(__file__).resolve().parent.parent),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in load],
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "db_dir": str(workdir),
        "db_filesystem": _filesystem(workdir),
        "libraries": {
            name: _version(name)
            for name in (
                "complaintflow",
                "transitions",
                "SpiffWorkflow",
                "lxml",
                "PyYAML",
                "jsonschema",
                "jsonschema-rs",
                "orjson",
                "pendulum",
                "click",
                "chinesecalendar",
            )
        },
    }
