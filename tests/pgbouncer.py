"""A throw-away PgBouncer in transaction mode in front of the tests' PostgreSQL server (tests/pgserver.py).

It listens on a Unix socket in its own folder only (no ``listen_addr``, so no TCP port), with a small pool
(``default_pool_size = 2``) so that several clients share each server connection, as they would in
production. PgBouncer refuses to run as root, so under root (CI containers) it runs as ``nobody``, like the
server. Clients log in without a password (``auth_type = trust``; the names must be in ``auth_file``).

A store behind PgBouncer cannot choose its schema with ``options=-csearch_path=...`` (PgBouncer 1.18 refuses
the startup parameter, or drops it with ``ignore_startup_parameters``), so ``new_store`` makes a role and a
schema of the same name: the default ``search_path`` (``"$user", public``) puts the store's tables there,
which is also what docs/postgres.md advises (or ``ALTER ROLE ... SET search_path``). Its URLs carry
``prepare_threshold=none``: PgBouncer 1.18 cannot pass server-side prepared statements in transaction mode.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from pgserver import SUPERUSER, Server

PORT = 6432  # only names the socket file (.s.PGSQL.6432) in the bouncer's own folder
ROLES = 400  # role names b1..b400 in the auth file, one per store a test asks for
_NAMES = itertools.count(1)  # shared by every bouncer of the session: they front one server


def find_pgbouncer() -> Path | None:
    found = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
    return Path(found) if found else None


class Bouncer:
    def __init__(self, binary: Path, server: Server, *, pool_size: int = 2, query_wait: int = 20) -> None:
        self.binary, self.server = binary, server
        self.folder = Path(tempfile.mkdtemp(prefix="cf-pgb-"))
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.folder, nobody.pw_uid, nobody.pw_gid)
            self._as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        names = [SUPERUSER, *(f"b{n}" for n in range(1, ROLES + 1))]
        (self.folder / "users.txt").write_text("".join(f'"{name}" ""\n' for name in names), encoding="utf-8")
        (self.folder / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host={server.folder} port=5432\n"
            "[pgbouncer]\n"
            f"unix_socket_dir = {self.folder}\n"
            f"listen_port = {PORT}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {pool_size}\n"
            "max_client_conn = 200\n"
            "auth_type = trust\n"
            f"auth_file = {self.folder / 'users.txt'}\n"
            f"logfile = {self.folder / 'log'}\n"
            "server_login_retry = 1\n"
            f"query_wait_timeout = {query_wait}\n",
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.folder / f".s.PGSQL.{PORT}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(self.binary), "-q", str(self.folder / "pgbouncer.ini")],
            cwd=self.folder,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **self._as,
        )
        deadline = time.monotonic() + 30
        while not self.socket.exists():  # waiting for a subprocess to come up, not for time to pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "log").read_text(encoding="utf-8", errors="replace")
                raise RuntimeError(f"pgbouncer did not start: {log[-2000:]}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "tests", user: str = SUPERUSER, *, prepare: bool = False) -> str:
        """A URL through the bouncer; without ``prepare``, with prepared statements off as docs/postgres.md says."""
        off = "" if prepare else "&prepare_threshold=none"
        return f"postgresql://{user}@/{database}?host={self.folder}&port={PORT}{off}"

    def new_store(self) -> str:
        """The URL, through the bouncer, of a new, empty schema of its own (a role of the same name)."""
        name = f"b{next(_NAMES)}"
        with psycopg.connect(self.server.url("tests"), autocommit=True) as db:
            db.execute(f"CREATE ROLE {name} LOGIN")
            db.execute(f"CREATE SCHEMA {name} AUTHORIZATION {name}")
        return self.url("tests", name)
