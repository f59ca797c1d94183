"""What an install carries: the command runs cli.py, and a wheel holds the bundled processes and schemas."""
from __future__ import annotations

import json
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
        assert bundled and all(f"engine/_data/{folder}/{name}" in names for name in bundled), folder
