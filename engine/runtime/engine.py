"""The engine: start cases, take actions, fire due deadlines, answer queries.

Each public call checks everything first and refuses with ``RefusedError``
before writing; then it decides the events, folds them into the new case
row and hands the whole change to the store as one transaction. Time is
always an argument (epoch seconds). One engine may serve many threads: the
store runs one call at a time, and compiled processes are cached for all.

An engine works for one tenant (engine/tenants.py, the default unless named): it files processes and opens
cases under it, and a case of another tenant is to it as if absent. ``for_tenant`` gives a view for another
tenant on the same store and cache. ``tick`` and ``verify`` of the whole store cover every tenant: one
scheduler serves them all, and an audit covers the whole store.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import arguments, calendar_data, canonical
from ..audit.rowcheck import row_problem
from ..errors import UnusableInputError
from ..language.check import load_process_bytes
from ..language.collector import collector_paused
from ..language.spec import Action, Duration, Process
from ..store.base import (
    CaseQuery,
    CaseRecord,
    Commit,
    ConflictError,
    EventRecord,
    Head,
    Store,
    StoredProcess,
    StoreError,
    StoreUnavailableError,
    UnknownCaseError,
)
from ..tenants import DEFAULT_TENANT, check_tenant
from .clocks import TimerRecord, desired_timers, is_late
from .decide import (
    SYSTEM_ACTOR,
    SYSTEM_ROLE,
    decide_action,
    decide_erase,
    decide_extend,
    decide_recompute,
    decide_start,
    decide_timer,
    source_of,
)
from .errors import MigrationRefusedError, RefusedError, StaleRevisionError
from .events import ChainProblem, personal_problems, verify_chain
from .fold import fold, replay
from .machine import CompiledProcess, compile_process
from .migrate import MigrationPlan, plan_migration
from .values import InputError

_NOT_YET = object()


@dataclass(frozen=True, slots=True)
class Actor:
    id: str
    roles: tuple[str, ...]


class Engine:
    def __init__(
        self,
        store: Store | str | Path = "complaintflow.db",
        *,
        new_case_id: Callable[[], str] | None = None,
        tenant: str = DEFAULT_TENANT,
    ):
        self.tenant = check_tenant(tenant)
        if isinstance(store, (str, Path)):  # an SQLite file, or a postgresql:// URL
            from ..store.open import open_store

            store = open_store(store)
        self.store: Store = store
        # Shared by every tenant's view: a text compiles the same whoever deployed it.
        self._compiled: dict[str, CompiledProcess] = {}
        self._deployed: set[tuple[str, str]] = set()  # (tenant, content hash) known to be filed
        self._new_case_id = new_case_id or (lambda: uuid.uuid4().hex[:12])
        self._recomputed_for: object = _NOT_YET  # the calendar data file the last recompute saw

    def for_tenant(self, tenant: str) -> Engine:
        """This engine as tenant ``tenant`` sees it: the same store and compiled processes (cheap to make)."""
        tenant = check_tenant(tenant)
        if tenant == self.tenant:
            return self
        view = copy.copy(self)  # shares the store, the cache and the deployments it knows
        view.tenant = tenant
        return view

    # -- processes ---------------------------------------------------------------------
    def load_process(self, source: str | Path | bytes, file: str | None = None) -> Process:
        """Check a process file and record its exact text in the store, so cases can pin to it."""
        raw = source if isinstance(source, bytes) else Path(source).read_bytes()
        spec = load_process_bytes(raw, file or (str(source) if not isinstance(source, bytes) else "<bytes>"))
        compiled = compile_process(spec)
        with self.store.writing():  # no other thread files the same id and version in between
            for known in self.store.processes(self.tenant):
                if (
                    known.process_id == spec.id
                    and known.version == spec.version
                    and known.content_hash != spec.content_hash
                ):
                    raise RefusedError(
                        f"process {spec.id!r} version {spec.version} is already in this store with "
                        "different content; raise 'version:' in the file when you change the rules"
                    )
            self.store.save_process(StoredProcess(spec.content_hash, spec.id, spec.version, raw, self.tenant))
        self._compiled.setdefault(spec.content_hash, compiled)
        self._deployed.add((self.tenant, spec.content_hash))
        return spec

    def processes(self) -> list[StoredProcess]:
        """The process versions filed under this engine's tenant, by id and version (without their text)."""
        return self.store.processes(self.tenant)

    def _is_deployed(self, content_hash: str) -> bool:
        """Whether this tenant filed that version (by this engine, or earlier: the store says)."""
        key = (self.tenant, content_hash)
        if key not in self._deployed and any(p.content_hash == content_hash for p in self.processes()):
            self._deployed.add(key)
        return key in self._deployed

    def compiled(self, content_hash: str) -> CompiledProcess:
        cp = self._compiled.get(content_hash)
        if cp is None:
            stored = self.store.process(content_hash)
            cp = compile_process(load_process_bytes(stored.source, f"{stored.process_id} (stored)"))
            # Threads share the cache: two may compile the same version at once, and all then use the first.
            cp = self._compiled.setdefault(content_hash, cp)
        return cp

    # -- cases ---------------------------------------------------------------------------
    def start(
        self, process: Process, data: Mapping[str, Any], actor: Actor, at: int, *, case_id: str | None = None
    ) -> CaseRecord:
        """Open a case; ``case_id`` chooses its id (an idempotent caller derives it from its key), and a
        store that already has that id refuses with ``ConflictError``."""
        data, at = arguments.fields(data, "data"), arguments.instant(at, "at")
        arguments.actor(actor)
        if case_id is not None:
            arguments.text(case_id, "case_id")
        content_hash = getattr(process, "content_hash", None)
        if not isinstance(content_hash, str) or not self._is_deployed(content_hash):
            raise RefusedError(
                f"process {getattr(process, 'id', process)!r} was not loaded by this engine; call load_process first"
            )
        cp = self.compiled(content_hash)
        try:
            events = decide_start(cp, case_id or self._new_case_id(), data, actor.id, actor.roles, at, self.tenant)
        except InputError as exc:
            raise RefusedError(str(exc)) from None
        return self._commit(None, events)

    def act(
        self,
        case_id: str,
        action: str,
        actor: Actor,
        inputs: Mapping[str, Any] | None = None,
        *,
        at: int,
        expected_revision: int | None = None,
    ) -> CaseRecord:
        """Take an action. ``expected_revision`` (a caller's ``If-Match``) is checked inside the write, so no
        change can land between the check and the action; a mismatch raises ``StaleRevisionError``."""
        case_id, action = arguments.text(case_id, "case_id"), arguments.text(action, "action")
        inputs, at = arguments.fields(inputs, "inputs"), arguments.instant(at, "at")
        arguments.actor(actor)
        with self.store.writing():  # what is read here cannot change before the commit
            case = self._case_to_change(case_id)
            if expected_revision is not None and case.revision != expected_revision:
                raise StaleRevisionError(case_id, case.revision, expected_revision)
            if at < case.last_at:
                raise RefusedError(f"case {case_id}: 'at' is earlier than its last event; history only moves forward")
            cp = self._runnable(case)
            events = self._decide(cp, case, action, actor, inputs, at)  # refuses before anything is written
            if case.next_due is None or case.next_due >= at:
                return self._commit(case, events)
        # A deadline ran out before this action: it is recorded first, then the action is decided again.
        self._fire_case_timers(case_id, at)
        with self.store.writing():
            case = self.store.case(case_id)
            events = self._decide(cp, case, action, actor, inputs, at)
            return self._commit(case, events)

    def extend(
        self,
        case_id: str,
        deadline: str,
        actor: Actor,
        *,
        at: int,
        reason: str,
        add: Duration | None = None,
        until: int | None = None,
    ) -> CaseRecord:
        """Give a running deadline more time (an added budget or a new due time), for a reason that is recorded."""
        self._case_or_refuse(case_id)
        self._fire_case_timers(case_id, at)  # what ran out before the extension is recorded first
        with self.store.writing():
            case = self._case_or_refuse(case_id)
            if at < case.last_at:
                raise RefusedError(f"case {case_id}: 'at' is earlier than its last event; history only moves forward")
            cp = self.compiled(case.process_hash)
            events = decide_extend(cp, case, deadline, actor.id, actor.roles, at, reason, add, until)
            return self._commit(case, events)

    def plan_migration(
        self, case_id: str, to: Process, *, at: int, state_map: Mapping[str, str] | None = None
    ) -> MigrationPlan:
        """What moving a case to the newer version ``to`` at ``at`` would do (the dry run); writes nothing, and
        ``to`` need not be in the store yet. A refused case is a plan whose ``refusals`` say why."""
        case, old, new = self._migration(case_id, to, arguments.instant(at, "at"), dict(state_map or {}))
        return plan_migration(old, new, case, dict(state_map or {}), at)

    def migrate(
        self,
        case_id: str,
        to: Process,
        *,
        at: int,
        state_map: Mapping[str, str] | None = None,
        expected_revision: int | None = None,
    ) -> MigrationPlan:
        """Move a running case to ``to`` (stored by ``load_process``) in one transaction: what ran out before
        ``at`` is fired on the old version, then one ``migrated`` event. Refused with ``MigrationRefusedError``
        (every reason named), or ``ConflictError`` when the case is no longer at ``expected_revision``."""
        at, mapping = arguments.instant(at, "at"), dict(state_map or {})
        if not self._is_deployed(to.content_hash):
            raise RefusedError(f"process {to.id!r} v{to.version} is not in this store; load it first")
        with self.store.writing():  # what is read here cannot change before the commit
            case, old, new = self._migration(case_id, to, at, mapping)
            if expected_revision is not None and case.revision != expected_revision:
                raise ConflictError(
                    f"case {case_id} changed since it was read (revision {case.revision}, not {expected_revision}); "
                    "look at it again and migrate it again"
                )
            plan = plan_migration(old, new, case, mapping, at)
            if plan.refused:
                raise MigrationRefusedError(case_id, to.version, plan.refusals)
            assert plan.row is not None
            self.store.commit(Commit(case=plan.row, events=plan.events, next_due_before=case.next_due))
            return plan

    def _migration(
        self, case_id: str, to: Process, at: int, state_map: dict[str, str]
    ) -> tuple[CaseRecord, CompiledProcess, CompiledProcess]:
        """The case and both compiled versions, after checking that ``to`` is a newer version of its process and
        that ``state_map`` names old states and new ones (each a one-line ``UnusableInputError``)."""
        arguments.text(case_id, "case_id")
        try:
            found = self._mine(self.store.case(case_id))
        except UnknownCaseError as exc:
            raise UnusableInputError(str(exc)) from None
        old = self._runnable(found)
        self.check_migration_target(old.spec, to, state_map)
        new = self._compiled.get(to.content_hash) or self._compiled.setdefault(to.content_hash, compile_process(to))
        case = self._case_to_change(case_id)
        if at < case.last_at:
            raise RefusedError(f"case {case_id}: 'at' is earlier than its last event; history only moves forward")
        return case, old, new

    def check_migration_target(self, old: Process, to: Process, state_map: Mapping[str, str]) -> None:
        """Refuse (exit 2) a target that is not a newer version of ``old``'s process, or a map naming unknown states."""
        if to.id != old.id:
            raise UnusableInputError(f"the new file is process {to.id!r}, but the case runs process {old.id!r}")
        if to.version <= old.version:
            raise UnusableInputError(
                f"process {to.id!r} v{to.version} is not newer than v{old.version}; raise 'version:' in the new file"
            )
        for known in self.processes():
            if known.process_id == to.id and known.version == to.version and known.content_hash != to.content_hash:
                raise UnusableInputError(
                    f"process {to.id!r} version {to.version} is already in this store with different content; "
                    "raise 'version:' in the file when you change the rules"
                )
        for before, after in state_map.items():
            if before not in old.states:
                raise UnusableInputError(f"--map {before}={after}: v{old.version} has no state {before!r}")
            if after not in to.states:
                raise UnusableInputError(f"--map {before}={after}: v{to.version} has no state {after!r}")

    def erase(self, case_id: str, actor: Actor, *, at: int, reason: str, fields: tuple[str, ...] = ()) -> CaseRecord:
        """Destroy a case's personal values (those of ``fields``, or every pii field) for a recorded reason.
        The history keeps its commitments, so it still verifies; the values are gone from the store."""
        case_id, at, reason = (
            arguments.text(case_id, "case_id"),
            arguments.instant(at, "at"),
            arguments.text(reason, "reason"),
        )
        arguments.actor(actor)
        with self.store.writing():
            case = self._case_to_change(case_id)
            if at < case.last_at:
                raise RefusedError(f"case {case_id}: 'at' is earlier than its last event; history only moves forward")
            cp = self.compiled(case.process_hash)
            role = actor.roles[0] if actor.roles else "admin"
            events = decide_erase(cp, case, self.store.events(case_id), tuple(fields), actor.id, role, at, reason)
            new = fold(case, events, revision=case.revision + 1)
            erased = frozenset(events[-1].payload["fields"])
            self.store.commit(Commit(case=new, events=events, next_due_before=case.next_due, erase_personal=erased))
            return new

    def _decide(
        self,
        cp: CompiledProcess,
        case: CaseRecord,
        action: str,
        actor: Actor,
        inputs: Mapping[str, Any] | None,
        at: int,
    ) -> list[EventRecord]:
        try:
            return decide_action(cp, case, action, actor.id, actor.roles, dict(inputs or {}), at)
        except InputError as exc:
            raise RefusedError(f"case {case.id}: {exc}") from None

    def available_actions(self, case_id: str, actor: Actor) -> list[Action]:
        case = self._case_or_refuse(case_id)
        cp = self.compiled(case.process_hash)
        out = []
        for action in cp.spec.actions.values():
            if source_of(cp, case, action) is None or not set(action.roles) & set(actor.roles):
                continue
            guard = cp.guards.get(action.id)
            # A guard that reads an input not given yet cannot be judged now: offer the action, act() checks it.
            awaiting_input = guard is not None and bool(guard.names & set(action.inputs) - set(case.data))
            if guard is None or awaiting_input or guard(case.data):
                out.append(action)
        return out

    def tick(
        self, now: int, *, batch: int = 256, rounds: int | None = None, refused: dict[str, str] | None = None
    ) -> list[EventRecord]:
        """Fire every warning, breach and escalation step due at or before ``now``. Each case's firing is a
        change of its own (one fails alone); a round of up to ``batch`` due cases commits in one
        transaction (``Store.batch``: one fsync a round, the store held for the round). ``rounds`` bounds
        the work of one call to that many rounds (a service interleaves requests). A case whose row or
        process does not agree with its history is refused and left as it is (``refused``, when given, gets
        its id and the reason), and the other cases go on."""
        now = arguments.instant(now, "now")
        fired: list[EventRecord] = self._recompute_provisional(now)
        refusals: dict[str, str] = refused if refused is not None else {}
        while rounds is None or rounds > 0:
            rounds = None if rounds is None else rounds - 1
            # Due cases are read inside the batch: a store shared by processes claims them for it there
            # (PostgreSQL: FOR UPDATE SKIP LOCKED), so another worker's tick passes them by.
            # Each row is fired from as the due read gave it (current inside the batch), with no second read,
            # and the whole round is decided before any of it is written, then written at once.
            # The collector waits for the round: it makes many short-lived values and no cycle, and the
            # collector's passes over everything else alive cost the round about 7% of its CPU time.
            with collector_paused(), self.store.batch():
                progressed = self._round(now, batch, refusals)
            if not progressed:  # nothing left, or only cases another worker moved on first
                return fired
            fired += progressed
        return fired

    def timers(self, case_id: str) -> list[TimerRecord]:
        """What the case waits for: each warning, breach and escalation step its clocks call for, soonest first."""
        case = self._case_or_refuse(case_id)
        return sorted(desired_timers(case.id, case.clocks), key=lambda t: t.due_at)

    def case(self, case_id: str) -> CaseRecord:
        return self._case_or_refuse(case_id)

    def history(self, case_id: str) -> list[EventRecord]:
        self._case_or_refuse(case_id)
        events = self.store.events(case_id)
        for event in events:
            if not event.payload and event.payload_json:  # a store reads a payload that is not JSON as {}
                try:
                    canonical.loads(event.payload_json)
                except canonical.NotJSONError as exc:
                    raise RefusedError(f"case {case_id}: event {event.seq}: the stored payload {exc}") from None
        return events

    def cases(self, query: CaseQuery | None = None) -> list[CaseRecord]:
        """This tenant's cases that match ``query`` (its own ``tenant`` is overridden)."""
        return self.store.cases(replace(query or CaseQuery(), tenant=self.tenant))

    def overdue(self, now: int, process_id: str | None = None) -> list[CaseRecord]:
        """Open cases with a deadline breached, or due and not yet met, at ``now``."""

        return [
            c
            for c in self.store.cases(CaseQuery(process_id=process_id, open_only=True, limit=10**9, tenant=self.tenant))
            if any(is_late(k, now) for k in c.clocks.values())
        ]

    def verify(self, case_id: str | None = None, *, every_tenant: bool = False) -> list[ChainProblem]:
        """Check hash chains and that replaying each history rebuilds the stored row: of one case of this
        tenant (of any tenant with ``every_tenant``: an audit), or of every case in the store."""
        ids = [case_id] if case_id else [c.id for c in self.store.cases(CaseQuery(limit=10**9))]
        problems: list[ChainProblem] = []
        for cid in ids:
            case = self._case_or_refuse(cid, any_tenant=every_tenant or not case_id)
            events = self.store.events(cid)
            chain = verify_chain(case, events) or personal_problems(case.id, events)
            problems += chain
            if not chain:
                try:
                    cp = self.compiled(case.process_hash)
                except StoreError as exc:  # its process text was edited in the store
                    problems.append(ChainProblem(cid, case.last_seq, f"cannot be replayed: {exc}"))
                    continue
                rebuilt = replay(cp, events)
                if rebuilt is None or replace(rebuilt, revision=case.revision) != case:
                    problems.append(ChainProblem(cid, case.last_seq, "the stored case row does not match its history"))
        return problems

    def close(self) -> None:
        self.store.close()

    # -- internals ------------------------------------------------------------------------
    def _case_or_refuse(self, case_id: str, *, any_tenant: bool = False) -> CaseRecord:
        arguments.text(case_id, "case_id")
        try:
            case = self.store.case(case_id)
            return case if any_tenant else self._mine(case)
        except UnknownCaseError as exc:
            raise RefusedError(str(exc)) from None

    def _mine(self, case: CaseRecord) -> CaseRecord:
        """``case`` if it is this tenant's; another tenant's case is unknown here, in the very same words."""
        if case.tenant != self.tenant:
            raise UnknownCaseError(case.id)
        return case

    def _case_to_change(self, case_id: str, *, any_tenant: bool = False) -> CaseRecord:
        """The case row, refused when it does not agree with its history's head (audit/rowcheck.py): a row
        edited in the database must not be carried into the next hashed event. Only the scheduler's own
        firing (``any_tenant``) reaches other tenants' cases."""
        try:
            case, head = self.store.case_and_head(case_id)
            if not any_tenant:
                self._mine(case)
        except UnknownCaseError as exc:
            raise RefusedError(str(exc)) from None
        _refuse_edited(case, head)
        return case

    def _runnable(self, case: CaseRecord) -> CompiledProcess:
        """The case's compiled process; refused when its stored text no longer matches the hash it pins."""
        try:
            return self.compiled(case.process_hash)
        except StoreUnavailableError:
            raise  # the database is away: try again, nothing is refused
        except StoreError as exc:
            raise RefusedError(f"case {case.id}: refused: {exc}") from None

    def _fire_case_timers(self, case_id: str, at: int) -> None:
        while True:
            # Strictly before: an action at the very instant a deadline falls still meets it.
            case = self.store.case(case_id)
            due = [t for t in desired_timers(case.id, case.clocks) if t.due_at < at]
            if not due or all(self._fire(t, at) is None for t in due):
                return

    def _round(self, now: int, batch: int, refusals: dict[str, str]) -> list[EventRecord]:
        """One round, inside its batch: decide every due case, then write them all; the events written. (A
        function of its own, so the round's values are gone before the collector runs again.)"""
        planned: list[tuple[list[Commit], list[EventRecord]]] = []
        for case, head in self.store.due_cases_and_heads(now, batch):
            if case.id in refusals:
                continue
            try:
                planned.append(self._plan_due(case, head, now))
            except RefusedError as exc:
                refusals[case.id] = str(exc)
        return self._write_round(planned)

    def _plan_due(self, case: CaseRecord, head: Head | None, now: int) -> tuple[list[Commit], list[EventRecord]]:
        """What firing a due case's timers writes, decided from its row and head as read inside the batch:
        each timer in due order a change of its own (one commit, one revision), decided on the row the change
        before it leaves; and every event they fire. Writes nothing."""
        if row_problem(case, head) is not None:  # the due read met a change committed meanwhile, or an edit
            case, head = self.store.case_and_head(case.id)
            _refuse_edited(case, head)
        commits: list[Commit] = []
        fired: list[EventRecord] = []
        timers = sorted((t for t in desired_timers(case.id, case.clocks) if t.due_at <= now), key=_due)
        for n, timer in enumerate(timers):
            if n and timer not in desired_timers(case.id, case.clocks):
                continue  # an earlier timer's firing moved the clock on (the first came from this row)
            events = decide_timer(self._runnable(case), case, timer, now)
            new = fold(case, events, revision=case.revision + 1)
            commits.append(Commit(case=new, events=events, next_due_before=case.next_due))
            case = new
            fired += events
        return commits, fired

    def _write_round(self, planned: list[tuple[list[Commit], list[EventRecord]]]) -> list[EventRecord]:
        """Write a round's changes at once, or, when one is refused (a process sharing the store moved its
        case after the read), each case's alone, leaving out the ones refused; the events written."""
        changes = [change for commits, _ in planned for change in commits]
        if not changes:
            return []
        try:
            self.store.commit_all(changes)
            return [event for _, events in planned for event in events]
        except ConflictError:
            pass  # nothing of the round was written
        written: list[EventRecord] = []
        for commits, events in planned:
            try:
                with self.store.writing():
                    for change in commits:
                        self.store.commit(change)
            except ConflictError:
                continue  # its next tick sees it as it is now
            written += events
        return written

    def _fire(self, timer: TimerRecord, now: int) -> list[EventRecord] | None:
        with self.store.writing():
            case = self._case_to_change(timer.case_id, any_tenant=True)
            if timer not in desired_timers(case.id, case.clocks):
                return None  # another worker fired it, or the case moved on; its clocks say what is left
            cp = self._runnable(case)
            events = decide_timer(cp, case, timer, now)
            try:
                self._commit(case, events)
            except ConflictError:
                return None  # a store without a write lock: another worker moved the case first
        return events

    def _recompute_provisional(self, now: int) -> list[EventRecord]:
        """Once per engine and again whenever the calendar data file changes: count provisional clocks anew."""
        data = calendar_data.current()
        if data == self._recomputed_for:
            return []
        if self._recomputed_for is not _NOT_YET:  # compiled calendars hold the old data: compile them anew
            # In place: every tenant's view shares this cache.
            self._compiled.update({h: compile_process(cp.spec) for h, cp in list(self._compiled.items())})
        self._recomputed_for = data
        if data is None:
            return []  # without a data file every calendar is as it was when the clocks started
        fired: list[EventRecord] = []
        for found in self.store.cases(CaseQuery(open_only=True, limit=10**9)):
            if not any(clock["provisional"] for clock in found.clocks.values()):
                continue
            with self.store.writing():
                case = self.store.case(found.id)
                events = decide_recompute(self.compiled(case.process_hash), case, now)
                if not events:
                    continue
                try:
                    self._commit(case, events)
                except ConflictError:
                    continue  # another worker moved the case first; its next tick sees it again
            fired += events
        return fired

    def _commit(self, case: CaseRecord | None, events: list[EventRecord]) -> CaseRecord:
        new = fold(case, events, revision=(case.revision + 1) if case else 1)
        self.store.commit(Commit(case=new, events=events, next_due_before=case.next_due if case else None))
        return new


def _refuse_edited(case: CaseRecord, head: Head | None) -> None:
    """Refuse a case row that does not agree with its history's head (audit/rowcheck.py): a row edited in the
    database must not be carried into the next hashed event."""
    problem = row_problem(case, head)
    if problem is not None:
        raise RefusedError(
            f"case {case.id}: refused: {problem}; it was edited outside complaintflow (run complaintflow verify)"
        )


def _due(timer: TimerRecord) -> int:
    return timer.due_at


__all__ = ["Actor", "Engine", "RefusedError", "ConflictError", "SYSTEM_ACTOR", "SYSTEM_ROLE"]
