"""Group commit: one database connection shared by threads, several threads' changes in one transaction.

A thread holds the connection for each read and for each whole change (``writing``: the reads, the
decision and the commit they lead to). A change that finds no transaction open begins one; a change that
finds one left open by the threads before it joins it inside its own SAVEPOINT, so when it fails only its
own writes roll back and only its caller sees the error. When a change ends and no other thread is queued
for the connection (or the group is full), that thread commits the group; the others of the group wait,
without the connection, until it has, so every caller returns only once its change is committed (durable
at the connection's ``synchronous`` level). One caller alone therefore commits at once, as without groups;
a queue of callers shares one commit, and the fsync it costs, between them. A read never sees a group that
is still open: the reader commits it first. Knows only SQL, so it takes the connection's ``execute``.

A batch (``batch``) is one thread's many changes in one transaction: the scheduler fires a round of due
cases so, one SAVEPOINT each, and commits once at the end (one fsync for the round, however few threads
are queued). Inside a batch a change does not wait for its commit; the batch does, and raises when the
commit failed, so nothing of a failed batch is reported as done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

from .base import StoreError, StoreUnavailableError

MAX_GROUP = 64  # changes per transaction: bounds how long another process waits for the file


def _not_committed(what: str, error: BaseException) -> StoreError:
    """Why a change or batch is not saved; a lost database stays retry-able (StoreUnavailableError)."""
    kind = StoreUnavailableError if isinstance(error, StoreUnavailableError) else StoreError
    failed = kind(f"{what} was not committed ({error})")
    failed.__cause__ = error
    return failed


class _Group:
    """The changes that will commit in one transaction, and how that commit went."""

    __slots__ = ("size", "finished", "error", "_gate")

    def __init__(self) -> None:
        self.size = 0
        self.finished = False
        self.error: BaseException | None = None
        self._gate: threading.Lock | None = None  # made, held, only once a change must wait for the commit

    def hold(self) -> None:
        """Called with the serializer's lock held, by a change that leaves the commit to a later one."""
        if self._gate is None:
            self._gate = threading.Lock()
            self._gate.acquire()

    def finish(self, error: BaseException | None = None) -> None:
        self.error, self.finished = error, True
        if self._gate is not None:
            self._gate.release()

    def wait(self) -> None:
        if not self.finished:
            assert self._gate is not None
            with self._gate:  # each waiter passes through once the commit released it
                pass
        if self.error is not None:
            raise _not_committed("the change", self.error)


