"""``complaintflow serve --workers N``: N service processes on one listening socket, kept running.

One service process runs its Python on one core whatever the machine has (BENCHMARKS.md: about 2 ms of
held GIL a request). Several processes on one store are already safe: the scheduler's claims, the
notifier's leases and the revision checks keep them from firing or sending anything twice, as with two
``serve`` started by hand. So the parent binds the socket, forks N workers that each build the whole
service (HTTP API, scheduler, notifier) and accept on the socket they inherited, and then only watches them:

- a worker that dies (a crash, a kill -9, the out-of-memory killer) is started again; one that dies within
  ``settle`` seconds of its start counts as a failure to start, and after ``max_failures`` of those in a row
  the parent stops the rest and exits 1, rather than restart a broken configuration for ever;
- SIGTERM or SIGINT to the parent is passed to every worker as SIGTERM (each stops accepting, finishes what
  is in flight and exits 0); the parent exits 0 once they have all gone.

The parent holds no store connection and runs no thread when it forks (SQLite's and libpq's connections do
not survive a fork). Time and waiting come in as arguments, like everything below cli.py.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("complaintflow.serve")


@dataclass
class Supervisor:
    count: int
    run_worker: Callable[[int], int]  # the worker's whole life in the child (its number): its exit code
    now: Callable[[], float]
    sleep: Callable[[float], None]
    announce: Callable[[str], None]
    settle: float = 5.0  # seconds a worker must live to count as started
    max_failures: int = 5
    children: dict[int, tuple[int, float]] = field(default_factory=dict)  # pid -> (worker number, started at)
    stopping: bool = False

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        failures, code = 0, 0
        try:
            for number in range(self.count):
                self._spawn(number)
            self.announce(f"complaintflow serve: {self.count} workers (pids {', '.join(map(str, self.children))})")
            while self.children:
                pid, status = os.wait()  # PEP 475: a signal runs ``_stop`` and the wait goes on
                if pid not in self.children:
                    continue
                number, started = self.children.pop(pid)
                if self.stopping:
                    continue  # asked to stop, or given up: collect the rest
                failures = failures + 1 if self.now() - started < self.settle else 0
                ended = f"complaintflow serve: worker {number} (pid {pid}) {_ended(status)}"
                if failures >= self.max_failures:
                    self.announce(f"{ended}; workers keep dying at start ({failures} in a row): stopping")
                    code = 1
                    self._stop()
                    continue
                self.announce(f"{ended}; starting it again")
                self.sleep(min(2.0**failures - 1, 30.0))  # none after one death, longer after each failed start
                if not self.stopping:
                    self._spawn(number)
            return code
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _spawn(self, number: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker: it must never return into the parent's code
            code = 1
            try:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)  # until its web server takes them over
                code = self.run_worker(number)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                log.exception("worker %d failed", number)
            finally:
                os._exit(code)
        self.children[pid] = (number, self.now())

    def _stop(self, *_: object) -> None:
        self.stopping = True
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass  # it has just ended; the wait collects it


def _ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"
