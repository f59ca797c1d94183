"""Processes writing one SQLite store take turns on a lock file, so a waiting writer wakes when the lock frees.

SQLite keeps writers of several processes apart by itself (``BEGIN IMMEDIATE`` waits for the file's write
lock), but its wait is a sleep loop (1, 2, 5, 10, 15, 20, 25 ... ms between tries): with several ``serve
--workers`` on one file, a writer often sleeps well past the moment the other's commit ended, and that is
the long tail of request latency (BENCHMARKS.md). Here each write transaction first takes an exclusive
``flock`` on a file beside the store (``STORE-writer``, made on the first write), held until its COMMIT or
ROLLBACK: the kernel queues the waiters and wakes one as soon as the lock is released. SQLite's own locking
still decides everything (this lock only orders the waiting), so a process that does not take it (an older
complaintflow, the sqlite3 shell) is still kept apart as before, and a process that dies holding the lock
releases it with its last descriptor.

A separate file because closing any descriptor of the database file would drop the POSIX locks SQLite
holds on it in this process.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any


class WriterTurns:
    def __init__(self, store_path: str) -> None:
        self.path = store_path + "-writer"
        self._fd: int | None = None
        self._held = False

    def around(self, execute: Callable[[str], Any]) -> Callable[[str], Any]:
        """``execute`` of transaction control (the serializer's), taking the turn before BEGIN and giving it
        back after COMMIT or ROLLBACK, whatever their outcome."""

        def run(statement: str) -> Any:
            if statement.startswith("BEGIN"):
                self._take()
                try:
                    return execute(statement)
                except BaseException:
                    self._give_back()
                    raise
            if statement in ("COMMIT", "ROLLBACK"):
                try:
                    return execute(statement)
                finally:
                    self._give_back()
            return execute(statement)

        return run

    def _take(self) -> None:
        import fcntl  # POSIX only: here, not at the top, so the store still imports where it is missing

        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._held = True

    def _give_back(self) -> None:
        import fcntl

        if self._held and self._fd is not None:
            self._held = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            self._give_back()
            os.close(self._fd)
            self._fd = None
