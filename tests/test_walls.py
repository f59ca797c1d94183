"""Architecture walls: each third-party library in its one home, no wall clock below cli.py."""

from __future__ import annotations

import re
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "engine"
HOMES = {
    "yaml": {"language/loader.py"},
    "jsonschema": {"language/schema.py"},
    "jsonschema_rs": {"language/schema.py"},
    "transitions": {"runtime/machine.py"},
    "pendulum": {"calendar.py"},
    "chinese_calendar": {"calendar.py"},
    "lunar_python": {"holiday_law.py"},
    "sqlite3": {"store/sqlite.py", "store/sqlite_directory.py"},
    "psycopg": {"store/postgres.py", "store/pg_directory.py"},  # the directory: its own tables, not the Store protocol
    # the web pages' routes are a second, deliberate home (engine/service/web/ is the pages' package)
    "fastapi": {"service/app.py", "service/web/routes.py"},
    "starlette": {"service/app.py", "service/web/routes.py"},
    "pydantic": {"service/app.py"},
    "uvicorn": {"service/runner.py", "service/slow_clients.py"},
    "argon2": {"service/auth.py"},
    "prometheus_client": {"service/metrics.py"},
    "orjson": {"canonical.py"},
    "rfc8785": {"canonical.py"},
    "httpx": {"service/notify/transport.py"},
    "cryptography": {"audit/signing.py"},
    "click": set(),
}


def _sources() -> dict[str, str]:
    return {str(p.relative_to(ENGINE)): p.read_text(encoding="utf-8") for p in ENGINE.rglob("*.py")}


def test_each_library_is_imported_only_in_its_home():
    for library, homes in HOMES.items():
        pattern = re.compile(rf"^\s*(import {library}\b|from {library}\b)", re.M)
        users = {name for name, text in _sources().items() if pattern.search(text)}
        assert users <= homes, f"{library} imported outside its home: {sorted(users - homes)}"


def test_nothing_below_cli_reads_the_wall_clock():
    clock = re.compile(r"\b(time\.time|datetime\.now|datetime\.utcnow|pendulum\.now|date\.today|time\.monotonic)\(")
    offenders = [name for name, text in _sources().items() if clock.search(text)]
    assert offenders == []
