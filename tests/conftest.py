"""Shared fixtures: paths of the bundled processes and a fresh engine on a temporary store."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

PROCESSES = ROOT / "processes"


@pytest.fixture
def processes_dir() -> Path:
    return PROCESSES


# -- stores: the conformance suite runs each store-contract test on every store ----------------------

STORE_KINDS = ("memory", "sqlite", "postgres")


@pytest.fixture(scope="session")
def postgres_server():
    """A throw-away PostgreSQL server for the session (tests/pgserver.py); skipped where PostgreSQL is not
    installed, unless COMPLAINTFLOW_REQUIRE_POSTGRES=1 (CI), where that is a failure."""
    import os

    from pgserver import find_initdb

    missing = None
    initdb = find_initdb()
    if initdb is None:
        missing = "PostgreSQL is not installed (no initdb on PATH or under /usr/lib/postgresql/*/bin)"
    else:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            missing = "psycopg is not installed (pip install -e '.[test]')"
    if missing is not None:
        if os.environ.get("COMPLAINTFLOW_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{missing}, and COMPLAINTFLOW_REQUIRE_POSTGRES=1")
        pytest.skip(f"{missing}; the PostgreSQL store is not tested")
    from pgserver import Server

    assert initdb is not None
    server = Server(initdb)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """The URL of a new, empty store on the session's server (a schema of its own)."""
    return str(postgres_server.new_store())


def store_at(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """Where a test's store of ``kind`` lives: None for memory, a file for SQLite, a URL for PostgreSQL."""
    if kind == "memory":
        return None
    if kind == "sqlite":
        return str(tmp_path / "t.db")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=STORE_KINDS)
def store_address(request, tmp_path: Path) -> str | None:
    return store_at(request.param, request, tmp_path)


@pytest.fixture(params=STORE_KINDS[1:])
def shared_address(request, tmp_path: Path) -> str:
    """A store several processes can open: an SQLite file or a PostgreSQL database."""
    address = store_at(request.param, request, tmp_path)
    assert address is not None
    return address


@pytest.fixture
def any_store(store_address: str | None):
    """A new, empty store of each kind in turn: memory, SQLite, PostgreSQL."""
    from complaintflow.store.memory import MemoryStore
    from complaintflow.store.open import open_store

    store = MemoryStore() if store_address is None else open_store(store_address)
    yield store
    store.close()


# -- the service directory: its contract runs on SQLite and on PostgreSQL ----------------------------


DIRECTORY_KINDS = ("sqlite", "postgres")


@pytest.fixture(params=DIRECTORY_KINDS)
def directory_place(request, tmp_path: Path):
    """A store of each directory backend in turn, as (address, a function opening one more directory on it,
    its lease clock): every directory opened is a connection of its own, as a second process's would be."""
    from directories import Clock, postgres_clock

    from complaintflow.store.open import open_store

    address = str(tmp_path / "t.db") if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))
    open_store(address).close()  # the directory lives beside a store
    if request.param == "sqlite":
        from complaintflow.store.sqlite_directory import SQLiteDirectory

        clock, conn = Clock(), None
        kind = SQLiteDirectory
    else:
        from complaintflow.store.pg_directory import PostgresDirectory

        clock, conn = postgres_clock(address)
        kind = functools.partial(PostgresDirectory, clock_sql="(SELECT t FROM test_clock)")
    made = []

    def open_one():
        made.append(kind(address))
        return made[-1]

    yield address, open_one, clock
    for directory in made:
        directory.close()
    if conn is not None:
        conn.close()
