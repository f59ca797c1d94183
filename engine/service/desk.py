"""The complaint desk: what the service does, in plain calls that the HTTP layer only translates.

One ``Desk`` owns the engine and the directory, shared by every request thread, the scheduler and the
notifier. Every call works in the caller's tenant, on the engine's view of that tenant
(``engine.for_tenant``): its processes, its cases, its users; a case of another tenant is as absent as
one that never was (404 everywhere). What a check guards is checked where no other change can slip in:
an ``If-Match`` revision inside the engine's write transaction, an idempotency key by deriving the case
id from it (a second start with the same key meets the first case instead of opening another). The clock is passed in.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..language.check import check_bytes
from ..language.diagnostics import DefinitionError, Severity
from ..language.render import mermaid
from ..language.spec import Process
from ..masking import event_specs, hidden_fields, mask_data, mask_event
from ..privacy import personal_data
from ..report.build import Report, build_report
from ..report.period import parse_period
from ..runtime.clocks import is_late
from ..runtime.engine import Actor, Engine
from ..runtime.errors import RefusedError, StaleRevisionError
from ..store.base import CaseQuery, CaseRecord, ConflictError, EventRecord, UnknownCaseError
from ..store.directory import DEFAULT_TENANT, Directory, User
from .auth import Caller
from .case_search import CaseFilter
from .clock_view import deadline_views, escalated_roles

T = TypeVar("T")


class DeskError(Exception):
    """A refusal with its HTTP meaning: ``kind`` names the problem type, ``status`` its code."""

    def __init__(self, status: int, kind: str, detail: str, **extra: Any):
        super().__init__(detail)
        self.status, self.kind, self.detail, self.extra = status, kind, detail, extra


def not_found(detail: str) -> DeskError:
    return DeskError(404, "not-found", detail)


@dataclass(frozen=True, slots=True)
class Page:
    items: list[CaseRecord]
    next_cursor: str | None


class Desk:
    def __init__(
        self, open_engine: Callable[[], Engine], open_directory: Callable[[], Directory], clock: Callable[[], float]
    ):
        self.clock = clock
        self.timer: Callable[[], AbstractContextManager[object]] = nullcontext  # the metrics' engine timer
        # The engine first, so a new file becomes a complaintflow store before the service adds its tables.
        self.engine: Engine = open_engine()
        self.directory = open_directory()
        # tenant -> process id -> the version new cases of that tenant start on
        self.latest: dict[str, dict[str, Process]] = {}
        self.by_hash: dict[str, dict[str, Process]] = {}  # tenant -> content hash -> the spec it was filed as
        self._deploying = threading.Lock()

    def now(self) -> int:
        return int(self.clock())

    def run(self, fn: Callable[[], T]) -> T:
        """One call into the engine, timed. The engine serves many threads (its store takes turns and
        commits concurrent changes together), so request threads call it directly."""
        with self.timer():
            return fn()

    def close(self) -> None:
        """Close the engine (it commits any open group first), then the directory."""
        self.engine.close()
        self.directory.close()

    def view(self, tenant: str) -> Engine:
        """The engine as one tenant sees it (cheap: it shares the store and the compiled processes)."""
        return self.engine.for_tenant(tenant)

    # -- processes ---------------------------------------------------------------------
    def deploy(self, raw: bytes, file: str, tenant: str = DEFAULT_TENANT) -> Process:
        """Check and file a process in ``tenant``; the same id and version may be another tenant's too."""
        try:
            spec = self.view(tenant).load_process(raw, file)
        except DefinitionError as exc:
            raise DeskError(
                422, "invalid-process", f"{file}: the process has errors", problems=_problems(exc)
            ) from None
        except RefusedError as exc:
            raise DeskError(409, "refused", str(exc)) from None
        self._file(tenant, spec)
        return spec

    def _file(self, tenant: str, spec: Process) -> None:
        with self._deploying:  # two deploys at once leave the higher version as the latest
            self.by_hash.setdefault(tenant, {})[spec.content_hash] = spec
            latest = self.latest.setdefault(tenant, {})
            known = latest.get(spec.id)
            if known is None or spec.version >= known.version:
                latest[spec.id] = spec

    def load_stored(self) -> int:
        """What the store holds is the truth at start: in each tenant, the latest version of each process id
        it holds becomes the one new cases start on. How many processes that is."""
        newest: dict[tuple[str, str], tuple[int, str]] = {}
        for stored in self.engine.store.processes():
            key = (stored.tenant, stored.process_id)
            if key not in newest or stored.version > newest[key][0]:
                newest[key] = (stored.version, stored.content_hash)
        for (tenant, _), (_, content_hash) in newest.items():
            self._file(tenant, self.engine.compiled(content_hash).spec)
        return len(newest)

    def load_directory(self, folder: Path) -> list[Process]:
        """The process files of ``folder``, into the default tenant."""
        return [self.deploy(path.read_bytes(), str(path)) for path in sorted(folder.glob("*.yaml"))]

    def processes(self, tenant: str) -> dict[str, Process]:
        """Process id -> the version new cases of ``tenant`` start on."""
        return dict(self.latest.get(tenant, {}))

    def every_latest(self) -> list[Process]:
        """The latest version of each process of every tenant (the calendars the service watches)."""
        return [spec for specs in list(self.latest.values()) for spec in list(specs.values())]

    def process(self, process_id: str, tenant: str) -> Process:
        spec = self.latest.get(tenant, {}).get(process_id)
        if spec is None:
            raise not_found(f"no process {process_id!r}; GET /v1/processes lists them")
        return spec

    def process_of(self, case: CaseRecord) -> Process:
        spec = self.by_hash.get(case.tenant, {}).get(case.process_hash)
        return spec if spec is not None else self.engine.compiled(case.process_hash).spec

    @staticmethod
    def validate(raw: bytes, file: str) -> list[dict[str, object]]:
        _, diagnostics = check_bytes(raw, file)
        return [d.to_json() for d in diagnostics]

    @staticmethod
    def mermaid(spec: Process) -> str:
        return mermaid.render(spec)

    # -- cases ---------------------------------------------------------------------------
    def case(self, tenant: str, case_id: str) -> CaseRecord:
        """The case, if it is ``tenant``'s: another tenant's is 404 like a case that never was."""
        try:
            case = self.engine.store.case(case_id)
        except UnknownCaseError:
            case = None
        if case is None or case.tenant != tenant:
            raise not_found(f"no case {case_id!r}")
        return case

    def _actor(self, caller: Caller, process_id: str, role: str) -> Actor:
        if not caller.may_use(process_id, role):
            held = ", ".join(caller.roles_in(process_id)) or "none"
            raise DeskError(
                403,
                "role-not-held",
                f"{caller.user.id!r} does not hold role {role!r} in process {process_id!r} (roles held there: {held})",
            )
        return Actor(caller.user.id, (role,))

    def start(
        self, caller: Caller, process_id: str, role: str, data: Mapping[str, Any], idempotency_key: str | None
    ) -> tuple[int, dict[str, Any]]:
        spec = self.process(process_id, caller.tenant)
        actor = self._actor(caller, process_id, role)
        body = hashlib.sha256(json.dumps([process_id, role, data], sort_keys=True, default=str).encode()).hexdigest()
        case_id = None
        if idempotency_key is not None:
            seen = self.directory.idempotent_reply(caller.user.id, idempotency_key)
            if seen is not None:
                if seen[0] != body:
                    raise DeskError(
                        422,
                        "idempotency-key-reused",
                        f"Idempotency-Key {idempotency_key!r} was "
                        "used before with a different body; use a new key for a new request",
                    )
                return seen[1], self._replayed(caller, seen[2])
            # The case id follows from the key, so a repeat after a crash between the two commits finds it
            # (user ids are unique across tenants, so ids derived from them are too).
            case_id = hashlib.sha256(f"{caller.user.id}\0{idempotency_key}".encode()).hexdigest()[:12]
        try:
            case = self.view(caller.tenant).start(spec, data, actor, self.now(), case_id=case_id)
        except RefusedError as exc:
            raise DeskError(422, "refused", str(exc)) from None
        except ConflictError:
            case = self.case(caller.tenant, case_id or "")
        if idempotency_key is not None:  # kept with no personal value: the directory is outside erasure
            self.directory.remember_reply(caller.user.id, idempotency_key, body, 201, case_json(case, spec), self.now())
        return 201, case_json(case, spec, caller.roles_in(spec.id))

    def _replayed(self, caller: Caller, first: dict[str, Any]) -> dict[str, Any]:
        """The first reply to a repeated start, its record read again as the caller may see it now: the
        stored copy holds no personal value (an older one may, so it is never sent as it is)."""
        case = self.case(caller.tenant, str(first["id"]))
        spec = self.process_of(case)
        return first | {
            k: v for k, v in case_json(case, spec, caller.roles_in(spec.id)).items() if k in ("data", "hidden")
        }

    def act(
        self, caller: Caller, case_id: str, action: str, role: str, inputs: Mapping[str, Any], if_match: str | None
    ) -> CaseRecord:
        case = self.case(caller.tenant, case_id)
        if if_match is None:
            raise DeskError(
                428,
                "if-match-required",
                "send If-Match with the case's ETag (its revision), so an "
                "action is never taken on a case that changed since you read it",
            )
        expected = if_match.strip().removeprefix("W/").strip('"')
        if not expected.isdigit():
            raise DeskError(
                412,
                "stale-revision",
                f'If-Match {if_match!r} is not a revision of case {case_id} (send the ETag you were given, e.g. "3")',
                revision=case.revision,
            )
        spec = self.process_of(case)
        if action not in spec.actions:
            raise not_found(f"process {spec.id!r} has no action {action!r}")
        actor = self._actor(caller, spec.id, role)
        try:
            return self.view(caller.tenant).act(
                case_id, action, actor, inputs, at=self.now(), expected_revision=int(expected)
            )
        except StaleRevisionError as exc:
            raise DeskError(412, "stale-revision", str(exc), revision=exc.revision) from None
        except RefusedError as exc:
            raise DeskError(409, "refused", str(exc)) from None
        except ConflictError as exc:
            raise DeskError(412, "stale-revision", str(exc)) from None

    def available(self, caller: Caller, case_id: str) -> list[dict[str, Any]]:
        case = self.case(caller.tenant, case_id)
        spec = self.process_of(case)
        view = self.view(caller.tenant)
        out = []
        for role in caller.roles_in(spec.id):
            for action in view.available_actions(case_id, Actor(caller.user.id, (role,))):
                out.append(
                    {
                        "action": action.id,
                        "title": action.title.zh,
                        "title_en": action.title.en,
                        "role": role,
                        "to": action.target,
                        "inputs": [field_json(spec, name) for name in action.inputs],
                    }
                )
        return out

    def cases(
        self,
        caller: Caller,
        *,
        process: str | None,
        open_only: bool,
        overdue: bool,
        where: CaseFilter,
        limit: int,
        cursor: str | None,
    ) -> Page:
        view = self.view(caller.tenant)
        if overdue:
            rows = view.overdue(self.now(), process)
        else:
            query = CaseQuery(
                process_id=process, state=where.state, owner_role=where.owner_role, open_only=open_only, limit=10**9
            )
            rows = view.cases(query)
        rows = [c for c in rows if where.matches(c, self._hidden(caller, c))]
        rows.sort(key=lambda c: (c.opened_at, c.id))
        if cursor is not None:
            rows = [c for c in rows if f"{c.opened_at}:{c.id}" > cursor]
        page = rows[:limit]
        more = len(rows) > limit
        return Page(page, f"{page[-1].opened_at}:{page[-1].id}" if more and page else None)

    def _hidden(self, caller: Caller, case: CaseRecord) -> frozenset[str]:
        """The fields of the case whose values the caller may not see: a search by phone number or text looks
        only at the others, so it cannot tell a caller which case holds a value hidden from them."""
        spec = self.process_of(case)
        return hidden_fields(spec, caller.roles_in(spec.id))

    def history(self, tenant: str, case_id: str) -> list[EventRecord]:
        self.case(tenant, case_id)
        return self.view(tenant).history(case_id)

    def history_view(self, caller: Caller, case_id: str) -> list[dict[str, Any]]:
        """The case's events as the caller may read them: personal values masked for their roles."""
        spec = self.process_of(self.case(caller.tenant, case_id))
        roles = caller.roles_in(spec.id)
        versions = event_specs(self.history(caller.tenant, case_id), lambda h: self.engine.compiled(h).spec, spec)
        return [event_json(e, mask_event(version, e, roles)) for e, version in versions]

    def timers(self, caller: Caller, case_id: str) -> list[dict[str, Any]]:
        self.case(caller.tenant, case_id)
        return [
            {"deadline": t.deadline, "kind": str(t.kind), "due_at": t.due_at, "step": t.step}
            for t in self.view(caller.tenant).timers(case_id)
        ]

    def verify(self, caller: Caller, case_id: str) -> list[str]:
        self.case(caller.tenant, case_id)
        return [str(p) for p in self.view(caller.tenant).verify(case_id)]

    # -- personal data (admins answer access and deletion requests, docs/privacy.md) -----------
    def personal_data(self, caller: Caller, case_id: str) -> dict[str, Any]:
        self.case(caller.tenant, case_id)
        return personal_data(self.view(caller.tenant), case_id)

    def erase(self, caller: Caller, case_id: str, reason: str, fields: tuple[str, ...]) -> dict[str, Any]:
        self.case(caller.tenant, case_id)
        view = self.view(caller.tenant)
        try:
            case = view.erase(case_id, Actor(caller.user.id, ("privacy",)), at=self.now(), reason=reason, fields=fields)
        except RefusedError as exc:
            raise DeskError(422, "refused", str(exc)) from None
        self.directory.forget_replies(case_id)
        scrub = getattr(self.engine.store, "scrub", None)
        wal_emptied = scrub() if callable(scrub) else True
        erased = view.history(case_id)[-1].payload["fields"]
        return {
            "case": case.id,
            "erased": erased,
            "seq": case.last_seq,
            "revision": case.revision,
            "wal_emptied": wal_emptied,
        }

    def assign(self, caller: Caller, case_id: str, user_id: str | None) -> dict[str, Any]:
        """Claim (``user_id`` is the caller), assign, reassign or release a case inside its owner role, to a
        user of the case's own tenant."""
        case = self.case(caller.tenant, case_id)
        if case.closed_at is not None:
            raise DeskError(409, "refused", f"case {case_id} is closed; nobody can hold it now")
        spec = self.process_of(case)
        role = case.owner_role or ""
        if not caller.user.admin and not caller.may_use(spec.id, role):
            raise DeskError(
                403,
                "role-not-held",
                f"only someone holding {role!r} (the case's owner role) or an admin may claim or assign it",
            )
        if user_id is not None:
            target = self.directory.user(user_id)
            if target is None or target.tenant != caller.tenant:
                raise not_found(f"no user {user_id!r}")
            if not target.holds(spec.id, role):
                raise DeskError(422, "refused", f"{user_id!r} does not hold {role!r}, the role that owns the case now")
        self.directory.assign(case_id, user_id, caller.user.id, self.now())
        return {"case": case_id, "owner_role": role, "assignee": user_id}

    def queue(self, caller: Caller) -> list[CaseRecord]:
        return [case for case, _ in self.queue_items(caller)]

    def queue_items(self, caller: Caller) -> list[tuple[CaseRecord, str]]:
        """The caller's work, each with why it is theirs: ``held`` (they hold it), ``role`` (one of their
        roles owns it), ``escalated`` (an escalation step reached one of their roles) or, for a manager,
        ``all`` (every other open case). Held cases come first, then the rest; overdue first in each."""
        mine = {c for c, u in self.directory.assignees().items() if u == caller.user.id}
        now = self.now()
        rows: list[tuple[CaseRecord, str]] = []
        for case in self.view(caller.tenant).cases(CaseQuery(open_only=True, limit=10**9)):
            spec = self.process_of(case)
            if case.id in mine:
                rows.append((case, "held"))
            elif case.owner_role and caller.may_use(spec.id, case.owner_role):
                rows.append((case, "role"))
            elif any(caller.may_use(spec.id, role) for role in escalated_roles(spec, case)):
                rows.append((case, "escalated"))
            elif caller.manager:
                rows.append((case, "all"))

        def late(case: CaseRecord) -> bool:
            return any(is_late(k, now) for k in case.clocks.values())

        rows.sort(key=lambda r: (r[1] != "held", not late(r[0]), r[0].next_due or 2**62, r[0].opened_at))
        return rows

    def case_view(self, case: CaseRecord, caller: Caller) -> dict[str, Any]:
        """A case as the pages show it: its row (personal values masked for the caller's roles), the state's
        English title, and every running clock measured in business time now (``deadlines``), with
        ``overdue`` when any of them is."""
        spec = self.process_of(case)
        state = spec.states.get(case.state)
        clocks = deadline_views(self.engine.compiled(case.process_hash), case, self.now())
        return case_json(case, spec, caller.roles_in(spec.id)) | {
            "timezone": spec.timezone,
            "process_title": spec.title.zh,
            "process_title_en": spec.title.en,
            "state_title_en": state.title.en if state else case.state,
            "owner_role_title": _role_title(spec, case.owner_role),
            "deadlines": clocks,
            "overdue": any(c["overdue"] for c in clocks),
        }

    def report(self, caller: Caller, period: str, households: int | None, timezone: str) -> Report:
        """The management report (engine/report) over every case of the caller's tenant, as of now."""
        try:
            when = parse_period(period, timezone)
            return build_report(self.view(caller.tenant), when, households=households, now=self.now())
        except ValueError as exc:
            raise DeskError(422, "invalid-request", f"period: {exc}") from None

    # -- people ------------------------------------------------------------------------
    def add_user(self, user: User) -> None:
        self.directory.add_user(user, self.now())


