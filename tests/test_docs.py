"""The documentation's examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_embedding_example_runs(capsys):
    text = (ROOT / "docs" / "embedding.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    exec(compile(code, "docs/embedding.md", "exec"), {})
    out = capsys.readouterr().out
    assert "refused: case" in out and "may not take action 'submit_result'" in out
    assert "deadline_breached results_by_17" in out
    assert "ops_manager" in out.splitlines()[-3]  # reassigned by the chain
    assert "1 overdue" in out


def test_every_bundled_process_names_the_schema_on_its_first_line():
    for path in sorted((ROOT / "processes").glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/process.schema.json", path.name
