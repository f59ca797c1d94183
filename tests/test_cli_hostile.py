"""Hostile command lines from issue 14: each gives one line and its exit code, never a traceback.

Bytes that are not UTF-8 in any argument, a directory, device or FIFO as a process, a directory as
the store, ``--out`` into a missing folder, ``--period`` out of range, and the last-resort net that
turns an unexpected exception into one line naming the command and ``--debug``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli

START = ["--as", "wang", "--role", "general_affairs", "--data", "customer_name=a", "--data", "content=b"]
NOW = ["--now", "2025-11-03 10:00"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    assert "Traceback" not in result.stderr + result.stdout
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def store(tmp_path: Path) -> tuple[str, str]:
    db = str(tmp_path / "cf.db")
    code, out, _ = run("start", "general_affairs_dispatch", *START, "--db", db, *NOW)
    assert code == 0
    return db, out.strip()


def _store_bytes(db: str) -> bytes:
    return Path(db).read_bytes()


@pytest.mark.parametrize(
    "args",
    [
        ["case", "\udcffab"],
        ["history", "ab\udcfe"],
        ["act", "CASE", "pass_to_sales_manager", "--as", "\udcff", "--role", "general_affairs"],
    ],
    ids=["case-id", "history-id", "as"],
)
def test_an_argument_that_is_not_utf8_is_a_usage_error(store: tuple[str, str], args: list[str]) -> None:
    db, case_id = store
    before = _store_bytes(db)
    code, _, err = run(*[case_id if a == "CASE" else a for a in args], "--db", db)
    assert code == 2 and "is not valid UTF-8 text" in err
    assert _store_bytes(db) == before


@pytest.mark.parametrize(
    ("period", "words"),
    [
        ("0001-01-01..9999-12-31", "past the year 9999"),
        ("1990-01-01..2200-01-01", "more than 100 years"),
        ("1900-01", "before 1970"),
        ("2025-13", "month must be 01..12"),
        ("2025-02-30..2025-03-01", "not a calendar date"),
    ],
)
def test_a_period_out_of_range_is_a_usage_error(store: tuple[str, str], period: str, words: str) -> None:
    code, _, err = run("report", "--db", store[0], "--period", period)
    assert code == 2 and words in err and "--period" in err


def test_a_period_in_range_reports(store: tuple[str, str]) -> None:
    code, out, _ = run("report", "--db", store[0], "--period", "2025-11", "--format", "json")
    assert code == 0 and out.strip().startswith("{")


def test_out_into_a_missing_folder_is_one_line(store: tuple[str, str], tmp_path: Path) -> None:
    code, _, err = run("report", "--db", store[0], "--period", "2025-11", "--out", str(tmp_path / "no" / "r.md"))
    assert code == 2 and err.strip().count("\n") == 0 and "No such file or directory" in err


@pytest.mark.parametrize("kind", ["device", "fifo", "directory"])
def test_a_path_that_is_not_a_regular_file_is_refused_without_reading_it(tmp_path: Path, kind: str) -> None:
    if kind == "device":
        path = "/dev/zero"
    elif kind == "fifo":
        path = str(tmp_path / "p.yaml")
        os.mkfifo(path)  # opening it to read would wait for a writer for ever
    else:
        path = str(tmp_path / "d.yaml")
        os.mkdir(path)
    for command in (["show", path], ["start", path, *START, "--db", str(tmp_path / "x.db")]):
        code, _, err = run(*command)
        assert code == 1 and "not a regular file" in err
    assert not (tmp_path / "x.db").exists()


def test_validate_refuses_a_device_without_reading_it() -> None:
    code, out, _ = run("validate", "/dev/zero")
    assert code == 1 and "/dev/zero is a device or socket, not a regular file [io]" in out


def test_a_directory_as_the_store_is_one_line(tmp_path: Path) -> None:
    for command in (["cases"], ["start", "general_affairs_dispatch", *START]):
        code, _, err = run(*command, "--db", str(tmp_path))
        assert code == 2 and err.startswith("error: ") and err.strip().count("\n") == 0


def test_an_unexpected_exception_is_one_line_naming_the_command_and_debug(
    store: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import complaintflow.report.timeline as timeline

    def broken(*args: object, **kwargs: object) -> str:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(timeline, "describe_case", broken)
    code, _, err = run("case", store[1], "--db", store[0])
    assert code == 2
    assert err.strip() == (
        "error: complaintflow case failed unexpectedly (ZeroDivisionError: a bug); "
        "run it again with --debug (complaintflow --debug case ...) for the traceback"
    )
    result = CliRunner().invoke(cli.main, ["--debug", "case", store[1], "--db", store[0]])
    assert isinstance(result.exception, ZeroDivisionError)  # --debug lets the traceback through
