"""The README's git textconv recipe: ``git diff`` shows the show tables, and the raw text of a version that does
not parse, instead of dying on it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
MINIMAL = (ROOT / "tests" / "lint_cases" / "ok" / "minimal.yaml").read_text(encoding="utf-8")


def test_show_or_raw_prints_a_broken_file_as_it_is(tmp_path: Path) -> None:
    broken = tmp_path / "p.yaml"
    broken.write_bytes("process: x\nstates: [\n\xff".encode("utf-8", "surrogateescape") + b"\xff\n")
    result = CliRunner().invoke(cli.main, ["show", "--or-raw", str(broken)])
    assert result.exit_code == 0
    assert result.stdout_bytes == broken.read_bytes()
    assert CliRunner().invoke(cli.main, ["show", str(broken)]).exit_code == 1  # without the flag: an error


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo), "GIT_PAGER": "cat"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_diff_with_the_readme_recipe_survives_an_invalid_version(tmp_path: Path) -> None:
    recipe = "git config diff.complaintflow.textconv 'complaintflow show --or-raw'"
    assert recipe in README
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    # the command git runs: this checkout's cli.py, under the interpreter running the tests
    _git(repo, "config", "diff.complaintflow.textconv", f"'{sys.executable}' '{ROOT / 'cli.py'}' show --or-raw")
    (repo / ".gitattributes").write_text("*.yaml diff=complaintflow\n", encoding="utf-8")
    process = repo / "p.yaml"
    process.write_text(MINIMAL, encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "valid")
    process.write_text(MINIMAL.replace("states:\n", "states: [\n"), encoding="utf-8")
    _git(repo, "commit", "-qam", "broken")
    out = _git(repo, "diff", "HEAD~1", "HEAD", "--", "p.yaml")
    assert "+states: [" in out  # the broken side, as text
    assert "-| id         | minimal         |" in out  # the valid side, as the show tables
