"""The guard language on its own: parsing, the whitelist, evaluation and the checks against declared fields."""

from __future__ import annotations

import operator
import typing

import pytest
from hypothesis import given
from hypothesis import strategies as st

from complaintflow.language.expr import Guard, GuardError, check_guard, parse_guard
from complaintflow.language.spec import Field, FieldType


def test_guard_type_hints_resolve() -> None:
    # The tree annotation once named ast.expression, which does not exist; mypy --strict found it.
    hints = typing.get_type_hints(Guard)
    assert hints["tree"].__name__ == "Expression"


@pytest.mark.parametrize(
    ("text", "message", "col"),
    [
        ("flag == True", "write 'true', not 'True'", 9),
        ("flag != False", "write 'false', not 'False'", 9),
        ("owner == None", "write 'null', not 'None'", 10),
    ],
)
def test_python_spellings_of_literals_get_the_guard_spelling(text: str, message: str, col: int) -> None:
    with pytest.raises(GuardError) as caught:
        parse_guard(text)
    assert (caught.value.message, caught.value.col) == (message, col)


def test_other_constants_are_named_in_the_refusal() -> None:
    with pytest.raises(GuardError, match=r"the literal b'x' is not allowed in a guard"):
        parse_guard("code == b'x'")


# --------------------------------------------------------------------------- evaluation

DATA = {"severity": "major", "amount": 3000, "urgent": True, "channel": "phone", "tags": ["vip", "repeat"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("severity == 'major'", True),
        ("severity != 'major'", False),
        ("amount >= 3000 and urgent", True),
        ("amount > 3000 or not urgent", False),
        ("1000 < amount <= 3000", True),
        ("1000 < amount < 3000", False),
        ("channel in ['phone', 'web']", True),
        ("channel not in ('phone', 'web')", False),
        ("'vip' in tags", True),
        ("amount * 2 - 1000 == 5000", True),
        ("amount / 4 == 750", True),
        ("-amount < 0", True),
        ("urgent == true and missing == null", True),
        ("missing > 3", False),  # a missing field compares false, it does not crash
        ("missing in ['a']", False),
        ("'a' in missing", False),
        ("'a' not in missing", True),
        ("amount / 0 == 1", False),
        ("severity + 1 == 2", False),
    ],
)
def test_guards_evaluate(text: str, expected: bool) -> None:
    assert parse_guard(text)(DATA) is expected


def test_names_are_the_fields_a_guard_reads() -> None:
    guard = parse_guard("severity == 'major' and (amount > 1 or urgent == true)")
    assert guard.names == {"severity", "amount", "urgent"}


def test_a_guard_over_several_lines_reads_as_one() -> None:
    assert parse_guard("amount > 1\nand urgent")(DATA) is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "a guard must be a non-empty expression"),
        ("   ", "a guard must be a non-empty expression"),
        ("amount >", "guard syntax error"),
        ("len(tags) > 1", "a function call is not allowed in a guard"),
        ("case.amount > 1", "attribute access is not allowed in a guard"),
        ("tags[0] == 'vip'", "indexing is not allowed in a guard"),
        ("amount if urgent else 0", "an if-expression is not allowed in a guard"),
        ("(x := 1)", "assignment is not allowed in a guard"),
        ("amount is 3", "operator 'Is' is not allowed in a guard"),
        ("amount % 2 == 0", "BinOp is not allowed in a guard"),
        ("~amount", "UnaryOp is not allowed in a guard"),
        ("{'a': 1}", "a dict is not allowed in a guard"),
    ],
)
def test_refusals(text: str, message: str) -> None:
    with pytest.raises(GuardError) as caught:
        parse_guard(text)
    assert caught.value.message.startswith(message)


def test_a_syntax_error_at_the_end_points_just_past_the_text() -> None:
    with pytest.raises(GuardError) as caught:
        parse_guard("amount > 1 and")
    assert caught.value.col == len("amount > 1 and") + 1


def test_a_refusal_points_at_the_offending_node() -> None:
    with pytest.raises(GuardError) as caught:
        parse_guard("amount > 1 and max(amount) > 2")
    assert caught.value.col == len("amount > 1 and ") + 1


# --------------------------------------------------------------------------- checks against the fields

FIELDS = {
    "severity": Field("severity", FieldType.ENUM, values=("general", "important", "major")),
    "amount": Field("amount", FieldType.NUMBER),
}


def test_check_guard_names_undeclared_fields_with_a_suggestion() -> None:
    (problem,) = check_guard(parse_guard("amout > 1"), FIELDS)
    assert (problem.message, problem.col, problem.hint) == (
        "guard reads undeclared field 'amout'",
        1,
        "did you mean 'amount'?",
    )


def test_check_guard_refuses_enum_values_the_field_cannot_have() -> None:
    problems = check_guard(parse_guard("severity in ['general', 'majr'] or 'x' == severity"), FIELDS)
    assert [(p.message.split(" is ")[0], p.col, p.hint) for p in problems] == [
        ("'majr'", 25, "did you mean 'major'?"),
        ("'x'", 36, ""),
    ]


def test_check_guard_accepts_literals_and_declared_values() -> None:
    assert check_guard(parse_guard("severity == 'major' and amount > 1 and amount != null"), FIELDS) == []


# --------------------------------------------------------------------------- properties

_names = st.sampled_from(["a", "b", "c"])
_values = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["x", "y"]))


@given(st.dictionaries(_names, _values), st.integers(-5, 5))
def test_comparisons_agree_with_python_or_are_false(data: dict[str, object], n: int) -> None:
    for op, fn in [("<", operator.lt), ("<=", operator.le), ("==", operator.eq), ("!=", operator.ne)]:
        try:
            expected = bool(fn(data.get("a"), n))
        except TypeError:
            expected = False  # mismatched types never crash a guard
        assert parse_guard(f"a {op} {n}")(data) is expected


@given(st.dictionaries(_names, _values))
def test_not_negates_and_de_morgan_holds(data: dict[str, object]) -> None:
    a_and_b = parse_guard("a == 1 and b == 'x'")(data)
    assert parse_guard("not (a == 1 and b == 'x')")(data) is (not a_and_b)
    assert parse_guard("not a == 1 or not b == 'x'")(data) is (not a_and_b)


@given(st.text(max_size=30))
def test_parse_guard_only_raises_guard_error(text: str) -> None:
    try:
        guard = parse_guard(text)
    except GuardError as error:
        assert error.col >= 1
    else:
        guard({})  # whatever parses also evaluates on an empty case
