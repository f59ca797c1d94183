"""The SQLite store: one file, WAL, one ``BEGIN IMMEDIATE`` transaction per commit.

Tables follow docs/architecture.md. Case rows carry a revision for optimistic
concurrency; events are append-only; timers are indexed by due time so a tick
reads only what is due. ``meta`` records the format version; older files are
upgraded in place, newer or foreign files are refused. The only home of sqlite3.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .base import (CaseQuery, CaseRecord, Commit, ConflictError, EventRecord, OutboxMessage, StoredProcess,
                   StoreError, TimerRecord, UnknownCaseError)

FORMAT_NAME = "complaintflow-store"
FORMAT_VERSION = 1

_SCHEMA_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE processes (hash TEXT PRIMARY KEY, id TEXT NOT NULL, version INTEGER NOT NULL, source BLOB NOT NULL);
CREATE TABLE cases (
  id TEXT PRIMARY KEY, process_id TEXT NOT NULL, process_hash TEXT NOT NULL REFERENCES processes(hash),
  state TEXT NOT NULL, branches TEXT NOT NULL, data TEXT NOT NULL, owner_role TEXT, clocks TEXT NOT NULL,
  revision INTEGER NOT NULL, opened_at INTEGER NOT NULL, closed_at INTEGER, last_at INTEGER NOT NULL,
  last_hash TEXT NOT NULL, last_seq INTEGER NOT NULL);
CREATE INDEX cases_process_state ON cases(process_id, state);
CREATE TABLE events (
  case_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
  kind TEXT NOT NULL, payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
  PRIMARY KEY (case_id, seq));
CREATE TABLE timers (
  case_id TEXT NOT NULL, deadline TEXT NOT NULL, kind TEXT NOT NULL, step INTEGER NOT NULL,
  due_at INTEGER NOT NULL, armed_by_seq INTEGER NOT NULL, PRIMARY KEY (case_id, deadline, kind, step));
CREATE INDEX timers_due ON timers(due_at);
CREATE TABLE outbox (id TEXT PRIMARY KEY, case_id TEXT NOT NULL, at INTEGER NOT NULL, message TEXT NOT NULL);
"""

# Upgrade steps: UPGRADES[n] turns a format-n store into format n+1.
UPGRADES: dict[int, str] = {}

_CASE_COLUMNS = ("id, process_id, process_hash, state, branches, data, owner_role, clocks, revision, opened_at, "
                 "closed_at, last_at, last_hash, last_seq")


