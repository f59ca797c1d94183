"""What a store fault means, in plain words with what to do: the one reader of SQLite's error codes.

SQLite names each failure (``sqlite_errorname`` on its exceptions: ``SQLITE_FULL``, ``SQLITE_READONLY``,
``SQLITE_CORRUPT``...). ``describe`` turns one into a ``StoreError`` saying what is wrong with which file
and what to do; ``refuse_unusable_path`` checks a store's path before SQLite opens it, so a missing
folder, a directory, an unreadable file or a zero-byte file for a command that only reads is named as
such instead of as "not a complaintflow store", and nothing is created. This module reads exceptions
by their attributes and never imports sqlite3 (whose home is store/sqlite.py).
"""

from __future__ import annotations

import functools
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from .base import StoreError


class UnusableStoreError(StoreError):
    """A store path that names no usable file (a missing folder, a folder, a device): bad input, exit 2."""

    exit_code = 2


RESTORE = "restore it from a backup (complaintflow verify checks the copy)"
_ADVICE = {
    "SQLITE_FULL": "the disk is full: free space and retry; nothing acknowledged was lost",
    "SQLITE_READONLY": "it is read-only (file permissions or a read-only mount): nothing was written; "
    "make it writable, or copy it somewhere writable",
    "SQLITE_CORRUPT": f"it is damaged ({{detail}}): {RESTORE}",
    "SQLITE_NOTADB": f"it is not an SQLite file, or its first page is damaged: check the path, or {RESTORE}",
    "SQLITE_CANTOPEN": "it cannot be opened ({detail}): check that its folder exists and is writable",
    "SQLITE_PERM": "permission denied: check the file's and its folder's permissions",
    "SQLITE_BUSY": "another program holds it locked: retry when it has finished; nothing was written",
    "SQLITE_LOCKED": "another program holds it locked: retry when it has finished; nothing was written",
}
_PREFIXES = (
    ("SQLITE_IOERR", f"reading or writing it failed ({{detail}}): check the disk; if this repeats, {RESTORE}"),
)
# Errors without an SQLite code that only a damaged file produces.
_DAMAGE_WORDS = ("could not decode", "no such table", "no such column", "malformed")


def is_store_fault(exc: BaseException) -> bool:
    """Whether ``exc`` came from SQLite (its exceptions carry ``sqlite_errorname``)."""
    return type(exc).__module__ == "sqlite3" or hasattr(exc, "sqlite_errorname")


def describe(exc: BaseException, path: str) -> StoreError:
    """A StoreError naming ``path``, what went wrong and what to do."""
    detail = " ".join(str(exc).split()) or type(exc).__name__
    code = getattr(exc, "sqlite_errorname", "") or ""
    advice = _ADVICE.get(code)
    for prefix, words in _PREFIXES:
        if advice is None and code.startswith(prefix):
            advice = words
    if advice is None and any(word in detail.lower() for word in _DAMAGE_WORDS):
        advice = _ADVICE["SQLITE_CORRUPT"]
    if advice is None:
        advice = f"SQLite says: {detail}; if the file was copied or edited by hand, {RESTORE}"
    return StoreError(f"store {path}: {advice.format(detail=detail)}")


# Tables every store of the current format has; one missing means the file was damaged or edited.
REQUIRED_TABLES = frozenset({"meta", "processes", "cases", "events"})


def damaged(path: str, what: str) -> StoreError:
    return StoreError(f"store {path}: it is damaged ({what}): {RESTORE}")


def refuse_missing_tables(path: str, tables: set[str]) -> None:
    missing = sorted(REQUIRED_TABLES - tables)
    if missing:
        raise damaged(path, f"no table {', '.join(missing)}")


def format_version(path: str, value: object, *, known: tuple[int, ...]) -> int:
    """The stored format number; one that is not a number, or older than any known format, is damage
    (a newer one is for the caller to refuse as 'upgrade complaintflow')."""
    if isinstance(value, str) and value.isdigit() and (int(value) in known or int(value) > max(known)):
        return int(value)
    raise StoreError(
        f"store {path}: its format_version is {value!r}, which no complaintflow store has: it is damaged; {RESTORE}"
    )


