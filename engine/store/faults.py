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
