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


def test_a_built_wheel_imports_as_complaintflow_beside_a_file_named_engine_py(tmp_path):
    # A user's own engine.py must not shadow the package, and the wheel must install no "engine".
    from hatchling.builders.wheel import WheelBuilder

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
