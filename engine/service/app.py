"""HTTP API v1: each route checks who calls, makes one desk call and shapes its answer.

The only home of FastAPI (a maintained ASGI framework whose route types give the OpenAPI 3.1 document
for free). Errors leave as RFC 9457 problem documents (``problems.py``). Business logic lives in the desk.
"""

import asyncio
import dataclasses
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..report.formats import rate_line, to_csv
from ..resources import data_dir
from ..store.base import StoreError, StoreUnavailableError
from ..store.directory import User
from . import auth, studio
from .case_search import CaseFilter, opened_bound
from .desk import Desk, DeskError, field_json
from .metrics import Metrics
from .problems import problem
from .web.routes import pages_router

MAX_BODY = 1_000_000  # bytes; a process file is refused above 1 MB too
RETRY_AFTER = 2  # seconds a client waits before trying again while the database is away (503)


class StartCase(BaseModel):
    process: str = Field(description="process id, e.g. shopping_mall")
    role: str = Field(description="the role the caller acts in; one the caller holds")
    data: dict[str, Any] = Field(default_factory=dict, description="the process's fields")


class Act(BaseModel):
    role: str
    inputs: dict[str, Any] = Field(default_factory=dict)


class Assign(BaseModel):
    user: str | None = Field(description="the person to hold the case; null gives it back to the role")


class Erasure(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="why the data is erased (kept in the history)")
    fields: list[str] = Field(default_factory=list, max_length=100, description="pii fields; empty: all of them")


class NewUser(BaseModel):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    name: str = Field(min_length=1, max_length=100)
    roles: list[str] = Field(default_factory=list, description='"role" for every process or "process:role"')
    contacts: dict[str, str] = Field(default_factory=dict)
    password: str | None = Field(default=None, min_length=8, max_length=200)
    admin: bool = False


