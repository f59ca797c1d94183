"""A real ``complaintflow serve`` in a subprocess on a free port, with its clock read from a file."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

# The installed command beside this interpreter (CI runs .venv/bin/python without .venv/bin on PATH).
_BESIDE = Path(sys.executable).parent / "complaintflow"
COMMAND = [str(_BESIDE) if _BESIDE.exists() else shutil.which("complaintflow") or "complaintflow"]


@dataclass
class Served:
    process: subprocess.Popen[str]
    base_url: str
    admin_token: str
    demo_token: str | None
    clock_file: Path
    db: Path
    lines: list[str] = field(default_factory=list)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=10)

    def set_clock(self, local_time: str) -> None:
        tmp = self.clock_file.with_suffix(".tmp")
        tmp.write_text(local_time, encoding="utf-8")
        tmp.replace(self.clock_file)  # atomic: the service never reads half a time

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=30)


def eventually(check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    """Poll a running service for an effect of its own loops (the clock is fake; this only waits for the
    subprocess to get round to it), failing with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def serving(
    tmp_path: Path,
    *,
    start: str = "2025-09-29 10:00",
    demo: bool = False,
    config: str | None = None,
    db: Path | None = None,
    extra: list[str] | None = None,
    env: dict[str, str] | None = None,
    wall_clock: bool = False,
    clock_file: Path | None = None,
) -> Iterator[Served]:
    """``wall_clock``: the service reads the real clock (benchmarks), not the clock file the tests drive.
    ``clock_file``: a clock file several processes share (already written; ``start`` is then not used)."""
    clock = clock_file or tmp_path / "clock.txt"
    if clock_file is None:
        clock.write_text(start, encoding="utf-8")
    db = db or tmp_path / "desk.db"
    args = [*COMMAND, "serve", "--db", str(db), "--port", "0"]
    if not wall_clock:
        args += ["--clock-file", str(clock)]
    if demo:
        args.append("--demo")
    if config is not None:
        cfg = tmp_path / "serve.yaml"
        cfg.write_text(config, encoding="utf-8")
        args += ["--config", str(cfg)]
    args += extra or []
    environment = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    proc = subprocess.Popen(
        args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=environment, cwd=tmp_path
    )
    lines: list[str] = []
    found: dict[str, str] = {}
    ready = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))
            for key, pattern in (
                ("admin", r"admin token .*: (cft_\w+)"),
                ("demo", r"demo user token .*: (cft_\w+)"),
                ("url", r"listening on (http://\S+)"),
            ):
                m = re.search(pattern, line)
                if m:
                    found[key] = m.group(1)
            if "url" in found:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    ready.wait(60)
    if "url" not in found:
        proc.kill()
        raise AssertionError("serve did not start:\n" + "\n".join(lines))
    served = Served(proc, found["url"], found.get("admin", ""), found.get("demo"), clock, db, lines)
    try:
        yield served
    finally:
        if proc.poll() is None:  # a clean stop, so a measuring run saves the service's coverage
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
