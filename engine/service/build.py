"""Assembles a service from its configuration: store, directory, processes, first admin, demo day.

Kept apart from ``runner.py`` so tests can build a desk without starting a web server. The clock is
passed in; nothing here reads the wall clock.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..runtime.engine import Engine
from ..store.base import StoreError
from ..store.directory import DEFAULT_TENANT, Directory, User
from ..store.open import open_directory, open_store
from . import auth
from .calendar_watch import CalendarWatch
from .config import ServeConfig
from .delivery_wiring import build_notifier
from .desk import Desk
from .metrics import Metrics
from .runner import Service
from .scheduler import Scheduler

log = logging.getLogger("complaintflow.serve")


@dataclass(frozen=True, slots=True)
class FirstRun:
    """Secrets made on a new store, shown once."""

    admin_token: str | None
    demo_token: str | None
    demo_staff: tuple[tuple[str, str, str], ...] = ()  # (user id, roles, password) to log in to the pages


# Demo staff who log in to the web pages with a password (each role for every process that has it).
DEMO_STAFF = (
    ("frontdesk", "王芳 (前台 front desk)", ("receiver", "front_desk", "customer_centre", "cs_centre")),
    ("head", "张伟 (部门负责人 department head)", ("dept_head", "office_head")),
    ("leader", "李强 (公司领导 company leader)", ("company_leader", "board_office", "developer_cs")),
    ("manager", "陈静 (经理 manager: reads every case and the report)", (auth.MANAGER_ROLE,)),
)


def build_desk(
    db: str, processes: Path, clock: Callable[[], float], directory: str | None = None, *, writer_turns: bool = False
) -> Desk:
    """The desk on store ``db``; the service's own tables are beside the store (in its SQLite file or its
    PostgreSQL database), or in the SQLite file ``directory`` when one is named. Each tenant's processes
    are what the store holds; then the files of ``processes`` go into the default tenant."""
    desk = Desk(lambda: Engine(open_store(db, writer_turns=writer_turns)), lambda: open_directory(db, directory), clock)
    desk.run(desk.load_stored)
    desk.run(lambda: desk.load_directory(processes))
    return desk


def first_run(desk: Desk, *, demo: bool) -> FirstRun:
    """An admin (and, with ``demo``, a user holding every role), in the default tenant, when the store has
    none yet."""
    directory, now = desk.directory, desk.now()
    admin_token = demo_token = None
    if directory.count_admins() == 0 and _added(directory, User("admin", "管理员 Administrator", (), {}, True), now):
        admin_token, _ = auth.issue(directory, "admin", "token", now, label="first admin token")
    roles = tuple(sorted({role for spec in desk.processes(DEFAULT_TENANT).values() for role in spec.roles}))
    if demo and _added(directory, User("demo", "演示用户 Demo user", roles, {}, False), now):
        demo_token, _ = auth.issue(directory, "demo", "token", now, label="demo token")
    staff = []
    for user_id, name, held in DEMO_STAFF if demo else ():
        if directory.user(user_id) is None:
            password = secrets.token_urlsafe(9)
            if _added(directory, User(user_id, name, held, {}, False, auth.hash_password(password)), now):
                staff.append((user_id, ", ".join(held), password))
    return FirstRun(admin_token, demo_token, tuple(staff))


def _added(directory: Directory, user: User, now: int) -> bool:
    """Add ``user`` unless it is there: services starting together on one database may both find no admin,
    and the one whose insert comes second issues nothing (and does not fail)."""
    if directory.user(user.id) is not None:
        return False
    try:
        directory.add_user(user, now)
    except StoreError:
        if directory.user(user.id) is None:
            raise
        return False
    return True


def seed_demo_day(desk: Desk, processes: Path) -> str:
    """The scripted demo day (Monday 2025-09-29) into an empty store; its summary line."""
    from ..demo import DemoStats, run_demo

    def seed() -> str:
        if desk.engine.cases():
            return "the store already holds cases: no demo day added"
        stats = DemoStats()
        for _line in run_demo(desk.engine, sorted(processes.glob("*.yaml")), stats):
            pass
        return f"demo day seeded: {stats.cases} cases, {stats.actions} actions, {stats.breaches} breaches"

    return desk.run(seed)


def build_service(
    config: ServeConfig,
    clock: Callable[[], float],
    processes: Path,
    *,
    wall_clock: Callable[[], float] | None = None,
    env: Mapping[str, str] | None = None,
    directory: str | None = None,
) -> Service:
    several = config.workers > 1
    desk = build_desk(config.db or "complaintflow.db", processes, clock, directory, writer_turns=several)
    metrics = Metrics(shared=several)
    desk.timer = metrics.engine_timer
    base_url = config.base_url or f"http://{config.host}:{config.port}"
    notifier = build_notifier(
        desk,
        metrics,
        config.channels,
        base_url=base_url.rstrip("/"),
        wall_clock=wall_clock or clock,
        env=env or {},
        lease_seconds=config.lease_seconds,
    )
    watch = CalendarWatch(desk, metrics, announce=notifier.announce if notifier else None)
    scheduler = Scheduler(desk, metrics, batch=config.batch, poll=config.poll_seconds, between=watch.check)
    return Service(
        desk, metrics, scheduler, notifier, config.host, config.port, config.head_timeout, config.body_timeout
    )
