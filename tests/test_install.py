"""What an install carries: the command runs cli.py, and a wheel holds the bundled processes and schemas."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import venv
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _editable() -> bool:
    text = metadata.distribution("complaintflow").read_text("direct_url.json")
    return bool(text and json.loads(text).get("dir_info", {}).get("editable"))


@pytest.mark.skipif(not _editable(), reason="complaintflow is not installed in editable mode here")
def test_the_command_of_an_editable_install_runs_the_checkouts_cli():
    # A copy of cli.py made at install time would keep running old code after every edit.
    import complaintflow_cli

    import cli

    assert complaintflow_cli.main is cli.main
    assert Path(cli.__file__).resolve() == ROOT / "cli.py"


def test_a_wheel_carries_cli_py_under_its_own_name_and_the_bundled_files(tmp_path):
    from hatchling.builders.wheel import WheelBuilder

    (wheel,) = WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert archive.read("complaintflow_cli.py") == (ROOT / "cli.py").read_bytes()
    assert "cli.py" not in names  # no top-level module with a name another project could also use
    for folder in ("processes", "schemas", "scenarios"):
        bundled = {p.name for p in (ROOT / folder).iterdir() if p.is_file()}
        assert bundled and all(f"complaintflow/_data/{folder}/{name}" in names for name in bundled), folder
    assert not any(name.startswith("engine/") for name in names)  # the source folder's name stays home


def _site_packages(python: Path) -> str:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the built wheel installed, and no checkout on its path."""
    from hatchling.builders.wheel import WheelBuilder

    tmp_path = tmp_path_factory.mktemp("wheel")
    (wheel,) = WheelBuilder(str(ROOT)).build(directory=str(tmp_path / "dist"), versions=["standard"])
    venv_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(venv_dir)
    python = venv_dir / "bin" / "python"
    # The dependencies come from this test's own environment, read as a plain directory: its .pth files
    # (the editable install's import hook among them) are not run for a directory named in a .pth.
    deps = Path(_site_packages(python)) / "deps.pth"
    deps.write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index", wheel],
        check=True,
    )
    return venv_dir


def test_a_built_wheel_imports_as_complaintflow_beside_a_file_named_engine_py(wheel_venv, tmp_path):
    # A user's own engine.py must not shadow the package, and the wheel must install no "engine".
    venv_dir = wheel_venv
    python = venv_dir / "bin" / "python"
    work = tmp_path / "project"
    work.mkdir()
    (work / "engine.py").write_text("raise SystemExit('the user engine.py was imported')\n", encoding="utf-8")
    probe = (
        "import complaintflow, importlib.util, sys; from complaintflow import Engine, load_process; "
        "print(complaintflow.__file__); "
        "print(importlib.util.find_spec('engine').origin)"
    )
    out = subprocess.run([str(python), "-c", probe], cwd=work, check=True, capture_output=True, text=True).stdout
    package_file, engine_origin = out.split()
    assert Path(package_file).is_relative_to(venv_dir)
    assert Path(engine_origin) == work / "engine.py"  # the only "engine" is the user's own file
    shown = subprocess.run(
        [str(venv_dir / "bin" / "complaintflow"), "show", "shopping_mall"], cwd=work, capture_output=True, text=True
    )
    assert shown.returncode == 0 and "shopping_mall" in shown.stdout, shown.stderr


def test_a_process_owner_starts_from_a_bundled_process_with_the_wheel_alone(wheel_venv, tmp_path):
    # The done-when: init from a bundled process, write a deadline as 3min, validate names the units.
    command = str(wheel_venv / "bin" / "complaintflow")
    work = tmp_path / "owner"
    work.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([command, *args], cwd=work, capture_output=True, text=True)

    made = run("init", "my_mall", "--from", "shopping_mall")
    assert made.returncode == 0, made.stderr
    schema = work / "process.schema.json"
    assert schema.read_bytes() == (ROOT / "schemas" / "process.schema.json").read_bytes()
    text = (work / "my_mall.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=process.schema.json\n")
    assert run("validate", "my_mall.yaml").returncode == 0
    assert "within: 24h" in text
    (work / "my_mall.yaml").write_text(text.replace("within: 24h", "within: 3min", 1), encoding="utf-8")
    checked = run("validate", "my_mall.yaml")
    assert checked.returncode == 1
    assert "unknown unit 'min' in '3min'" in checked.stdout
    assert "wd (working days), wh (working hours)" in checked.stdout and "write '3m'" in checked.stdout
    assert "wh (working hours)" in json.loads(schema.read_text(encoding="utf-8"))["$defs"]["duration"]["errorMessage"]
    assert run("validate", "shopping_mall").returncode == 0  # a bundled name, from the wheel's own data


@pytest.mark.skipif(not _editable(), reason="needs the editable install's finder to take away")
def test_cli_py_runs_from_a_checkout_that_was_never_installed(tmp_path):
    # Without an install, nothing maps the name complaintflow: cli.py takes engine/ beside itself.
    probe = (
        "import sys, importlib.util, runpy\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if getattr(f, '__name__', '') != 'RedirectingFinder']\n"
        "assert importlib.util.find_spec('complaintflow') is None, 'an install still provides complaintflow'\n"
        "sys.argv = ['cli.py', 'validate', 'shopping_mall']\n"
        f"runpy.run_path({str(ROOT / 'cli.py')!r}, run_name='__main__')\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "0 error(s)" in run.stderr
