"""The lease clock and the place both directory backends are tested in (the ``directory_place`` fixture of
tests/conftest.py): on SQLite the wall clock a notifier passes in, on PostgreSQL a one-row table standing in
for ``clock_timestamp()`` (the directory reads it with the same SQL)."""

from __future__ import annotations

from typing import Any

T0 = 1_000_000.0


class Clock:
    """The lease clock of one test: ``t`` for SQLite, and on PostgreSQL written where the directory reads it."""

    def __init__(self, write=None) -> None:
        self.t = T0
        self._write = write
        self.at(T0)

    def at(self, t: float) -> None:
        self.t = t
        if self._write is not None:
            self._write(t)


def postgres_clock(url: str) -> tuple[Clock, Any]:
    """The clock and the connection that writes it (the caller closes it)."""
    import psycopg

    conn = psycopg.connect(url, autocommit=True)
    conn.execute("CREATE TABLE IF NOT EXISTS test_clock (t DOUBLE PRECISION NOT NULL)")
    conn.execute("INSERT INTO test_clock SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM test_clock)")
    return Clock(lambda t: conn.execute("UPDATE test_clock SET t = %s", (t,))), conn
