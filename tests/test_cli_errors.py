"""One mapping from engine errors to exit codes: the same broken input reads the same in every command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from complaintflow.errors import ComplaintflowError

ROOT = Path(__file__).resolve().parent.parent
BROKEN = "process: x\nversion: 1\ntitle: {zh: x}\nstates: {}\nactions: {}\non: 1\n"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_every_engine_error_derives_from_the_one_base() -> None:
    from complaintflow import ConflictError, DefinitionError, RefusedError, StoreError
    from complaintflow.calendar import CalendarError
    from complaintflow.runtime.values import InputError
    from complaintflow.simulate import ScenarioError

    for kind in (ConflictError, DefinitionError, RefusedError, StoreError, CalendarError, InputError, ScenarioError):
        assert issubclass(kind, ComplaintflowError), kind
    assert str(RefusedError("why and what to do")) == "why and what to do"


def test_a_broken_file_reads_the_same_in_every_command(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BROKEN, encoding="utf-8")
    db = str(tmp_path / "cf.db")
    commands = [
        ["show", str(bad)],
        ["graph", str(bad)],
        ["diff", str(bad), "shopping_mall"],
        ["start", str(bad), "--as", "a", "--role", "b", "--db", db],
        ["simulate", str(bad), "--cases", "1"],
    ]
    seen = set()
    for command in commands:
        code, _, err = run(*command)
        last = err.strip().splitlines()[-1]
        seen.add((code, last))
        assert f"{bad}:6:1: error: unknown key 'on' [schema]" in err, command
    assert seen == {(1, f"error: {bad} has errors; fix them first (complaintflow validate {bad})")}
    assert not Path(db).exists()  # start refused before it made a store


def test_validate_takes_a_bundled_name_and_a_misspelt_one_is_a_usage_error() -> None:
    code, _, err = run("validate", "shopping_mall")
    assert code == 0 and "1 file(s) checked: 0 error(s)" in err
    code, _, err = run("validate", "shoping_mall")
    assert code == 2 and "did you mean 'shopping_mall'?" in err


def test_scenarios_are_checked_as_scenarios_not_as_processes(tmp_path: Path) -> None:
    code, out, _ = run("validate", str(ROOT / "scenarios"))
    assert code == 0 and out == ""
    bad = tmp_path / "s.yaml"
    bad.write_text("scenario: s\nstart: '2025-11-03 09:00'\ndeadlines: 1\n", encoding="utf-8")
    code, out, _ = run("validate", str(bad))
    assert code == 1
    assert out.startswith(f"{bad}:3:1: error: unknown key 'deadlines' [schema]\n  hint: allowed keys: scenario,")


@pytest.mark.parametrize(
    ("option", "value", "wording"),
    [("--now", "yesterday", "Invalid value for '--now'"), ("--data", "phone", "expected NAME=VALUE, got 'phone'")],
)
def test_bad_option_values_are_usage_errors(tmp_path: Path, option: str, value: str, wording: str) -> None:
    db = tmp_path / "cf.db"
    code, _, err = run("start", "shopping_mall", "--as", "a", "--role", "b", "--db", str(db), option, value)
    assert code == 2 and wording in err
    assert not db.exists()


def test_a_command_added_later_gets_the_same_mapping_without_catching_anything() -> None:
    from complaintflow import RefusedError
    from complaintflow.errors import UnusableInputError

    group = cli.CommandGroup()

    @group.command()
    def refuse() -> None:
        raise RefusedError("case c1 is closed; reopen it first")

    @group.command()
    def unusable() -> None:
        raise UnusableInputError("no store at 'x.db'")

    refused = CliRunner().invoke(group, ["refuse"])
    assert (refused.exit_code, refused.stderr) == (1, "error: case c1 is closed; reopen it first\n")
    bad = CliRunner().invoke(group, ["unusable"])
    assert (bad.exit_code, bad.stderr) == (2, "error: no store at 'x.db'\n")
    assert refused.exception is None or isinstance(refused.exception, SystemExit)


def test_a_file_that_cannot_be_written_is_one_line_and_exit_2(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    assert run("demo", "--db", str(db))[0] == 0
    target = tmp_path / "no" / "such" / "dir" / "r.md"
    code, _, err = run(
        "report", "--db", str(db), "--period", "2025-09", "--now", "2025-10-01 09:00", "--out", str(target)
    )
    assert code == 2
    assert err == f"error: cannot use {target}: No such file or directory\n"
