"""The checker's shortcuts give the same answers as the long way round.

``check_schema`` takes jsonschema-rs's valid/invalid answer and runs jsonschema only to explain a
refusal, and the loader reads libyaml's events in one pass with the common cases written out in its
loop. Both are only worth having if nothing changes: the verdict must equal jsonschema's, and every
anchor and alias must still be refused where it stands.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_loader import MINIMAL

from complaintflow.language.check import check_bytes
from complaintflow.language.loader import load_bytes
from complaintflow.language.schema import _quick, _validator

ROOT = Path(__file__).resolve().parents[1]
PROCESS_FILES = sorted((ROOT / "processes").glob("*.yaml")) + [ROOT / "bench" / "complaint.yaml"]
LINT_CASES = sorted((ROOT / "tests" / "lint_cases").glob("*/*.yaml"))


def _verdicts(data: Any, name: str = "process.schema.json") -> tuple[bool, bool]:
    return _quick(name)(data), _validator(name).is_valid(data)


@pytest.mark.parametrize("path", PROCESS_FILES + LINT_CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_quick_verdict_matches_jsonschema_on_files(path: Path) -> None:
    data = load_bytes(path.read_bytes()).data
    fast, slow = _verdicts(data)
    assert fast == slow


_ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    1.0,
    2.5,
    "",
    "x",
    "Bad Name",
    "9:00",
    "2wd",
    "end_of_day",
    "enum",
    [],
    ["a"],
    ["a", "a"],
    ["a", 1],
    {},
    {"zh": "x"},
    {"zh": "x", "en": "y", "fr": "z"},
]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _paths(v, prefix + (i,))
    return found


def _mutated(data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The document with one value replaced, removed, or joined by a key it may not have."""
    data = copy.deepcopy(data)
    path = rng.choice(_paths(data)[1:])
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    roll = rng.random()
    if roll < 0.5:
        parent[path[-1]] = copy.deepcopy(rng.choice(_ODD_VALUES))
    elif roll < 0.75:
        del parent[path[-1]]
    elif isinstance(parent, dict):
        key = rng.choice(["extra", "values", "reset_by", "every", "within", "by", "then", "Bad Key"])
        parent[key] = copy.deepcopy(rng.choice(_ODD_VALUES))
    return data


def test_quick_verdict_matches_jsonschema_on_damaged_documents() -> None:
    rng = random.Random(20260523)
    originals = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in PROCESS_FILES]
    seen = set()
    for _ in range(150):
        data = _mutated(rng.choice(originals), rng)
        fast, slow = _verdicts(data)
        assert fast == slow, data
        seen.add(fast)
    assert {True, False} <= seen  # both answers were exercised


# --------------------------------------------------------------------------- anchors and aliases


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("roles: [clerk]", "roles: [*c]", "alias '*c' is not allowed"),
        ("roles: [clerk]", "roles: [clerk,*c]", "alias '*c' is not allowed"),
        ("to: closed", "to: *c", "alias '*c' is not allowed"),
        ("to: closed", "to:\t*c", "alias '*c' is not allowed"),
        ("{title: {zh: 结案归档}", "{title: &c {zh: 结案归档}", "anchor '&c' is not allowed"),
        ("{zh: 结案归档}", "{zh: &c 结案归档}", "anchor '&c' is not allowed"),
        ("process: minimal", "&c process: minimal", "anchor '&c' is not allowed"),
        ("roles:\n", "roles: &c\n", "anchor '&c' is not allowed"),
        ("  clerk: {", "  &c clerk: {", "anchor '&c' is not allowed"),
    ],
)
def test_anchors_and_aliases_are_refused_where_they_start(old: str, new: str, message: str) -> None:
    text = MINIMAL.replace(old, new)
    needle = message.split("'")[1]
    index = text.index(needle)
    line, col = text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1
    _, problems = check_bytes(text.encode("utf-8"), "p.yaml")
    assert [(d.line, d.col, d.message, d.rule) for d in problems] == [(line, col, message, "yaml-alias")]


def test_ampersand_and_star_inside_text_are_text() -> None:
    text = MINIMAL.replace("{zh: 结案归档}", "{zh: 赔付金额在***元以上, en: R&D x*y}")
    process, problems = check_bytes(text.encode("utf-8"), "p.yaml")
    assert problems == [] and process is not None
    assert load_bytes(text.encode("utf-8")).data["states"]["closed"]["title"] == {
        "zh": "赔付金额在***元以上",
        "en": "R&D x*y",
    }
