"""``complaintflow worker``: the scheduler and the notifier without the API, several of them on one
PostgreSQL store, each deadline fired once. Real subprocesses with their clock read from a file."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path

import pytest
from helpers import MINI, at, ids
from service.serving import COMMAND, eventually

from complaintflow import Actor, Engine
from complaintflow.store.base import CaseQuery

DESK = Actor("wang", ("desk",))
DATA = {"customer_name": "张三", "severity": "general"}
CASES = 30


class Worker:
    def __init__(
        self, url: str, tmp_path: Path, clock: Path, *, config: Path | None = None, env: dict[str, str] | None = None
    ) -> None:
        processes = tmp_path / "processes"
        args = [*COMMAND, "worker", "--db", url]
        args += ["--processes", str(processes), "--clock-file", str(clock), "--log-format", "text"]
        args += ["--config", str(config)] if config is not None else []
        env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        self.process = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def _open_cases(url: str, process: Path) -> tuple[Engine, list[str]]:
    engine = Engine(url, new_case_id=ids())
    spec = engine.load_process(process)
    return engine, [engine.start(spec, DATA, DESK, at=at("2025-11-03 10:00") + 60 * n).id for n in range(CASES)]


@pytest.mark.parametrize("kind", ["postgres", "pgbouncer"])  # directly, and sharing PgBouncer's two connections
def test_two_workers_on_one_database_fire_every_deadline_once(kind, request, postgres_server, tmp_path):
    url = request.getfixturevalue(f"{kind}_url")
    (tmp_path / "processes").mkdir()
    process = tmp_path / "processes" / "mini.yaml"
    process.write_text(MINI, encoding="utf-8")
    engine, opened = _open_cases(url, process)
    # What one tick fires on an identical store is what the two workers together must fire.
    alone, same = _open_cases(postgres_server.new_store(), process)
    assert same == opened
    alone.tick(at("2025-11-03 18:00"))
    clock = tmp_path / "clock.txt"
    clock.write_text("2025-11-03 18:00", encoding="utf-8")
    workers = [Worker(url, tmp_path, clock) for _ in range(2)]
    try:
        for w in workers:
            eventually(lambda w=w: any("running the scheduler" in line for line in w.lines), "a worker to start", 60)

        def all_fired() -> bool:
            return all(c.next_due is None or c.next_due > at("2025-11-03 18:00") for c in engine.cases(CaseQuery()))

        eventually(all_fired, "every due deadline to be fired", 60)
    finally:
        codes = [w.stop() for w in workers]
    assert codes == [0, 0], [w.lines for w in workers]
    assert all(any("worker: stopped" in line for line in w.lines) for w in workers)
    for case_id in opened:
        history = [(e.seq, e.kind, e.at) for e in engine.history(case_id)]
        assert len(history) > 1 and history == [(e.seq, e.kind, e.at) for e in alone.history(case_id)], case_id
    assert engine.verify() == []
    engine.close()
    alone.close()


def test_a_worker_on_the_wall_clock_tells_time_by_the_databases(postgres_url, tmp_path):
    """Without a clock file a worker on PostgreSQL sets its clock by the database's (engine/service/skew.py)."""
    (tmp_path / "processes").mkdir()
    (tmp_path / "processes" / "mini.yaml").write_text(MINI, encoding="utf-8")
    args = [*COMMAND, "worker", "--db", postgres_url, "--processes", str(tmp_path / "processes")]
    process = subprocess.Popen(
        [*args, "--log-format", "text"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    lines: list[str] = []

    def read() -> None:
        assert process.stderr is not None
        lines.extend(line.rstrip("\n") for line in process.stderr)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        eventually(lambda: any("running the scheduler" in line for line in lines), "the worker to start", 60)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    reader.join(timeout=10)
    assert code == 0, lines
    clock = [line for line in lines if "clock" in line]
    assert len(clock) == 1 and "the service's clock follows the database's" in clock[0], lines  # no warning