def _refuse_missing(path: str, folder: Path, *, create: bool) -> None:
    if not folder.is_dir():
        raise UnusableStoreError(f"store {path}: no folder {str(folder)!r}; create it first, or check the path")
    if not create:
        raise UnusableStoreError(f"store {path}: no such file (start a case there first, or check the path)")
    if not os.access(folder, os.W_OK):
        raise UnusableStoreError(f"store {path}: folder {str(folder)!r} is not writable, so no store can be made there")


def refuse_unusable_path(path: str, *, create: bool) -> None:
    """Raise StoreError for a path SQLite could not use as a store, before anything opens it.

    ``create`` (only a command that starts cases): a missing file may be made. Without it, a missing or
    zero-byte file is refused, so a command that only reads never creates or initialises a store.
    """
    if path == ":memory:":
        return
    target = Path(path)
    try:
        info = target.stat()
    except FileNotFoundError:
        _refuse_missing(path, target.parent, create=create)
        return
    except OSError as exc:
        raise UnusableStoreError(
            f"store {path}: cannot be read ({exc.strerror}); check the path and its permissions"
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise UnusableStoreError(f"store {path}: is a folder, not a store file; name the .db file inside it")
    if not stat.S_ISREG(info.st_mode):
        raise UnusableStoreError(f"store {path}: is not a regular file (a device or FIFO); name the .db file")
    if not os.access(target, os.R_OK):
        raise UnusableStoreError(f"store {path}: cannot be read (permission denied); check its permissions")
    if info.st_size == 0 and not create:
        raise StoreError(
            f"store {path}: the file is empty (0 bytes), so it holds no history; "
            f"{RESTORE}, or remove it if no store was meant to be there"
        )


_Method = TypeVar("_Method", bound=Callable[..., Any])


def named(method: _Method) -> _Method:
    """A store method whose SQLite failures (disk full, read-only, damaged) leave as ``describe``'s StoreError."""

    @functools.wraps(method)
    def calling(store: Any, /, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(store, *args, **kwargs)
        except Exception as exc:
            if is_store_fault(exc):
                raise describe(exc, str(getattr(store, "path", "?"))) from None
            raise

    return cast(_Method, calling)


# -- a WAL beside the file that belongs to another store ------------------------------------------
# Each store gets a random mark in its header's user_version (4 bytes at offset 60 of page 1) when it is
# made. A WAL is a log of page images: if its latest image of page 1 carries another mark, SQLite would
# replay another store's pages over this one and show that store's history as this one's.
_WAL_MAGIC = (0x377F0682, 0x377F0683)
_MARK_OFFSET = 60


def new_store_mark() -> int:
    """The random, non-zero mark a new store keeps in its header (PRAGMA user_version)."""
    return secrets.randbelow(2**31 - 1) + 1


def _wal_page_one_mark(wal: Path) -> int | None:
    """The mark in the WAL's newest valid image of page 1, or None (no WAL, no such image, not a WAL)."""
    try:
        with open(wal, "rb") as handle:
            header = handle.read(32)
            if len(header) < 32 or int.from_bytes(header[:4], "big") not in _WAL_MAGIC:
                return None
            page_size = int.from_bytes(header[8:12], "big") or 65536
            salts = header[16:24]
            mark = None
            offset = 32
            while True:
                handle.seek(offset)
                frame = handle.read(24)
                if len(frame) < 24 or frame[8:16] != salts:  # the end, or frames left from an older log
                    return mark
                if int.from_bytes(frame[:4], "big") == 1:
                    handle.seek(offset + 24 + _MARK_OFFSET)
                    mark = int.from_bytes(handle.read(4), "big")
                offset += 24 + page_size
    except OSError:
        return None


def refuse_foreign_wal(path: str) -> None:
    """Raise StoreError when the WAL beside ``path`` was written for another store."""
    try:
        with open(path, "rb") as handle:
            handle.seek(_MARK_OFFSET)
            raw = handle.read(4)
    except OSError:
        return
    file_mark = int.from_bytes(raw, "big") if len(raw) == 4 else 0
    if file_mark == 0:
        return  # a new store whose marked page 1 is only in its WAL yet, or one made before marks
    wal_mark = _wal_page_one_mark(Path(f"{path}-wal"))
    if wal_mark is not None and wal_mark != file_mark:
        raise StoreError(
            f"store {path}: the WAL beside it ({path}-wal) belongs to another store; nothing was read or "
            f"changed. Move that WAL away (the file alone holds the history up to its last checkpoint), "
            f"or {RESTORE}"
        )
