"""Duration and schedule mistakes name the accepted units and a fix, in the CLI and in the editor's schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from complaintflow.language.durations import UNITS, explain_duration, explain_schedule, parse_duration

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "schemas" / "process.schema.json").read_text("utf-8"))


@pytest.mark.parametrize(
    ("text", "fix"),
    [
        ("3min", "'3m'"),
        ("2天", "'2d' (calendar days) or '2wd' (working days)"),
        ("1.5h", "'90m'"),
        ("0m", "'1m'"),
        ("3 m", "'3m'"),
        ("5 个工作日", "'5wd'"),
    ],
)
def test_a_mistaken_duration_names_every_unit_and_a_fix(text: str, fix: str) -> None:
    message, hint = explain_duration(text)
    assert all(f"{unit} ({words})" in message for unit, words in UNITS.items()), message
    assert fix in hint
    with pytest.raises(ValueError, match="wh \\(working hours\\)"):
        parse_duration(text)


def test_every_quarterly_points_at_the_longest_schedule() -> None:
    message, hint = explain_schedule("quarterly")
    assert "daily HH:MM" in message and "monthly DAY HH:MM" in message
    assert "monthly 1 09:00" in hint


def _refs_under(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if "$ref" in node else set()
        return found.union(*(_refs_under(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs_under(v) for v in node))
    return set()


@pytest.mark.parametrize("key", ["within", "every"])
def test_the_editor_shows_a_unit_message_instead_of_the_regex(key: str) -> None:
    Draft202012Validator.check_schema(SCHEMA)
    refs = _refs_under(SCHEMA["$defs"]["deadline"]["properties"][key])
    assert refs & {"#/$defs/duration", "#/$defs/budget"}  # a deadline's budget is a duration or `immediately`
    for ref in refs:
        node = SCHEMA["$defs"][ref.removeprefix("#/$defs/")]
        assert "pattern" in node and "m (" not in node["pattern"]
        message = node["errorMessage"]
        assert "wd" in message and "wh" in message and "working hours" in message, ref
