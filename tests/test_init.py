"""``complaintflow init`` and ``complaintflow schema``: a new process file that validates, its schema beside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from complaintflow.resources import processes_dir, schema_path

BUNDLED = sorted(p.stem for p in processes_dir().glob("*.yaml"))


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _modeline_target(path: Path) -> Path:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    found = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert found, first
    return path.parent / found.group(1)


@pytest.mark.parametrize("template", [None, *BUNDLED])
def test_init_writes_a_process_that_validates_and_whose_modeline_resolves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template: str | None
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run("init", "my_mall", *(["--from", template] if template else []))
    assert code == 0, err
    new = tmp_path / "my_mall.yaml"
    assert _modeline_target(new).read_bytes() == schema_path().read_bytes()
    assert "\nprocess: my_mall\n" in new.read_text(encoding="utf-8")
    code, out, err = run("validate", str(new))
    assert (code, out) == (0, ""), out + err


def test_init_into_a_folder_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "plans" / "mall"
    target.parent.mkdir()
    assert run("init", str(target))[0] == 0
    first = (target.parent / "mall.yaml").read_text(encoding="utf-8")
    code, _, err = run("init", str(target), "--from", "shopping_mall")
    assert code == 2 and "already exists" in err
    assert (target.parent / "mall.yaml").read_text(encoding="utf-8") == first


def test_init_keeps_a_different_schema_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "process.schema.json").write_text("{}", encoding="utf-8")
    code, _, err = run("init", str(tmp_path / "a"))
    assert code == 0 and "kept the existing" in err
    assert (tmp_path / "process.schema.json").read_text(encoding="utf-8") == "{}"


@pytest.mark.parametrize(
    ("args", "wording"),
    [(["My-Mall"], "e.g. 'my_mall'"), (["x", "--from", "shoping_mall"], "did you mean 'shopping_mall'?")],
)
def test_init_refuses_bad_names_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], wording: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run("init", *args)
    assert code == 2 and wording in err
    assert list(tmp_path.iterdir()) == []


def test_schema_prints_its_text_or_its_path() -> None:
    code, out, _ = run("schema")
    assert code == 0 and out == schema_path().read_text(encoding="utf-8").rstrip("\n") + "\n"
    code, out, _ = run("schema", "--path")
    assert code == 0 and Path(out.strip()) == schema_path()
