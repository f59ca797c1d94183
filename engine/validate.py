"""Check any file a process owner keeps beside their processes: a process or a scenario.

``validate`` is given folders that hold both kinds. A file whose top level names ``scenario:``
and no ``process:`` is checked as a scenario (schemas/scenario.schema.json), everything else as a
process, so a scenario is never reported as a broken process.
"""

from __future__ import annotations

from pathlib import Path

from .language.check import check_file
from .language.diagnostics import Diagnostic
from .language.loader import MAX_BYTES, has_top_level_key, load_bytes


def is_scenario(path: Path) -> bool:
    """Whether the file's top-level mapping names a scenario rather than a process."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:  # check_file reports these; never read them
            return False
        raw = path.read_bytes()
    except OSError:
        return False
    if has_top_level_key(raw, "process"):  # a process file says so first: no need to read it all here
        return False
    data = load_bytes(raw, str(path), lazy_positions=True).data
    return isinstance(data, dict) and "scenario" in data and "process" not in data


def check_any(path: Path, *, now: int | None = None, horizon_days: int = 45) -> tuple[str, list[Diagnostic]]:
    """``("process" | "scenario", every problem found)`` for one file; with ``now``, a process's calendars
    also warn when their published holiday data ends within ``horizon_days``."""
    if is_scenario(path):
        from .simulate.scenario import ScenarioError, load_scenario

        try:
            load_scenario(path)
        except ScenarioError as exc:
            return "scenario", list(exc.diagnostics)
        return "scenario", []
    return "process", check_file(path, now=now, horizon_days=horizon_days)[1]