def _problems(exc: DefinitionError) -> list[dict[str, object]]:
    return [d.to_json() for d in exc.diagnostics if d.severity is Severity.ERROR] or [
        d.to_json() for d in exc.diagnostics
    ]


def _role_title(spec: Process, role: str | None) -> dict[str, str] | None:
    r = spec.roles.get(role or "")
    return {"zh": r.title.zh, "en": r.title.en} if r else None


def field_json(spec: Process, name: str) -> dict[str, Any]:
    f = spec.fields.get(name)
    if f is None:
        return {"name": name}
    return {
        "name": name,
        "type": f.type.value,
        "required": f.required,
        "pii": f.pii,
        "visible_to": None if f.visible_to is None else list(f.visible_to),  # None: every role of the process
        "values": list(f.values),
        "items": [{"id": i.id, "title": i.title.zh, "title_en": i.title.en} for i in f.items],
        "title": f.title.zh if f.title else None,
        "title_en": f.title.en if f.title else None,
    }


def case_json(case: CaseRecord, spec: Process, roles: tuple[str, ...] = ()) -> dict[str, Any]:
    """A case as the API gives it; each personal value ``roles`` may not see reads ``***`` and is named in
    ``hidden`` (no role: none is shown)."""
    state = spec.states.get(case.state)
    hidden = hidden_fields(spec, roles)
    return {
        "id": case.id,
        "process": case.process_id,
        "process_version": spec.version,
        "process_hash": case.process_hash,
        "state": case.state,
        "state_title": state.title.zh if state else case.state,
        "branches": case.branches,
        "data": mask_data(spec, case.data, roles),
        "hidden": sorted(name for name in hidden if case.data.get(name) is not None),
        "owner_role": case.owner_role,
        "revision": case.revision,
        "opened_at": case.opened_at,
        "closed_at": case.closed_at,
        "last_at": case.last_at,
        "next_due": case.next_due,
        "clocks": case.clocks,
    }


def event_json(event: EventRecord, payload: dict[str, Any]) -> dict[str, Any]:
    """An event as the API gives it, with ``payload`` as the caller may read it (engine/masking.py)."""
    return {
        "seq": event.seq,
        "at": event.at,
        "actor": event.actor,
        "role": event.role,
        "kind": event.kind,
        "payload": payload,
        "hash": event.hash,
        "prev_hash": event.prev_hash,
    }
