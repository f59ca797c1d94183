"""Golden cases for the process checker, in the style of actionlint's testdata.

``tests/lint_cases/err/<rule-id>[-variant].yaml`` is a small process with exactly one kind of
problem; ``<same>.out`` is the exact text ``complaintflow validate`` prints for it, with the path
relative to the repository root. ``tests/lint_cases/ok/*.yaml`` must give no problem at all.

To add a case: write the .yaml, run ``.venv/bin/python cli.py validate tests/lint_cases/err/X.yaml
> tests/lint_cases/err/X.out`` from the repository root, then read the .out and check that every
line:col points at the right token before committing it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import cli  # noqa: E402  (the command line lives at the repository root)
from complaintflow.calendar import parse_local  # noqa: E402
from complaintflow.language.check import check_file  # noqa: E402
from complaintflow.language.diagnostics import format_text, has_errors  # noqa: E402
from complaintflow.language.rules import RULES  # noqa: E402

CASES = Path("tests") / "lint_cases"  # relative to ROOT: the paths the .out files show
ERR_CASES = sorted((ROOT / CASES / "err").glob("*.yaml"))
OK_CASES = sorted((ROOT / CASES / "ok").glob("*.yaml"))
RULES_MD = ROOT / "docs" / "rules.md"

RULE_IDS = [rule.id for rule in RULES]
LOADER_RULE_IDS = [
    "file-too-large",
    "encoding",
    "yaml-syntax",
    "yaml-alias",
    "yaml-key",
    "duplicate-key",
    "yaml-tag",
    "unquoted-time",
    "nesting-too-deep",
    "lone-surrogate",
]
BUILD_RULE_IDS = ["bad-duration", "bad-time", "bad-date", "calendar-extends-cycle", "calendar-extends-too-long"]
# Checks that run only when validate is given --now; their cases are checked at this time.
NOW_CASES = {"calendar-data-ending": "2090-12-01 09:00"}
ALL_RULE_IDS = RULE_IDS + LOADER_RULE_IDS + ["schema"] + BUILD_RULE_IDS + list(NOW_CASES)
# Checks outside RULES that must also have a golden case (file-too-large and encoding are covered
# in test_loader.py; bad-duration cannot be reached past the schema, which checks durations first).
GOLDEN_EXTRA = [
    "bad-time",
    "bad-date",
    "calendar-data-ending",
    "calendar-extends-cycle",
    "calendar-extends-too-long",
    "lone-surrogate",
    "nesting-too-deep",
    "duplicate-key",
    "yaml-alias",
    "yaml-key",
    "yaml-syntax",
    "yaml-tag",
    "unquoted-time",
    "schema",
]

# Cases whose .out holds what the checker SHOULD print; today it prints something wrong.
# strict=True: once the checker is fixed the case passes, and the marker must be removed.
# Cases whose .out holds what the checker should print but does not yet (none now).
KNOWN_WRONG: dict[str, str] = {}


def rule_of(name: str) -> str | None:
    """The rule id a case file is named after: the longest id that is the name or its prefix."""
    matches = [r for r in ALL_RULE_IDS if name == r or name.startswith(r + "-")]
    return max(matches, key=len) if matches else None


def _param(path: Path) -> pytest.param:
    reason = KNOWN_WRONG.get(path.stem)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(path, id=path.stem, marks=marks)


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _relative(path: Path) -> Path:
    return path.relative_to(ROOT)


def _expected(path: Path) -> str:
    return path.with_suffix(".out").read_text(encoding="utf-8")


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr into stdout unless told not to
    except TypeError:
        return CliRunner()  # click >= 8.2 keeps result.stdout apart from result.stderr


# --------------------------------------------------------------------------- the case files


def test_there_are_cases() -> None:
    assert len(ERR_CASES) >= 40
    assert len(OK_CASES) >= 4


@pytest.mark.parametrize("path", ERR_CASES, ids=lambda p: p.stem)
def test_err_case_is_named_after_a_rule_and_has_an_out_file(path: Path) -> None:
    assert rule_of(path.stem) is not None, f"{path.name}: name it <rule-id>[-variant].yaml"
    assert path.with_suffix(".out").is_file(), f"{path.name} has no .out file"


def test_no_out_file_without_a_case() -> None:
    orphans = [p.name for p in sorted((ROOT / CASES / "err").glob("*.out")) if not p.with_suffix(".yaml").is_file()]
    assert orphans == []


@pytest.mark.parametrize("path", [_param(p) for p in ERR_CASES])
def test_err_case_output(path: Path) -> None:
    now = NOW_CASES.get(path.stem)
    process, problems = check_file(_relative(path), now=parse_local(now, "Asia/Shanghai") if now else None)
    text = format_text(problems)
    assert text + "\n" == _expected(path)
    assert f"[{rule_of(path.stem)}]" in text
    assert (process is None) == has_errors(problems)  # warnings alone still give a usable process


@pytest.mark.parametrize("path", [_param(p) for p in ERR_CASES])
def test_validate_prints_the_out_file(path: Path) -> None:
    now = NOW_CASES.get(path.stem)
    result = _runner().invoke(cli.main, ["validate", str(_relative(path)), *(["--now", now] if now else [])])
    assert result.stdout == _expected(path)
    errors = " error: " in result.stdout
    assert result.exit_code == (1 if errors else 0), result.stdout


@pytest.mark.parametrize("path", OK_CASES, ids=lambda p: p.stem)
def test_ok_case_is_clean(path: Path) -> None:
    process, problems = check_file(_relative(path))
    assert problems == [], format_text(problems)
    assert process is not None


def test_validate_ok_folder_exits_0_and_prints_nothing() -> None:
    result = _runner().invoke(cli.main, ["validate", str(CASES / "ok")])
    assert result.exit_code == 0
    assert result.stdout == ""


# --------------------------------------------------------------------------- coverage of the rules


def test_every_rule_has_an_err_case() -> None:
    covered = {rule_of(p.stem) for p in ERR_CASES}
    missing = [r for r in RULE_IDS + GOLDEN_EXTRA if r not in covered]
    assert missing == [], f"add tests/lint_cases/err/<rule-id>.yaml and .out for: {', '.join(missing)}"


def test_every_rule_is_documented() -> None:
    headings = set(re.findall(r"^## (\S+)\s*$", RULES_MD.read_text(encoding="utf-8"), flags=re.M))
    missing = [r for r in ALL_RULE_IDS if r not in headings]
    assert missing == [], f"add a '## <rule-id>' section to docs/rules.md for: {', '.join(missing)}"


def test_every_documented_rule_section_has_fail_and_pass_examples() -> None:
    text = RULES_MD.read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    thin = [
        s.split("\n", 1)[0] for s in sections if s.split("\n", 1)[0].strip() in ALL_RULE_IDS and s.count("```yaml") < 2
    ]
    assert thin == [], f"sections without a FAIL and a PASS yaml example: {thin}"


# --------------------------------------------------------------------------- JSON output

JSON_CASES = {
    "undefined-state": [
        {
            "file": "tests/lint_cases/err/undefined-state.yaml",
            "line": 16,
            "col": 9,
            "severity": "error",
            "message": "undefined state 'closd'",
            "rule": "undefined-state",
            "path": "$.actions.reject.to",
            "hint": "did you mean 'closed'?",
        }
    ],
    "pii-unmarked": [
        {
            "file": "tests/lint_cases/err/pii-unmarked.yaml",
            "line": 10,
            "col": 18,
            "severity": "warning",
            "message": "field 'contact_phone' looks like personal data but is not marked pii",
            "rule": "pii-unmarked",
            "path": "$.fields.contact_phone",
            "hint": "add 'pii: true' so exports and reports mask it",
        }
    ],
}


@pytest.mark.parametrize("name", sorted(JSON_CASES))
def test_validate_json(name: str) -> None:
    path = CASES / "err" / f"{name}.yaml"
    result = _runner().invoke(cli.main, ["validate", str(path), "--format", "json"])
    data = json.loads(result.stdout)
    assert data == JSON_CASES[name]
    for item in data:
        assert set(item) == {"file", "line", "col", "severity", "message", "rule", "path", "hint"}
    assert result.exit_code == (1 if any(d["severity"] == "error" for d in data) else 0)


def test_validate_json_matches_the_text_output() -> None:
    """Every case: the JSON names the same positions, rules and messages as the .out file."""
    paths = [str(_relative(p)) for p in ERR_CASES if p.stem not in KNOWN_WRONG and p.stem not in NOW_CASES]
    result = _runner().invoke(cli.main, ["validate", *paths, "--format", "json"])
    as_text = []
    for d in json.loads(result.stdout):
        line = f"{d['file']}:{d['line']}:{d['col']}: {d['severity']}: {d['message']} [{d['rule']}]"
        as_text.append(line + (f"\n  hint: {d['hint']}" if d["hint"] else ""))
    expected = "".join(_expected(ROOT / p) for p in paths)
    assert "\n".join(as_text) + "\n" == expected
    assert result.exit_code == 1


# --------------------------------------------------------------------------- docs/rules.md against the goldens


def _documented_messages() -> list[tuple[str, list[str]]]:
    """(rule id, lines of one ```text block) for every message block printed in a rule's section."""
    found = []
    for section in re.split(r"^## ", RULES_MD.read_text(encoding="utf-8"), flags=re.M)[1:]:
        rule = section.split("\n", 1)[0].strip()
        if rule not in ALL_RULE_IDS:
            continue
        for block in re.findall(r"```text\n(.*?)```", section, flags=re.S):
            for line in block.splitlines():  # one message: its error/warning line and the hint lines below it
                if re.match(r"(error|warning): ", line):
                    found.append((rule, [line]))
                elif line.startswith("  hint: ") and found and found[-1][0] == rule:
                    found[-1][1].append(line)
    return found


def _appears_in(lines: list[str], out_lines: list[str]) -> bool:
    """The block's lines end consecutive lines of the .out file (which adds file:line:col before them)."""
    return any(
        all(out_lines[start + i].endswith(line) for i, line in enumerate(lines))
        for start in range(len(out_lines) - len(lines) + 1)
    )


DOCUMENTED = _documented_messages()
NO_GOLDEN = {
    "file-too-large": "a file over the limit is too big for a golden case; test_loader.py checks the message",
    "encoding": "test_loader.py checks the message on GBK bytes",
    "bad-duration": "the schema refuses every bad duration first; test_duration_hints.py checks parse_duration",
}


def test_the_rules_doc_prints_messages() -> None:
    assert len({rule for rule, _ in DOCUMENTED}) >= 30


@pytest.mark.parametrize(("rule", "lines"), DOCUMENTED, ids=[f"{r}:{lines[0][:40]}" for r, lines in DOCUMENTED])
def test_every_message_in_the_rules_doc_appears_in_that_rules_golden_output(rule: str, lines: list[str]) -> None:
    if rule in NO_GOLDEN:
        pytest.skip(NO_GOLDEN[rule])
    outs = [p.with_suffix(".out") for p in ERR_CASES if rule_of(p.stem) == rule]
    assert any(_appears_in(lines, out.read_text(encoding="utf-8").splitlines()) for out in outs), (
        f"docs/rules.md prints for {rule!r} a message no tests/lint_cases/err/{rule}*.out holds:\n" + "\n".join(lines)
    )
