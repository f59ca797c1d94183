"""Store faults in plain words (issue 14, item 4): each names the file, what is wrong and what to do,
and a command that only reads never creates or initialises a store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from complaintflow import Actor, Engine
from complaintflow.resources import processes_dir
from complaintflow.store import faults
from complaintflow.store.base import StoreError
from complaintflow.store.sqlite import SQLiteStore

START = ["--as", "wang", "--role", "general_affairs", "--data", "customer_name=a", "--data", "content=b"]
READERS = [["verify"], ["cases"], ["history", "x"], ["case", "x"], ["report", "--period", "2025-11"]]
AT = 1_760_000_000


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, list(args))
    assert "Traceback" not in result.stderr + result.stdout
    return result.exit_code, result.stderr


@pytest.fixture
def good(tmp_path: Path) -> Path:
    db = tmp_path / "good.db"
    engine = Engine(db)
    process = engine.load_process(processes_dir() / "general_affairs_dispatch.yaml")
    engine.start(process, {"customer_name": "a", "content": "b"}, Actor("wang", ("general_affairs",)), at=AT)
    engine.close()  # the WAL is copied back into the file, so the file alone is the store
    return db


def _edit(db: Path, sql: str) -> None:
    connection = sqlite3.connect(db)
    connection.execute(sql)
    connection.commit()
    connection.close()


@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0])
def test_a_reading_command_never_initialises_a_zero_byte_file(tmp_path: Path, command: list[str]) -> None:
    db = tmp_path / "zero.db"
    db.write_bytes(b"")
    code, err = run(*command, "--db", str(db))
    assert code == 1 and "the file is empty (0 bytes)" in err and "restore it from a backup" in err
    assert db.read_bytes() == b"" and sorted(p.name for p in tmp_path.iterdir()) == ["zero.db"]


@pytest.mark.parametrize("command", [*READERS, ["start", "general_affairs_dispatch", *START]], ids=lambda c: c[0])
def test_a_missing_folder_is_named(tmp_path: Path, command: list[str]) -> None:
    code, err = run(*command, "--db", str(tmp_path / "nowhere" / "x.db"))
    assert code == 2 and "no folder" in err and "nowhere" in err
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("UPDATE meta SET value='abc' WHERE key='format_version'", "format_version is 'abc'"),
        ("DELETE FROM meta WHERE key='format_version'", "format_version is None"),
        ("UPDATE meta SET value='0' WHERE key='format_version'", "format_version is '0'"),
        ("DROP TABLE events", "damaged (no table events)"),
    ],
    ids=["format-abc", "format-missing", "format-0", "dropped-table"],
)
def test_a_damaged_store_says_restore_from_backup(good: Path, sql: str, words: str) -> None:
    _edit(good, sql)
    before = good.read_bytes()
    for command in (["verify"], ["cases"]):
        code, err = run(*command, "--db", str(good))
        assert code == 1 and words in err and "restore it from a backup" in err
    assert good.read_bytes() == before


def test_a_file_cut_mid_page_says_restore_from_backup(good: Path) -> None:
    _edit(good, "PRAGMA wal_checkpoint(TRUNCATE)")  # everything into the main file, which is then cut
    raw = good.read_bytes()
    good.write_bytes(raw[:6000])  # one page and a half: the schema page survives, the tables' pages do not
    for command in (["verify"], ["cases"]):
        code, err = run(*command, "--db", str(good))
        assert code == 1 and "damaged" in err and "restore it from a backup" in err


def test_a_full_disk_says_free_space_and_nothing_acknowledged_was_lost(tmp_path: Path) -> None:
    engine = Engine(tmp_path / "full.db")
    process = engine.load_process(processes_dir() / "general_affairs_dispatch.yaml")
    clerk = Actor("wang", ("general_affairs",))
    pages = engine.store.db.execute("PRAGMA page_count").fetchone()[0]  # type: ignore[attr-defined]
    engine.store.db.execute(f"PRAGMA max_page_count={pages + 2}")  # type: ignore[attr-defined]
    opened = []
    with pytest.raises(StoreError) as caught:
        for i in range(10_000):
            opened.append(engine.start(process, {"customer_name": "a" * 2000, "content": "b"}, clerk, at=AT + i).id)
    assert "the disk is full: free space and retry; nothing acknowledged was lost" in str(caught.value)
    assert opened and [engine.case(case_id).id for case_id in opened] == opened
    assert engine.verify() == []


def test_a_read_only_store_says_nothing_was_written(good: Path) -> None:
    connection = sqlite3.connect(f"file:{good}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as caught:
        connection.execute("DELETE FROM cases")
    message = str(faults.describe(caught.value, str(good)))
    assert "it is read-only" in message and "nothing was written" in message


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("SQLITE_CORRUPT", "it is damaged"),
        ("SQLITE_NOTADB", "not an SQLite file"),
        ("SQLITE_IOERR_SHORT_READ", "reading or writing it failed"),
        ("SQLITE_CANTOPEN", "cannot be opened"),
        ("SQLITE_BUSY", "another program holds it locked"),
    ],
)
def test_each_sqlite_code_has_its_words(code: str, words: str) -> None:
    error = sqlite3.OperationalError("detail")
    error.sqlite_errorname = code  # type: ignore[attr-defined]
    assert words in str(faults.describe(error, "x.db"))


def test_a_directory_or_device_as_the_store_is_named(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder"):
        faults.refuse_unusable_path(str(tmp_path), create=True)
    with pytest.raises(StoreError, match="not a regular file"):
        faults.refuse_unusable_path("/dev/null", create=False)


def test_the_store_itself_refuses_a_bad_format_version(good: Path) -> None:
    _edit(good, "UPDATE meta SET value='x1' WHERE key='format_version'")
    with pytest.raises(StoreError, match="format_version is 'x1'"):
        SQLiteStore(good)


def _store_with_open_wal(path: Path, cases: int) -> Engine:
    engine = Engine(path)
    process = engine.load_process(processes_dir() / "general_affairs_dispatch.yaml")
    for i in range(cases):
        engine.start(process, {"customer_name": "a", "content": "b"}, Actor("wang", ("general_affairs",)), at=AT + i)
    return engine  # left open: its WAL still holds the latest pages


def test_a_wal_that_belongs_to_another_store_is_refused(tmp_path: Path) -> None:
    import shutil

    mine, other = tmp_path / "mine.db", tmp_path / "other.db"
    _store_with_open_wal(mine, 3).close()  # everything checkpointed into mine.db
    reopened = _store_with_open_wal(mine, 1)
    probe = Engine(mine)
    assert len(probe.cases()) == 4  # its own WAL is read as usual
    # Closed here, not whenever the collector gets to it: a connection closing later would checkpoint
    # (and reset) the WAL the test swaps in below.
    probe.close()
    reopened.close()
    keep = _store_with_open_wal(other, 5)
    shutil.copy(f"{other}-wal", f"{mine}-wal")
    shutil.copy(f"{other}-shm", f"{mine}-shm")
    before = mine.read_bytes()
    with pytest.raises(StoreError, match="belongs to another store"):
        Engine(mine)
    code, err = run("verify", "--db", str(mine))
    assert code == 1 and "belongs to another store" in err
    assert mine.read_bytes() == before
    keep.close()
