"""A few database connections lent to reads that run outside a change, so they do not queue behind writes.

The PostgreSQL store holds one connection for its changes, which its threads take in turn (group.py); a read
that took its turn there waited for every change queued before it and for their group's commit. A read of
committed data needs none of that: it borrows one of these connections (opened on first need, at most
``size`` of them per store, so a service keeps well inside the server's ``max_connections``), runs, and gives
it back. When all are lent, or one cannot be opened, the read goes the old way, on the change connection, so a
burst of reads never fails for want of a connection and a database that is down is reported as before.

No database library here: the store passes in how to open a connection, and a lent connection only needs
``closed``, ``broken`` and ``close()`` (psycopg's connection has them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class Connection(Protocol):
    @property
    def closed(self) -> bool: ...
    @property
    def broken(self) -> bool: ...
    def close(self) -> None: ...


C = TypeVar("C", bound=Connection)

READERS = 4  # connections per store for reads beside the changes (PostgreSQL's default max_connections is 100)


class ReadPool(Generic[C]):
    def __init__(self, open_connection: Callable[[], C], size: int = READERS) -> None:
        self._open = open_connection
        self.size = size
        self._idle: list[C] = []
        self._lent = 0
        self._closed = False
        self._lock = threading.Lock()

    def borrow(self) -> C | None:
        """An idle connection, or a new one while fewer than ``size`` are open; None when none is to be had."""
        with self._lock:
            if self._closed:
                return None
            while self._idle:
                conn = self._idle.pop()
                if not (conn.closed or conn.broken):
                    self._lent += 1
                    return conn
                conn.close()  # the server dropped it while it was idle
            if self._lent >= self.size:
                return None
            self._lent += 1
        try:
            return self._open()
        except Exception:
            with self._lock:
                self._lent -= 1
            return None  # the read goes on the change connection, which reports why the database is away

    def give_back(self, conn: C) -> None:
        with self._lock:
            self._lent -= 1
            if self._closed or conn.closed or conn.broken:
                conn.close()
            else:
                self._idle.append(conn)

    def close(self) -> None:
        """Close the idle connections; one lent now is closed when it comes back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
