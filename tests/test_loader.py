"""The strict loader: the precise error a process owner gets for a badly written file.

Every bad input must come back as a positioned diagnostic (never a traceback), at the line of
the mistake, with a message and hint a process owner can act on.
"""

from __future__ import annotations

import pathlib
import re
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from complaintflow.language.check import check_bytes, check_file  # noqa: E402
from complaintflow.language.diagnostics import Diagnostic, Severity  # noqa: E402
from complaintflow.language.loader import MAX_BYTES, has_top_level_key, load_bytes  # noqa: E402

MINIMAL = """\
process: minimal
version: 1
title: {zh: 最小流程, en: Minimal process}
roles:
  clerk: {title: {zh: 客服专员}}
states:
  received: {title: {zh: 受理登记}, initial: true, owner: clerk}
  closed: {title: {zh: 结案归档}, final: true}
actions:
  close: {title: {zh: 结案}, from: received, to: closed, roles: [clerk]}
"""


def where(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    """1-based line and column (in characters) of the nth occurrence of ``needle``."""
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, col


def seen(problems: list[Diagnostic]) -> list[tuple[object, ...]]:
    """What a process owner reads: position, severity, message, rule and hint."""
    return [(d.line, d.col, d.severity.value, d.message, d.rule, d.hint) for d in problems]


def check(text: str) -> list[tuple[object, ...]]:
    process, problems = check_bytes(text.encode("utf-8"), "p.yaml")
    assert (process is None) == any(d.severity is Severity.ERROR for d in problems)
    return seen(problems)


def test_minimal_process_is_clean() -> None:
    process, problems = check_bytes(MINIMAL.encode("utf-8"), "p.yaml")
    assert problems == []
    assert process is not None and process.initial_state == "received"


# --------------------------------------------------------------------------- the owner's mistakes


def test_duplicate_key_cites_the_first_definition() -> None:
    text = MINIMAL.replace("actions:\n", "  received: {title: {zh: 重新受理}, owner: clerk}\nactions:\n")
    first, second = where(text, "received:"), where(text, "received:", 2)
    assert check(text) == [
        (
            *second,
            "error",
            f"duplicate key 'received' (previously defined at {first[0]}:{first[1]})",
            "duplicate-key",
            "remove one of them or rename it",
        )
    ]


def test_unknown_target_state_at_the_to_line() -> None:
    text = MINIMAL + "  reject: {title: {zh: 不予受理}, from: received, to: closd, roles: [clerk]}\n"
    assert check(text) == [
        (*where(text, "closd"), "error", "undefined state 'closd'", "undefined-state", "did you mean 'closed'?")
    ]
    assert where(text, "closd")[0] == where(text, "to: closd")[0]


def test_on_used_as_a_key_is_an_unknown_key_not_a_boolean() -> None:
    text = MINIMAL + "on: received\n"
    [problem] = check(text)
    line, col, severity, message, rule, hint = problem
    assert (line, col, severity, message, rule) == (*where(text, "on: received"), "error", "unknown key 'on'", "schema")
    assert str(hint).startswith("allowed keys: process, version, title")
    data = load_bytes(text.encode("utf-8")).data
    assert data["on"] == "received" and True not in data


def test_unquoted_clock_time() -> None:
    text = MINIMAL.replace("roles:\n", "calendar: office\ncalendars:\n  office: {statutory: china}\nroles:\n") + (
        "deadlines:\n  results_daily:\n    title: {zh: 每天交处理结果}\n    start: received\n    by: 17:00\n"
    )
    [problem] = check(text)
    line, col, severity, message, rule, hint = problem
    assert (line, col, severity, message, rule) == (
        *where(text, "17:00"),
        "error",
        "unquoted clock time 17:00",
        "unquoted-time",
    )
    assert "quotes" in str(hint) and '"17:00"' in str(hint) and "1020" in str(hint)


def _billion_laughs(levels: int = 9) -> str:
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_at_the_first_anchor_without_expanding() -> None:
    text = _billion_laughs()
    doc = load_bytes(text.encode("utf-8"), "bomb.yaml")
    assert doc.data is None  # nothing was built, let alone expanded
    assert seen(doc.diagnostics) == [
        (
            1,
            7,
            "error",
            "anchor '&lol0' is not allowed",
            "yaml-alias",
            "write the value out in full; anchors and aliases are refused",
        )
    ]
    assert check(text) == seen(doc.diagnostics)


def test_alias_is_refused() -> None:
    text = MINIMAL.replace("{title: {zh: 结案归档}, final: true}", "{title: &t {zh: 结案归档}, final: true}")
    assert [p[:5] for p in check(text)] == [(*where(text, "&t"), "error", "anchor '&t' is not allowed", "yaml-alias")]


def test_gbk_encoded_file() -> None:
    raw = MINIMAL.encode("gbk")
    process, problems = check_bytes(raw, "p.yaml")
    assert process is None
    [problem] = problems
    first_non_ascii = next(i for i, b in enumerate(raw) if b >= 0x80)
    line = raw.count(b"\n", 0, first_non_ascii) + 1
    col = first_non_ascii - (raw.rfind(b"\n", 0, first_non_ascii) + 1) + 1
    assert (problem.line, problem.col, problem.rule, problem.message) == (
        line,
        col,
        "encoding",
        "file is not UTF-8 (it looks like GBK/GB18030)",
    )
    assert (line, col) == (3, 13)  # the 最 of the title
    assert re.search(r"\bsave\b.*\bas UTF-8\b", problem.hint)


def test_truncated_file_is_a_syntax_error_at_the_cut() -> None:
    cut = MINIMAL[: MINIMAL.index("from: received") + len("from: rec")]
    [problem] = check(cut)
    line, col, severity, message, rule, hint = problem
    last_line = cut.rsplit("\n", 1)[1]
    assert (line, col, severity, rule) == (cut.count("\n") + 1, len(last_line) + 1, "error", "yaml-syntax")
    assert line == 10
    assert "flow mapping" in str(message)
    assert hint == "is the file complete and indented consistently?"


def test_huge_file_is_refused_without_reading_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.yaml"
    chunk = (b"# " + b"x" * 1021 + b"\n") * 1024  # 1 MiB of comment lines
    with path.open("wb") as handle:
        for _ in range(50):
            handle.write(chunk)
    size = path.stat().st_size
    assert size == 50 * 1024 * 1024 > MAX_BYTES

    def refuse(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("check_file read a file it should have refused by its size")

    monkeypatch.setattr(pathlib.Path, "read_bytes", refuse)
    monkeypatch.setattr(pathlib.Path, "read_text", refuse)
    process, problems = check_file(path)
    assert process is None
    assert seen(problems) == [
        (
            1,
            1,
            "error",
            f"file is {size:,} bytes, over the {MAX_BYTES:,}-byte limit",
            "file-too-large",
            "a process file is a few kilobytes; is this the right file?",
        )
    ]
    assert problems[0].file == str(path)


# --------------------------------------------------------------------------- YAML 1.2, not 1.1

SCALARS = [
    ("on", "on"),
    ("off", "off"),
    ("yes", "yes"),
    ("NO", "NO"),
    ("012", "012"),
    ("09", "09"),
    ("1.5", 1.5),
    ("1e3", 1000.0),
    ("2025-10-01", "2025-10-01"),
    ("true", True),
    ("false", False),
    ("12", 12),
]


@pytest.mark.parametrize(("plain", "expected"), SCALARS)
def test_yaml_1_2_resolution(plain: str, expected: object) -> None:
    doc = load_bytes(f"value: {plain}\n".encode())
    assert doc.diagnostics == []
    value = doc.data["value"]
    assert (value, type(value)) == (expected, type(expected))


@pytest.mark.parametrize(
    "text",
    [
        "value: !!python/object:builtins.str clerk\n",
        "value: !!python/object:collections.OrderedDict {zh: x}\n",
        'value: !!python/object/apply:os.system ["echo pwned"]\n',
    ],
    ids=["scalar", "mapping", "sequence"],
)
def test_python_object_tag_is_refused(text: str) -> None:
    doc = load_bytes(text.encode("utf-8"))
    assert [(d.line, d.col, d.rule) for d in doc.diagnostics] == [(1, 8, "yaml-tag")]
    assert "python/object" in doc.diagnostics[0].message


def test_merge_key_is_refused() -> None:
    text = MINIMAL.replace(
        "  close: {title: {zh: 结案}, from: received, to: closed, roles: [clerk]}\n",
        "  close:\n    <<: {roles: [clerk]}\n    title: {zh: 结案}\n    from: received\n    to: closed\n"
        "    roles: [clerk]\n",
    )
    assert check(text) == [
        (*where(text, "<<"), "error", "merge key '<<' is not allowed", "yaml-alias", "write the keys out in full")
    ]


# --------------------------------------------------------------------------- plain data stays intact

PRINTABLE = st.text().filter(str.isprintable)
# Strings PyYAML's YAML 1.1 dumper leaves unquoted although the loader's YAML 1.2 resolver reads them
# as numbers: digits with a leading zero ("09", today a bug: see test_known_round_trip_failures) and
# exponents without a dot ("1e3", a YAML 1.1/1.2 difference). And the key '<<', which the loader
# refuses even quoted. Drop this filter when test_known_round_trip_failures passes.
_PLAIN_NUMBER_IN_1_2 = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
SAFE_TEXT = PRINTABLE.filter(lambda s: not _PLAIN_NUMBER_IN_1_2.match(s) and s != "<<")


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(SAFE_TEXT, SAFE_TEXT))
def test_plain_string_mappings_load_back_equal(data: dict[str, str]) -> None:
    doc = load_bytes(yaml.safe_dump(data, allow_unicode=True).encode("utf-8"))
    if any(d.rule == "unquoted-time" for d in doc.diagnostics):
        return  # e.g. "0:00": a 1.1 dumper leaves it plain; the loader rightly asks for quotes
    assert doc.diagnostics == []
    assert doc.data == data
    assert all(type(k) is str and type(v) is str for k, v in doc.data.items())


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"a": "09"}, id="leading-zero-value"),
        pytest.param({"<<": "x"}, id="quoted-merge-key"),
    ],
)
def test_known_round_trip_failures(data: dict[str, str]) -> None:
    doc = load_bytes(yaml.safe_dump(data, allow_unicode=True).encode("utf-8"))
    assert doc.diagnostics == []
    assert doc.data == data and all(type(k) is str and type(v) is str for k, v in doc.data.items())