class Serializer:
    """Hands the connection to one thread at a time, and groups the write transactions of queued threads."""

    def __init__(
        self,
        execute: Callable[[str], Any],
        *,
        group_commit: bool = True,
        max_group: int = MAX_GROUP,
        committed: Callable[[], None] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self._execute = execute
        self._max_group = max_group if group_commit else 1
        self._committed = committed  # told after each transaction that committed
        self._queued = 0  # threads waiting for the lock now
        self._queue_lock = threading.Lock()
        self._group: _Group | None = None  # the transaction open now, if any
        self._depth = 0  # nested ``writing`` blocks the lock holder is inside
        self._failed = False  # something raised inside the holder's change
        self._in_savepoint = False  # the holder's change joined a group (else it began the transaction)
        self._batching = 0  # nested ``batch`` blocks the lock holder is inside
        self._batch_lost: BaseException | None = None  # why changes already made in the batch were rolled back
        self._reading = _Reading(self)

    def holding(self) -> bool:
        """Whether the calling thread holds the connection now (inside a change, a batch or a read)."""
        return bool(cast(Any, self.lock)._is_owned())

    def writing(self) -> _Change:
        """One change: a write transaction of its own, or a SAVEPOINT in the open group. Nested uses join
        it; an exception anywhere inside rolls the whole change back, and only it."""
        return _Change(self)

    def batch(self) -> _Batch:
        """Many changes of this thread in one transaction, committed when the block ends."""
        return _Batch(self)

    def reading(self) -> _Reading:
        """The connection for a read of committed data (inside a change: of the change's own view)."""
        return self._reading

    # -- the lock holder's steps ------------------------------------------------------------
    def _acquire(self) -> None:
        if self.lock.acquire(blocking=False):
            return
        with self._queue_lock:  # counted, so the holder leaves the group open for this thread
            self._queued += 1
        self.lock.acquire()
        with self._queue_lock:
            self._queued -= 1

    def _begin(self) -> None:
        self._failed = False
        if self._group is None:
            self._execute("BEGIN IMMEDIATE")
            self._group = _Group()
            self._in_savepoint = False
        else:
            try:
                self._execute("SAVEPOINT change")
            except Exception as exc:
                self._abort(exc)
                raise
            self._in_savepoint = True

    def _end(self) -> _Group | None:
        """Closes the holder's change; returns the group to wait for, or None when the change rolled back."""
        group = self._group
        assert group is not None
        if self._failed:
            if not self._in_savepoint:  # it began the transaction, so nothing else is in it
                self._group = None
                self._rollback_quietly()  # SQLite may have rolled back already: the caller's error stands
                return None
            try:
                self._execute("ROLLBACK TO change")
                self._execute("RELEASE change")
            except Exception as exc:
                self._abort(exc)
                return None
            if group.size and not self._queued and not self._batching:
                self._commit_group()
            return None
        if self._in_savepoint:
            try:
                self._execute("RELEASE change")
            except Exception as exc:
                self._abort(exc)
                return group
        group.size += 1
        if self._batching:
            return None  # the batch commits the group when it ends
        if group.size >= self._max_group or not self._queued:
            self._commit_group()
        else:
            group.hold()
        return group

    def _settle(self) -> None:
        """Commit the open group, if any: called by a holder that will not join it."""
        if self._depth == 0 and self._group is not None and not self._batching:
            self._commit_group()

    def _commit_group(self) -> None:
        group, self._group = self._group, None
        assert group is not None
        try:
            self._execute("COMMIT")
        except Exception as exc:
            self._rollback_quietly()
            group.finish(exc)
            return
        group.finish()  # first: the waiters' changes are durable whatever the callback does
        if self._committed is not None:
            self._committed()

    def _abort(self, exc: BaseException) -> None:
        """The open transaction cannot go on: roll it all back and tell every change in it."""
        group, self._group = self._group, None
        self._rollback_quietly()
        if group is not None:
            group.finish(exc)
            if self._batching and group.size:
                self._batch_lost = exc

    def _rollback_quietly(self) -> None:
        try:
            self._execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - SQLite may have rolled back already; nothing is left to undo
            pass


class _Change:
    __slots__ = ("serializer",)

    def __init__(self, serializer: Serializer) -> None:
        self.serializer = serializer

    def __enter__(self) -> None:
        s = self.serializer
        s._acquire()  # held until __exit__, across the reads and the commit of the change
        if s._depth == 0:
            try:
                s._begin()
            except BaseException:
                s.lock.release()
                raise
        s._depth += 1

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        s = self.serializer
        s._depth -= 1
        if kind is not None:
            s._failed = True
        if s._depth:
            s.lock.release()
            return
        try:
            group = s._end()
        finally:
            s.lock.release()
        if group is not None:
            group.wait()  # without the lock: the group's last change commits it


class _Batch:
    __slots__ = ("serializer",)

    def __init__(self, serializer: Serializer) -> None:
        self.serializer = serializer

    def __enter__(self) -> None:
        s = self.serializer
        s._acquire()  # held for the whole batch: no other thread's change lands inside it
        try:
            s._settle()  # a group left open by others commits first: the batch is a transaction of its own
        except BaseException:
            s.lock.release()
            raise
        if not s._batching:
            s._batch_lost = None
        s._batching += 1

    def __exit__(self, *exc: Any) -> None:
        s = self.serializer
        s._batching -= 1
        try:
            if s._batching or s._depth:
                return
            lost, s._batch_lost = s._batch_lost, None
            if s._group is not None:
                group = s._group
                s._commit_group()
                lost = lost or group.error
            if lost is not None:
                raise _not_committed("the batch", lost)
        finally:
            s.lock.release()


class _Reading:
    __slots__ = ("serializer",)

    def __init__(self, serializer: Serializer) -> None:
        self.serializer = serializer

    def __enter__(self) -> None:
        s = self.serializer
        s._acquire()
        try:
            s._settle()
        except BaseException:
            s.lock.release()
            raise

    def __exit__(self, *exc: Any) -> None:
        self.serializer.lock.release()
