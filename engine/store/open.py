"""Which store a ``--db`` names: a PostgreSQL URL opens the PostgreSQL store, anything else an SQLite file.

The one place that tells them apart, so the CLI, ``serve`` and ``Engine("...")`` accept the same values;
``open_directory`` puts the service's own tables in the same database.
The PostgreSQL store is imported only when a URL asks for it: psycopg is an optional extra.
"""

from __future__ import annotations

from pathlib import Path

from .base import Store
from .directory import Directory
from .faults import UnusableStoreError

URL_SCHEMES = ("postgresql://", "postgres://")


def is_database_url(db: str | Path) -> bool:
    return isinstance(db, str) and db.startswith(URL_SCHEMES)


def open_store(db: str | Path, *, writer_turns: bool = False) -> Store:
    """``writer_turns``: SQLite writers of several processes queue on a lock file (store/writer_turns.py)."""
    if is_database_url(db):
        try:
            from .postgres import PostgresStore
        except ImportError:
            raise UnusableStoreError(
                "--db names a PostgreSQL database, but psycopg is not installed: pip install 'complaintflow[postgres]'"
            ) from None
        return PostgresStore(str(db))
    from .sqlite import SQLiteStore

    return SQLiteStore(db, writer_turns=writer_turns)


def open_directory(db: str | Path, directory: str | Path | None = None) -> Directory:
    """The service's tables beside store ``db``: in its PostgreSQL database, or in its SQLite file; an
    SQLite file ``directory`` instead, when given (the ``--directory`` of earlier releases)."""
    if directory is None and is_database_url(db):
        from .pg_directory import PostgresDirectory

        return PostgresDirectory(str(db))
    from .sqlite_directory import SQLiteDirectory

    return SQLiteDirectory(directory or db)
