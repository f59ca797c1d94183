"""A throw-away PostgreSQL server for the tests: ``initdb`` in a temporary folder, ``pg_ctl`` on a Unix socket.

The server listens on no TCP port (``listen_addresses=''``), only on a socket in its own folder, and
trusts local connections, except for the role ``secretive`` (password ``right``) that the wrong-password
test logs in as. initdb refuses to run as root, so under root (CI containers) the server runs as
``nobody``, which owns the folder. Durability is off (``fsync=off``): the data is thrown away.
Each test gets a schema of its own in the database ``tests`` (``new_store``: the URL sets its
``search_path``), which costs a millisecond where a new database costs most of a second.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psycopg

SUPERUSER = "complaintflow"
HBA = "local all secretive scram-sha-256\nlocal all all trust\n"
# The tests throw the data away, so the server never waits for a disk (bench/pg_scale.py turns this back on).
NOT_DURABLE = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def find_initdb() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(candidates[-1]) if candidates else None


class Server:
    def __init__(self, initdb: Path, settings: str = NOT_DURABLE) -> None:
        self.bin = initdb.parent
        self.settings = settings
        self.folder = Path(tempfile.mkdtemp(prefix="cf-pg-"))  # short: a socket path has at most 107 bytes
        self.data = self.folder / "data"
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.folder, nobody.pw_uid, nobody.pw_gid)
            self._as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        self._names = itertools.count(1)

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            command, cwd=self.folder, capture_output=True, text=True, stdin=subprocess.DEVNULL, **self._as
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr or done.stdout}")

    def start(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        (self.data / "pg_hba.conf").write_text(HBA, encoding="utf-8")
        options = (
            f"-c listen_addresses='' -c unix_socket_directories={self.folder} {self.settings} -c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        with self.admin() as db:
            db.execute("CREATE ROLE secretive LOGIN PASSWORD 'right'")
            db.execute("CREATE DATABASE tests")

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str, user: str = SUPERUSER, password: str | None = None, schema: str | None = None) -> str:
        login = f"{user}:{password}" if password is not None else user
        path = f"-csearch_path%3D{schema}" if schema else ""
        return f"postgresql://{login}@/{database}?host={self.folder}" + (f"&options={path}" if path else "")

    def admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url("postgres"), autocommit=True)

    def new_store(self) -> str:
        """The URL of a new, empty schema of its own."""
        name = f"t{next(self._names)}"
        with psycopg.connect(self.url("tests"), autocommit=True) as db:
            db.execute(f"CREATE SCHEMA {name}")
        return self.url("tests", schema=name)
