"""The repository's own tooling and files: mypy's view of the package, the sdist, the licence, pre-commit."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

tomllib = pytest.importorskip("tomllib")  # Python 3.11 on; these checks need not run on 3.10

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_sees_engine_under_its_installed_name() -> None:
    link = ROOT / ".typecheck" / "complaintflow"
    assert link.is_symlink() and link.resolve() == ROOT / "engine"


def test_the_sdist_holds_engine_once_and_not_the_mypy_link(tmp_path: Path) -> None:
    from hatchling.builders.sdist import SdistBuilder

    (sdist,) = SdistBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "engine").rglob("*.py")}
    assert sources <= set(names)
    assert not [name for name in names if name.startswith(".typecheck")]


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_license_file_is_the_license_pyproject_declares() -> None:
    assert _pyproject()["project"]["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "END OF TERMS AND CONDITIONS" in text and "9. Accepting Warranty or Additional Liability." in text


def test_pre_commit_hooks_run_the_check_extras_tools_locally() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    extra = " ".join(_pyproject()["project"]["optional-dependencies"]["check"])
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert [repo["repo"] for repo in config["repos"]] == ["local"]  # nothing is fetched
    assert {hook["language"] for hook in hooks} == {"system"}
    tools = {hook["entry"].split()[0].removeprefix(".venv/bin/") for hook in hooks}
    assert tools == {"ruff", "mypy"} and all(tool in extra for tool in tools)


def test_the_wheel_and_the_command_give_the_packages_version(tmp_path: Path) -> None:
    import zipfile
    from email.parser import Parser

    from click.testing import CliRunner
    from hatchling.builders.wheel import WheelBuilder

    import cli
    import complaintflow

    assert "version" in _pyproject()["project"]["dynamic"]  # written once, in engine/__init__.py
    (wheel,) = WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(name).decode())
    assert metadata["Version"] == complaintflow.__version__
    result = CliRunner().invoke(cli.main, ["--version"])
    assert result.output == f"complaintflow, version {complaintflow.__version__}\n"


def test_the_changelog_has_a_section_for_the_packages_version() -> None:
    import complaintflow

    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in text
    assert f"## [{complaintflow.__version__}] - " in text
