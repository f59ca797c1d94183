"""Every line of docs/service.md's curl tour runs verbatim against a real service."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .serving import serving

DOC = Path(__file__).resolve().parent.parent.parent / "docs" / "service.md"


def tour() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## A curl tour", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed (.ci/run installs it)")
def test_the_curl_tour_runs_as_written(tmp_path):
    script = tour()
    assert script.count("curl ") >= 10
    with serving(tmp_path) as served:
        run = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            errors="replace",
            env={"CF": served.base_url, "TOKEN": served.admin_token, "PATH": "/usr/bin:/bin"},
            timeout=120,
        )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "428 without If-Match" in run.stdout
    assert '"intact":true' in run.stdout
    assert re.search(r"etag: \"2\"|etag: \"1\"", run.stdout, re.I)