# --------------------------------------------------------------------------- never a traceback


@pytest.mark.parametrize("text", ["~\n", "null\n", "!\n", "--- ~\n"])
def test_null_document_is_an_error(text: str) -> None:
    process, problems = check_bytes(text.encode("utf-8"), "p.yaml")
    assert process is None
    assert [(d.line, d.rule) for d in problems if d.severity is Severity.ERROR] != []


def _consistent(raw: bytes) -> None:
    """check_bytes returned (no traceback) and gave no process only together with an error."""
    process, problems = check_bytes(raw, "p.yaml")
    if process is None and not problems and load_bytes(raw).data is None:
        return  # a null document: the known bug of test_null_document_is_an_error
    assert process is not None or any(d.severity is Severity.ERROR for d in problems)
    assert all(d.line >= 0 and d.col >= 0 and d.rule for d in problems)


_EXAMPLES = [MINIMAL] + [
    p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "lint_cases" / "ok").glob("*.yaml"))
]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(_EXAMPLES), st.integers(min_value=0), st.integers(0, 40), st.text(max_size=5))
def test_damaged_files_give_diagnostics_not_tracebacks(source: str, start: int, length: int, insert: str) -> None:
    start %= len(source)
    _consistent((source[:start] + insert + source[start + length :]).encode("utf-8"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_give_diagnostics_not_tracebacks(raw: bytes) -> None:
    _consistent(raw)


@pytest.mark.parametrize("path", sorted((ROOT / "processes").glob("*.yaml")), ids=lambda p: p.name)
def test_positions_made_late_are_the_ones_made_at_once(path: Path) -> None:
    raw = path.read_bytes()
    now, late = load_bytes(raw), load_bytes(raw, lazy_positions=True)
    assert late.marks and not now.marks  # kept, not yet placed
    assert late.at(("states",), key=True) == now.at(("states",), key=True)
    assert (late.positions, late.key_positions) == (now.positions, now.key_positions)
    assert len(now.positions) > 50 and not late.marks


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (MINIMAL, True),
        ("version: 1\nroles: {a: [1, {b: 2}]}\nprocess: x\n", True),  # read past other keys and their values
        ("scenario: x\nroles: {process: 1}\n", False),  # only the top level counts
        ("scenario: x\nx: &a 1\nprocess: y\n", False),  # load_bytes would refuse the anchor: no data at all
        ("process: x\nx: &a 1\n", True),  # read no further than the key
        ("a: [\nprocess: x\n", False),  # broken before the key
        ("- process\n", False),
        ("", False),
    ],
)
def test_has_top_level_key_reads_only_as_far_as_the_key(text: str, found: bool) -> None:
    assert has_top_level_key(text.encode("utf-8"), "process") is found
    data = load_bytes(text.encode("utf-8")).data
    if not found and isinstance(data, dict):
        assert "process" not in data  # never a process that validate would then take for a scenario