class SQLiteStore:
    def __init__(self, path: str | Path = "complaintflow.db", *, synchronous: str = "FULL"):
        self.path = str(path)
        if self.path != ":memory:":
            _refuse_foreign_file(Path(self.path))
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"PRAGMA synchronous={synchronous}")
            self._open()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a complaintflow store ({exc})") from None

    # -- format ------------------------------------------------------------------
    def _open(self) -> None:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            with self._write():
                self._run_script(_SCHEMA_V1)
                self.db.executemany("INSERT INTO meta VALUES (?, ?)",
                                    [("format", FORMAT_NAME), ("format_version", str(FORMAT_VERSION))])
            return
        if "meta" not in tables:
            raise StoreError(f"{self.path} is an SQLite file but not a complaintflow store")
        meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("format") != FORMAT_NAME:
            raise StoreError(f"{self.path} is an SQLite file but not a complaintflow store")
        version = int(meta.get("format_version", "0"))
        if version > FORMAT_VERSION:
            raise StoreError(f"{self.path} has store format {version}, newer than this complaintflow "
                             f"understands ({FORMAT_VERSION}); upgrade complaintflow")
        while version < FORMAT_VERSION:
            with self._write():
                self._run_script(UPGRADES[version])
                version += 1
                self.db.execute("UPDATE meta SET value=? WHERE key='format_version'", (str(version),))

    def _run_script(self, script: str) -> None:
        """Statements one by one inside the caller's transaction (executescript would commit first)."""
        for statement in script.split(";"):
            if statement.strip():
                self.db.execute(statement)

    def _write(self) -> _Transaction:
        return _Transaction(self.db)

    # -- processes -----------------------------------------------------------------
    def save_process(self, process: StoredProcess) -> None:
        with self._write():
            self.db.execute("INSERT OR IGNORE INTO processes VALUES (?, ?, ?, ?)",
                            (process.content_hash, process.process_id, process.version, process.source))

    def process(self, content_hash: str) -> StoredProcess:
        row = self.db.execute("SELECT hash, id, version, source FROM processes WHERE hash=?", (content_hash,)).fetchone()
        if row is None:
            raise StoreError(f"process version {content_hash[:12]} is not in this store")
        return StoredProcess(row[0], row[1], row[2], bytes(row[3]))

    def processes(self) -> list[StoredProcess]:
        rows = self.db.execute("SELECT hash, id, version FROM processes ORDER BY id, version").fetchall()
        return [StoredProcess(*r) for r in rows]

    # -- cases and events ------------------------------------------------------------
    def case(self, case_id: str) -> CaseRecord:
        row = self.db.execute(f"SELECT {_CASE_COLUMNS} FROM cases WHERE id=?", (case_id,)).fetchone()
        if row is None:
            raise UnknownCaseError(case_id)
        return _case(row)

    def cases(self, query: CaseQuery) -> list[CaseRecord]:
        where, args = [], []
        for column, value in (("process_id", query.process_id), ("state", query.state),
                              ("owner_role", query.owner_role)):
            if value is not None:
                where.append(f"{column}=?")
                args.append(value)
        if query.open_only:
            where.append("closed_at IS NULL")
        sql = f"SELECT {_CASE_COLUMNS} FROM cases"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY opened_at, id LIMIT ?"
        return [_case(r) for r in self.db.execute(sql, (*args, query.limit))]

    def events(self, case_id: str) -> list[EventRecord]:
        rows = self.db.execute("SELECT case_id, seq, at, actor, role, kind, payload, prev_hash, hash FROM events "
                               "WHERE case_id=? ORDER BY seq", (case_id,)).fetchall()
        return [EventRecord(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7], r[8]) for r in rows]

    def commit(self, change: Commit) -> None:
        case = change.case
        with self._write():
            if change.fired_timer is not None:
                gone = self.db.execute("DELETE FROM timers WHERE case_id=? AND deadline=? AND kind=? AND step=?",
                                       change.fired_timer).rowcount
                if gone == 0:
                    raise ConflictError(f"timer {change.fired_timer} already fired")
            if case.revision == 1:
                try:
                    self.db.execute(f"INSERT INTO cases ({_CASE_COLUMNS}) VALUES ({', '.join('?' * 14)})", _row(case))
                except sqlite3.IntegrityError:
                    raise ConflictError(f"case {case.id!r} already exists") from None
            else:
                updated = self.db.execute(
                    "UPDATE cases SET state=?, branches=?, data=?, owner_role=?, clocks=?, revision=?, closed_at=?, "
                    "last_at=?, last_hash=?, last_seq=? WHERE id=? AND revision=?",
                    (case.state, _json(case.branches), _json(case.data), case.owner_role, _json(case.clocks),
                     case.revision, case.closed_at, case.last_at, case.last_hash, case.last_seq, case.id,
                     case.revision - 1)).rowcount
                if updated == 0:
                    raise ConflictError(f"case {case.id!r} was changed by someone else; reload it and try again")
            self.db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                [(e.case_id, e.seq, e.at, e.actor, e.role, e.kind, _json(e.payload), e.prev_hash,
                                  e.hash) for e in change.events])
            self.db.executemany("DELETE FROM timers WHERE case_id=? AND deadline=? AND kind=? AND step=?",
                                change.cancel_timers)
            self.db.executemany("INSERT OR REPLACE INTO timers VALUES (?, ?, ?, ?, ?, ?)",
                                [(t.case_id, t.deadline, t.kind, t.step, t.due_at, t.armed_by_seq)
                                 for t in change.add_timers])
            self.db.executemany("INSERT OR IGNORE INTO outbox VALUES (?, ?, ?, ?)",
                                [(m.id, m.case_id, m.at, _json(m.message)) for m in change.outbox])

    # -- timers and outbox -------------------------------------------------------------
    def due_timers(self, now: int, limit: int) -> list[TimerRecord]:
        rows = self.db.execute("SELECT case_id, deadline, kind, step, due_at, armed_by_seq FROM timers "
                               "WHERE due_at <= ? ORDER BY due_at, case_id LIMIT ?", (now, limit)).fetchall()
        return [TimerRecord(*r) for r in rows]

    def timers(self, case_id: str) -> list[TimerRecord]:
        rows = self.db.execute("SELECT case_id, deadline, kind, step, due_at, armed_by_seq FROM timers "
                               "WHERE case_id=? ORDER BY due_at", (case_id,)).fetchall()
        return [TimerRecord(*r) for r in rows]

    def outbox(self, after: str | None, limit: int) -> list[OutboxMessage]:
        rows = self.db.execute("SELECT id, case_id, at, message FROM outbox WHERE id > ? ORDER BY at, id LIMIT ?",
                               (after or "", limit)).fetchall()
        return [OutboxMessage(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def ack_outbox(self, ids: Sequence[str]) -> None:
        with self._write():
            self.db.executemany("DELETE FROM outbox WHERE id=?", [(i,) for i in ids])

    def close(self) -> None:
        self.db.close()


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _refuse_foreign_file(path: Path) -> None:
    """An existing file that is not SQLite at all gets a clear message before sqlite3 touches it."""
    if path.exists() and path.stat().st_size > 0:
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise StoreError(f"{path} is not a complaintflow store (not an SQLite file)")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _row(case: CaseRecord) -> tuple[Any, ...]:
    return (case.id, case.process_id, case.process_hash, case.state, _json(case.branches), _json(case.data),
            case.owner_role, _json(case.clocks), case.revision, case.opened_at, case.closed_at, case.last_at,
            case.last_hash, case.last_seq)


def _case(row: Sequence[Any]) -> CaseRecord:
    return CaseRecord(row[0], row[1], row[2], row[3], json.loads(row[4]), json.loads(row[5]), row[6],
                      json.loads(row[7]), row[8], row[9], row[10], row[11], row[12], row[13])
