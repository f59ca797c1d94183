"""Field values on their own: checking typed values (the API) and coercing text (the CLI)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from complaintflow import canonical
from complaintflow.language.spec import ChecklistItem, Field, FieldType, Title
from complaintflow.runtime.values import InputError, check_value, check_values, coerce_text

TZ = "Asia/Shanghai"
FIELDS = {
    "content": Field("content", FieldType.STRING),
    "amount": Field("amount", FieldType.NUMBER),
    "urgent": Field("urgent", FieldType.BOOL),
    "severity": Field("severity", FieldType.ENUM, values=("general", "important", "major")),
    "visit_at": Field("visit_at", FieldType.DATETIME),
    "steps": Field(
        "steps",
        FieldType.CHECKLIST,
        items=(ChecklistItem("called_120", Title("已拨打120")), ChecklistItem("witnesses", Title("已联系目击证人"))),
    ),
}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("content", "退款未到账"),
        ("content", "ascii"),
        ("amount", 3000),
        ("amount", -1.5),
        ("amount", 2**53 - 1),
        ("amount", -(2**53) + 1),
        ("urgent", False),
        ("severity", "major"),
        ("visit_at", "2025-09-30 18:00"),
        ("visit_at", "2025-09-30T18:00:00+08:00"),
        ("steps", ["called_120", "witnesses"]),
        ("steps", []),
    ],
)
def test_values_of_the_declared_type_pass_unchanged(name: str, value: object) -> None:
    assert check_value(FIELDS[name], value, TZ) == value


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("content", 5, "content: expected text, got 5"),
        ("content", "\ud800", "content: the text is not valid Unicode"),
        ("amount", True, "amount: expected a number, got True"),
        ("amount", "3000", "amount: expected a number, got '3000'"),
        ("amount", 2**53, "amount: 9007199254740992 is too large"),
        ("amount", -(2**53), "amount: -9007199254740992 is too large; whole numbers must lie within ±(2^53 - 1)"),
        ("amount", math.nan, "amount: expected a finite number, got nan"),
        ("amount", -math.inf, "amount: expected a finite number, got -inf"),
        ("urgent", 1, "urgent: expected true or false, got 1"),
        ("severity", "majr", "severity: 'majr' is not one of general, important, major; did you mean 'major'?"),
        ("severity", "zzz", "severity: 'zzz' is not one of general, important, major"),
        ("visit_at", "tomorrow", "visit_at: cannot read 'tomorrow' as a time"),
        ("visit_at", 20250930, "visit_at: expected a date and time"),
        ("steps", ["called_12"], "steps: 'called_12' is not an item of this checklist; did you mean 'called_120'?"),
        ("steps", ["zzz"], "steps: 'zzz' is not an item of this checklist; items: called_120, witnesses"),
        ("steps", [1], "steps: 1 is not an item of this checklist"),
        ("steps", "called_120", "steps: expected a list of the ticked items' ids, got 'called_120'"),
    ],
)
def test_refusals_name_the_field_and_the_value(name: str, value: object, message: str) -> None:
    with pytest.raises(InputError) as caught:
        check_value(FIELDS[name], value, TZ)
    assert str(caught.value).startswith(message)
    if name == "severity" and value == "zzz":
        assert "did you mean" not in str(caught.value)


def test_check_values_drops_nones_and_refuses_unknown_names() -> None:
    assert check_values(FIELDS, {"amount": 1, "content": None}, TZ) == {"amount": 1}
    with pytest.raises(InputError, match="unknown field 'amout'; did you mean 'amount'?"):
        check_values(FIELDS, {"amout": 1}, TZ)
    with pytest.raises(
        InputError, match="unknown field 'zzz'; fields: content, amount, urgent, severity, visit_at, steps"
    ):
        check_values(FIELDS, {"zzz": 1}, TZ)


def test_a_checklist_keeps_its_ticks_once_each_in_the_fields_order() -> None:
    assert check_value(FIELDS["steps"], ["witnesses", "called_120", "witnesses"], TZ) == ["called_120", "witnesses"]
    assert coerce_text(FIELDS, {"steps": "witnesses, called_120,"}) == {"steps": ["witnesses", "called_120"]}


def test_coerce_text_reads_numbers_and_booleans_and_passes_the_rest() -> None:
    raw = {"amount": "-3000", "urgent": "TRUE", "severity": "major", "content": "12", "other": "x"}
    assert coerce_text(FIELDS, raw) == {
        "amount": -3000,
        "urgent": True,
        "severity": "major",
        "content": "12",
        "other": "x",
    }
    assert coerce_text(FIELDS, {"amount": "2.5", "urgent": "false"}) == {"amount": 2.5, "urgent": False}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"amount": "3千"}, "amount: expected a number, got '3千'"),
        ({"amount": "--5"}, "amount: expected a number, got '--5'"),
        ({"urgent": "yes"}, "urgent: expected true or false, got 'yes'"),
    ],
)
def test_coerce_text_refusals(raw: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        coerce_text(FIELDS, raw)


@given(st.integers(-(2**53) + 1, 2**53 - 1) | st.floats(allow_nan=False, allow_infinity=False))
def test_an_accepted_number_survives_canonical_json(value: float) -> None:
    checked = check_value(FIELDS["amount"], value, TZ)
    assert canonical.loads(canonical.dumps({"v": checked}))["v"] == value


@given(st.text(st.characters(exclude_categories=())))  # surrogates too
def test_accepted_text_survives_canonical_json_and_the_rest_is_refused(text: str) -> None:
    try:
        checked = check_value(FIELDS["content"], text, TZ)
    except InputError:
        with pytest.raises(UnicodeEncodeError):
            text.encode("utf-8")
    else:
        assert canonical.loads(canonical.dumps({"v": checked}))["v"] == text


@given(st.integers(-(10**6), 10**6) | st.floats(-1e6, 1e6, allow_nan=False))
def test_a_number_written_as_text_coerces_back_to_itself(value: float) -> None:
    assert coerce_text(FIELDS, {"amount": repr(value)})["amount"] == value
