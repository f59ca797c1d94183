"""``complaintflow serve --workers N``: N forked service processes answer on one address; one killed with
SIGKILL is started again while the others go on answering; SIGTERM to the parent stops them all, exit 0.
The supervisor gives up, exit 1, on workers that keep dying as they start (a fake clock, no waiting)."""

from __future__ import annotations

import os
import re
import signal

import pytest
from click.testing import CliRunner

import cli
from complaintflow.service.workers import Supervisor

from .serving import eventually, serving
from .test_serve import CASE, _user


def _workers(served) -> set[int]:
    """The parent's live child processes (Linux: /proc/PID/task/*/children)."""
    pids: set[int] = set()
    for task in os.listdir(f"/proc/{served.process.pid}/task"):
        with open(f"/proc/{served.process.pid}/task/{task}/children", encoding="ascii") as f:
            pids |= {int(p) for p in f.read().split()}
    return pids


def test_workers_share_the_address_and_one_killed_is_started_again(tmp_path):
    with serving(tmp_path, extra=["--workers", "2"]) as served:
        line = eventually(lambda: next((s for s in served.lines if " 2 workers (pids " in s), None), "the workers")
        first = {int(p) for p in re.findall(r"\d+", line.split("pids", 1)[1])}
        assert _workers(served) == first and len(first) == 2
        token = _user(served, "wang", ["receiver"])
        opened = []
        for _ in range(6):  # a new connection each time: the kernel hands them to either worker
            with served.client(token) as http:
                answer = http.post("/v1/cases", json=CASE)
                assert answer.status_code == 201, answer.text
                opened.append(answer.json()["id"])

        assert served.db.with_name("desk.db-writer").exists()  # the workers' writers take turns on it
        for _ in range(4):  # whichever worker answers a scrape counts every worker's starts
            with served.client() as http:
                assert 'complaintflow_actions_total{kind="start"} 6.0' in http.get("/metrics").text
        killed = min(first)
        os.kill(killed, signal.SIGKILL)
        eventually(lambda: len(_workers(served)) == 2 and killed not in _workers(served), "a new worker")
        assert any(f"(pid {killed}) was killed by SIGKILL; starting it again" in s for s in served.lines)
        for case_id in opened:  # every case either worker opened is in the one store
            with served.client(token) as http:
                assert http.get(f"/v1/cases/{case_id}").status_code == 200
        children = _workers(served)
        assert served.stop() == 0
    for pid in children:
        assert not os.path.exists(f"/proc/{pid}") or "zombie" in _state(pid)


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        return next(line for line in f if line.startswith("State:")).lower()


def test_workers_that_keep_dying_as_they_start_stop_the_service_with_exit_1():
    said: list[str] = []
    waits: list[float] = []
    supervisor = Supervisor(
        2, run_worker=lambda number: 3, now=lambda: 0.0, sleep=waits.append, announce=said.append, max_failures=3
    )
    assert supervisor.run() == 1
    assert sum("exited with code 3; starting it again" in s for s in said) == 2
    assert said[-1].endswith("exited with code 3; workers keep dying at start (3 in a row): stopping")
    assert waits == [1.0, 3.0]  # longer after each failed start
    assert not supervisor.children  # every worker collected before the supervisor returns


@pytest.mark.parametrize("value", ["0", "65", "two"])
def test_a_bad_worker_count_is_refused_in_one_line(value, tmp_path):
    done = CliRunner().invoke(cli.main, ["serve", "--db", str(tmp_path / "d.db"), "--workers", value])
    assert done.exit_code == 2 and "--workers" in done.output
    assert not (tmp_path / "d.db").exists()