class UserChange(BaseModel):
    """Only the fields sent change; roles and contacts are replaced whole."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    roles: list[str] | None = Field(default=None, description='"role" for every process or "process:role"')
    contacts: dict[str, str] | None = None
    password: str | None = Field(default=None, min_length=8, max_length=200)
    admin: bool | None = None


class NewToken(BaseModel):
    user: str
    label: str = ""
    roles: list[str] | None = None


class Login(BaseModel):
    user: str
    password: str


SCHEMAS = ("process", "scenario", "serve")


def create_app(
    desk: Desk, metrics: Metrics, *, ready: Callable[[], bool] = lambda: True, body_timeout: float = 30.0
) -> FastAPI:
    app = FastAPI(
        title="complaintflow",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        description="The complaint desk: processes, cases, actions, deadlines and people.",
    )

    @app.exception_handler(DeskError)
    async def _desk_error(request: Request, exc: DeskError) -> JSONResponse:
        return problem_response(exc.status, exc.kind, exc.detail, request.url.path, **exc.extra)

    @app.exception_handler(StoreUnavailableError)
    async def _store_away(request: Request, exc: StoreUnavailableError) -> JSONResponse:
        # the database restarts or the connection dropped: nothing was changed (or the detail says it may
        # have been); the client tries again, its If-Match or idempotency key keeps a repeat harmless
        answer = problem_response(503, "store-unavailable", str(exc), request.url.path)
        answer.headers["Retry-After"] = str(RETRY_AFTER)
        return answer

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()
        ]
        first = errors[0] if errors else {"where": "body", "message": "invalid"}
        return problem_response(
            422, "invalid-request", f"{first['where']}: {first['message']}", request.url.path, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(exc.status_code, "http-error")
        return problem_response(exc.status_code, kind, str(exc.detail), request.url.path)

    app.add_middleware(_Limits, metrics=metrics, body_timeout=body_timeout)

    def caller(
        authorization: Annotated[str | None, Header()] = None,
        cf_session: Annotated[str | None, Header(alias="cookie")] = None,
    ) -> auth.Caller:
        token = None
        if authorization and authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
        elif cf_session:
            for part in cf_session.split(";"):
                name, _, value = part.strip().partition("=")
                if name == "cf_session":
                    token = value
        if token is None:
            raise DeskError(401, "unauthenticated", "send 'Authorization: Bearer <token>' (or log in)")
        try:
            return desk.run(lambda: auth.authenticate(desk.directory, token, desk.now()))
        except auth.AuthError as exc:
            raise DeskError(401, "unauthenticated", str(exc)) from None

    def admin(who: Annotated[auth.Caller, Depends(caller)]) -> auth.Caller:
        if not who.user.admin:
            raise DeskError(403, "admin-only", "this needs the admin role")
        return who

    Caller = Annotated[auth.Caller, Depends(caller)]
    Admin = Annotated[auth.Caller, Depends(admin)]

    # -- operations ------------------------------------------------------------------------
    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz() -> JSONResponse:
        ok = ready()
        return JSONResponse({"status": "ready" if ok else "starting"}, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    def metrics_page() -> Response:
        body, content_type = metrics.exposition(desk)
        return Response(body, media_type=content_type)

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs_page() -> HTMLResponse:
        from .docs_page import render_docs

        return HTMLResponse(render_docs(app.openapi()))

    # -- sessions -------------------------------------------------------------------------
    @app.post("/v1/sessions", tags=["people"], status_code=201)
    def log_in(body: Login, response: Response) -> dict[str, Any]:
        try:
            secret, credential = desk.run(lambda: auth.login(desk.directory, body.user, body.password, desk.now()))
        except auth.AuthError as exc:
            raise DeskError(401, "unauthenticated", str(exc)) from None
        response.set_cookie("cf_session", secret, httponly=True, samesite="strict", max_age=auth.SESSION_SECONDS)
        return {"token": secret, "user": credential.user_id, "expires_at": credential.expires_at}

    @app.delete("/v1/sessions", tags=["people"], status_code=204)
    def log_out(who: Caller) -> Response:
        """Log out: revoke the session this request came with (an API token is left alone) and drop its cookie."""
        if who.credential.kind == "session":
            desk.run(lambda: desk.directory.revoke(who.credential.id, desk.now()))
        response = Response(status_code=204)
        response.delete_cookie("cf_session", httponly=True, samesite="strict")
        return response

    @app.get("/v1/me", tags=["people"])
    def me(who: Caller) -> dict[str, Any]:
        """Who I am; ``manager`` when I may read every case and the report (the pages show the report then)."""
        return user_json(who.user) | {"token_roles": who.credential.roles, "manager": who.manager}

    # -- processes ------------------------------------------------------------------------
    @app.get("/v1/processes", tags=["processes"])
    def list_processes(who: Caller) -> list[dict[str, Any]]:
        """The processes of the caller's tenant, each at the version new cases start on."""
        return [
            {"id": p.id, "version": p.version, "title": p.title.zh, "title_en": p.title.en, "hash": p.content_hash}
            for p in sorted(desk.processes(who.tenant).values(), key=lambda p: p.id)
        ]

    @app.get("/v1/processes/{process_id}", tags=["processes"])
    def get_process(process_id: str, who: Caller) -> dict[str, Any]:
        spec = desk.process(process_id, who.tenant)
        return {
            "id": spec.id,
            "version": spec.version,
            "hash": spec.content_hash,
            "title": spec.title.zh,
            "title_en": spec.title.en,
            "source": desk.run(lambda: desk.engine.store.process(spec.content_hash)).source.decode("utf-8"),
            "roles": {r.id: r.title.zh for r in spec.roles.values()},
            "role_titles": {r.id: {"zh": r.title.zh, "en": r.title.en} for r in spec.roles.values()},
            "initial_state": spec.initial_state,
            "states": {
                s.id: {
                    "title": s.title.zh,
                    "title_en": s.title.en,
                    "initial": s.initial,
                    "final": s.final,
                    "owner": s.owner,
                    "branch": s.branch,
                }
                for s in spec.states.values()
            },
            "actions": {
                a.id: {
                    "title": a.title.zh,
                    "title_en": a.title.en,
                    "from": list(a.sources),
                    "to": a.target,
                    "roles": list(a.roles),
                    "inputs": list(a.inputs),
                }
                for a in spec.actions.values()
            },
            "fields": {f.id: field_json(spec, f.id) for f in spec.fields.values()},
            "deadlines": {
                d.id: {"title": d.title.zh, "title_en": d.title.en, "rule": str(d.due), "role": d.role}
                for d in spec.deadlines.values()
            },
            "mermaid": desk.mermaid(spec),
        }

    @app.post("/v1/validate", tags=["processes"])
    def validate(
        source: Annotated[str, Body(media_type="application/yaml")], who: Caller, file: str = "<request>"
    ) -> dict[str, Any]:
        problems = desk.validate(source.encode("utf-8", "surrogatepass"), file)
        return {"valid": not any(p["severity"] == "error" for p in problems), "problems": problems}

    @app.post("/v1/processes", tags=["processes"], status_code=201)
    def deploy(
        source: Annotated[str, Body(media_type="application/yaml")], who: Admin, file: str = "<request>"
    ) -> dict[str, Any]:
        """Deploy a process (a new version, or a new id) into the admin's tenant."""
        spec = desk.run(lambda: desk.deploy(source.encode("utf-8", "surrogatepass"), file, who.tenant))
        return {"id": spec.id, "version": spec.version, "hash": spec.content_hash}

    @app.get("/v1/schemas/{name}", tags=["studio"])
    def json_schema(name: str, who: Caller) -> JSONResponse:
        """A JSON Schema of the language (process, scenario, serve): editors complete and hover from it."""
        if name not in SCHEMAS:
            raise DeskError(404, "not-found", f"no schema {name!r}; there are {', '.join(SCHEMAS)}")
        text = (data_dir("schemas") / f"{name}.schema.json").read_text(encoding="utf-8")
        return JSONResponse(json.loads(text), media_type="application/schema+json")

    @app.post("/v1/drafts", tags=["studio"])
    def review_draft(
        source: Annotated[str, Body(media_type="application/yaml")], who: Caller, file: str = "<draft>"
    ) -> dict[str, Any]:
        """A draft judged before publishing: problems, diagram, changes against the deployed version."""
        return studio.review(desk, who.tenant, source.encode("utf-8", "surrogatepass"), file)

    @app.post("/v1/drafts/what-if", tags=["studio"])
    def draft_what_if(
        source: Annotated[str, Body(media_type="application/yaml")],
        who: Caller,
        file: str = "<draft>",
        cases: int = Query(default=200, ge=1, le=studio.MAX_WHAT_IF_CASES),
        seed: int = Query(default=1, ge=0, le=2**31),
    ) -> dict[str, Any]:
        """The simulation's comparison, deployed version against the draft, on the built-in scenario."""
        raw = source.encode("utf-8", "surrogatepass")
        return studio.what_if(desk, who.tenant, raw, file, cases=cases, seed=seed)

    # -- cases --------------------------------------------------------------------------
    @app.post("/v1/cases", tags=["cases"], status_code=201)
    def start_case(
        body: StartCase,
        who: Caller,
        response: Response,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> dict[str, Any]:
        status, reply = desk.run(lambda: desk.start(who, body.process, body.role, body.data, idempotency_key))
        metrics.actions.labels(kind="start").inc()
        response.status_code = status
        response.headers["ETag"] = f'"{reply["revision"]}"'
        response.headers["Location"] = f"/v1/cases/{reply['id']}"
        return reply

    @app.get("/v1/cases", tags=["cases"])
    def list_cases(
        who: Caller,
        process: str | None = None,
        state: str | None = None,
        owner_role: str | None = None,
        open: bool = False,
        overdue: bool = False,
        opened_from: str | None = Query(
            default=None, description="epoch seconds, a day 2025-09-29 or a time 2025-09-29 14:00; inclusive"
        ),
        opened_to: str | None = Query(
            default=None, description="epoch seconds (exclusive), a day 2025-09-30 (through its end) or a time"
        ),
        phone: str | None = Query(default=None, description="digits found in any value: 139 0000 finds 13900000000"),
        q: str | None = Query(default=None, description="text found in any text value (customer, address, subject)"),
        timezone: str = Query(default="Asia/Shanghai", description="the zone of days and times in opened_from/to"),
        limit: int = Query(default=50, ge=1, le=500),
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """Cases, oldest first, narrowed by every filter given; a search by phone, customer text and dates."""
        try:
            where = CaseFilter(
                state=state,
                owner_role=owner_role,
                opened_from=opened_bound("opened_from", opened_from, timezone, end=False),
                opened_to=opened_bound("opened_to", opened_to, timezone, end=True),
                phone=phone or None,
                text=q or None,
            )
        except ValueError as exc:
            raise DeskError(422, "invalid-request", str(exc)) from None
        page = desk.run(
            lambda: desk.cases(
                who, process=process, open_only=open, overdue=overdue, where=where, limit=limit, cursor=cursor
            )
        )
        items = desk.run(lambda: [desk.case_view(c, who) for c in page.items])
        return {"items": items, "next_cursor": page.next_cursor}

    @app.get("/v1/cases/{case_id}", tags=["cases"])
    def get_case(case_id: str, who: Caller, response: Response) -> dict[str, Any]:
        """The case with its running clocks (``deadlines``: budget, used, remaining or overdue, in business
        time for working-time deadlines, and ``provisional`` where the calendar is estimated)."""
        case, holder = desk.run(lambda: (desk.case(who.tenant, case_id), desk.directory.assignee(case_id)))
        response.headers["ETag"] = f'"{case.revision}"'
        return desk.run(lambda: desk.case_view(case, who)) | {"assignee": holder}

    @app.get("/v1/cases/{case_id}/actions", tags=["cases"])
    def case_actions(case_id: str, who: Caller) -> list[dict[str, Any]]:
        return desk.run(lambda: desk.available(who, case_id))

    @app.post("/v1/cases/{case_id}/actions/{action}", tags=["cases"])
    def act(
        case_id: str,
        action: str,
        body: Act,
        who: Caller,
        response: Response,
        if_match: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        case = desk.run(lambda: desk.act(who, case_id, action, body.role, body.inputs, if_match))
        metrics.actions.labels(kind="act").inc()
        response.headers["ETag"] = f'"{case.revision}"'
        return desk.run(lambda: desk.case_view(case, who))

    @app.put("/v1/cases/{case_id}/assignee", tags=["cases"])
    def assign(case_id: str, body: Assign, who: Caller) -> dict[str, Any]:
        """Claim (your own id), assign or reassign a case to a person holding its owner role; null releases it."""
        return desk.run(lambda: desk.assign(who, case_id, body.user))

    @app.get("/v1/queue", tags=["cases"])
    def queue(who: Caller, limit: int = Query(default=100, ge=1, le=1000)) -> list[dict[str, Any]]:
        """My queue: cases I hold, then my roles' open cases and those escalated to my roles; overdue first.
        ``why`` says which: ``held``, ``role`` or ``escalated``; a manager also sees every other open case
        (``all``)."""
        rows, held = desk.run(lambda: (desk.queue_items(who)[:limit], desk.directory.assignees()))
        return desk.run(lambda: [desk.case_view(c, who) | {"assignee": held.get(c.id), "why": why} for c, why in rows])

    @app.get("/v1/report", tags=["reports"], response_model=None)
    def report(
        who: Caller,
        period: str = Query(description="a month 2025-09, an ISO week 2025-W40 or days 2025-09-29..2025-10-10"),
        households: int | None = Query(default=None, ge=1, description="occupied households, for the complaint rate"),
        timezone: str = "Asia/Shanghai",
        format: str = Query(default="json", pattern="^(json|csv)$"),
    ) -> dict[str, Any] | Response:
        """The management report (the same as `complaintflow report`): on-time rates, escalations, handling
        time, the complaint rate against the 5% target and the review list. ``format=csv`` answers a CSV file
        with a UTF-8 byte-order mark, so Excel reads its Chinese text."""
        result = desk.run(lambda: desk.report(who, period, households, timezone))
        if format == "csv":
            name = f"complaintflow-report-{result.period}.csv".replace("..", "_to_")
            return Response(
                to_csv(result),  # it starts with the byte-order mark Excel needs
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        return dataclasses.asdict(result) | {"complaint_rate_line": rate_line(result)}

    @app.get("/v1/cases/{case_id}/history", tags=["cases"])
    def history(case_id: str, who: Caller) -> list[dict[str, Any]]:
        return desk.run(lambda: desk.history_view(who, case_id))

    @app.get("/v1/cases/{case_id}/timers", tags=["cases"])
    def timers(case_id: str, who: Caller) -> list[dict[str, Any]]:
        return desk.run(lambda: desk.timers(who, case_id))

    @app.get("/v1/cases/{case_id}/verify", tags=["cases"])
    def verify(case_id: str, who: Caller) -> dict[str, Any]:
        problems = desk.run(lambda: desk.verify(who, case_id))
        return {"intact": not problems, "problems": problems}

    # -- personal data (admin) ---------------------------------------------------------------
    @app.get("/v1/cases/{case_id}/personal-data", tags=["privacy"])
    def personal_data(case_id: str, who: Admin) -> dict[str, Any]:
        """A case's personal data and where the store keeps it, for an access request (PIPL art. 45)."""
        return desk.run(lambda: desk.personal_data(who, case_id))

    @app.post("/v1/cases/{case_id}/erasure", tags=["privacy"])
    def erase(case_id: str, body: Erasure, who: Admin) -> dict[str, Any]:
        """Destroy a case's personal values (PIPL art. 47); the history records it and still verifies."""
        return desk.run(lambda: desk.erase(who, case_id, body.reason, tuple(body.fields)))

    # -- people and tokens (admin) ---------------------------------------------------------
    def tenant_user(who: auth.Caller, user_id: str) -> User:
        """A user of the admin's own tenant; another tenant's is as absent as one that never was."""
        user = desk.directory.user(user_id)
        if user is None or user.tenant != who.tenant:
            raise DeskError(404, "not-found", f"no user {user_id!r}")
        return user

    @app.get("/v1/users", tags=["people"])
    def list_users(who: Admin) -> list[dict[str, Any]]:
        """The users of the admin's tenant."""
        return [user_json(u) for u in desk.run(lambda: desk.directory.users(who.tenant))]

    @app.post("/v1/users", tags=["people"], status_code=201)
    def add_user(body: NewUser, who: Admin) -> dict[str, Any]:
        """A new user in the admin's tenant (a user id is unique across every tenant)."""
        user = User(
            body.id,
            body.name,
            tuple(body.roles),
            body.contacts,
            body.admin,
            auth.hash_password(body.password) if body.password else None,
            who.tenant,
        )
        try:
            desk.run(lambda: desk.add_user(user))
        except StoreError as exc:  # the id is taken
            raise DeskError(409, "user-exists", str(exc)) from None
        return user_json(user)

    @app.patch("/v1/users/{user_id}", tags=["people"])
    def change_user(user_id: str, body: UserChange, who: Admin) -> dict[str, Any]:
        def change() -> User:
            user = tenant_user(who, user_id)
            changed = User(
                user.id,
                body.name if body.name is not None else user.name,
                tuple(body.roles) if body.roles is not None else user.roles,
                body.contacts if body.contacts is not None else user.contacts,
                body.admin if body.admin is not None else user.admin,
                auth.hash_password(body.password) if body.password else user.password_hash,
                user.tenant,
            )
            desk.directory.update_user(changed)
            return changed

        try:
            return user_json(desk.run(change))
        except StoreError as exc:  # the last admin
            raise DeskError(409, "last-admin", str(exc)) from None

    @app.delete("/v1/users/{user_id}", tags=["people"], status_code=204)
    def disable_user(user_id: str, who: Admin) -> Response:
        """Disable a user who has left: logins, sessions and tokens stop; histories still name them."""
        desk.run(lambda: tenant_user(who, user_id))
        try:
            desk.run(lambda: desk.directory.disable_user(user_id, desk.now()))
        except StoreError as exc:
            kind = "not-found" if str(exc).startswith("no user") else "last-admin"
            raise DeskError(404 if kind == "not-found" else 409, kind, str(exc)) from None
        return Response(status_code=204)

    @app.post("/v1/tokens", tags=["people"], status_code=201)
    def new_token(body: NewToken, who: Admin) -> dict[str, Any]:
        """A token for a user of the admin's tenant; it sees that tenant only."""
        desk.run(lambda: tenant_user(who, body.user))
        roles = tuple(body.roles) if body.roles is not None else None
        secret, c = desk.run(
            lambda: auth.issue(desk.directory, body.user, "token", desk.now(), label=body.label, roles=roles)
        )
        return {
            "token": secret,
            "id": c.id,
            "user": c.user_id,
            "roles": c.roles,
            "note": "shown once: store it now; only its hash is kept",
        }

    @app.delete("/v1/tokens/{token_id}", tags=["people"], status_code=204)
    def revoke(token_id: str, who: Admin) -> Response:
        if not desk.run(lambda: desk.directory.revoke(token_id, desk.now(), who.tenant)):
            raise DeskError(404, "not-found", f"no live token {token_id!r}")
        return Response(status_code=204)

    # -- deliveries ----------------------------------------------------------------------
    @app.get("/v1/deliveries", tags=["notifications"])
    def deliveries(
        who: Admin,
        status: str | None = Query(default=None, pattern="^(pending|delivered|dead)$"),
        limit: int = Query(default=100, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        return [
            {
                "id": d.id,
                "message_id": d.message_id,
                "channel": d.channel,
                "status": d.status,
                "attempts": d.attempts,
                "next_at": d.next_at,
                "last_error": d.last_error,
            }
            for d in desk.run(lambda: desk.directory.deliveries(status, limit, who.tenant))
        ]

    @app.post("/v1/deliveries/{delivery_id}/redrive", tags=["notifications"])
    def redrive(delivery_id: str, who: Admin) -> dict[str, str]:
        if not desk.run(lambda: desk.directory.redrive(delivery_id, desk.now(), who.tenant)):
            raise DeskError(409, "not-dead", f"delivery {delivery_id!r} is not dead (or does not exist)")
        return {"id": delivery_id, "status": "pending"}

    app.include_router(pages_router())
    return app


class _Limits:
    """Refuses a body over MAX_BODY (413), whether it says its length or is sent in chunks, before the
    route reads it all, and a body that stalls for ``body_timeout`` seconds between two parts (408, and the
    connection is closed); and times every request for the metrics."""

    def __init__(self, app: Any, metrics: Metrics, body_timeout: float = 30.0):
        self.app, self.metrics, self.body_timeout = app, metrics, body_timeout

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"").decode("latin-1")
        path = scope.get("path", "")
        if length and (not length.isdigit() or int(length) > MAX_BODY):
            await _send_problem(send, 413, "too-large", f"the body is over {MAX_BODY} bytes", path)
            return
        seen, body_done, started = 0, False, False
        cut: tuple[int, str, str] | None = None  # the problem that replaces the route's answer

        async def counted_receive() -> Any:
            nonlocal seen, body_done, cut
            if body_done:
                return await receive()  # after the body: a wait for the client to go, not timed
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except asyncio.TimeoutError:
                cut = (408, "timeout", f"the request body stalled for over {self.body_timeout:g} s")
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if seen > MAX_BODY:
                    cut = (413, "too-large", f"the body is over {MAX_BODY} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message: Any) -> None:
            nonlocal started
            if cut and not started:
                return  # the route's answer to a cut-off body is replaced by the problem below
            started = started or message["type"] == "http.response.start"
            await send(message)

        with self.metrics.request_timer(scope.get("method", "?")):
            try:
                await self.app(scope, counted_receive, watched_send)
            except Exception:
                if not cut:
                    raise
        if cut and not started:
            await _send_problem(send, *cut, path, close=cut[0] == 408)


async def _send_problem(send: Any, status: int, kind: str, detail: str, path: str, *, close: bool = False) -> None:
    body = json.dumps(problem(status, kind, detail, path), ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def problem_response(status: int, kind: str, detail: str, instance: str | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse(
        problem(status, kind, detail, instance, **extra), status_code=status, media_type="application/problem+json"
    )


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "roles": list(user.roles),
        "contacts": user.contacts,
        "admin": user.admin,
        "tenant": user.tenant,
    }
