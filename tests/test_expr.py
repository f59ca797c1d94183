"""The guard language on its own: parsing, the whitelist, evaluation and the checks against declared fields."""

from __future__ import annotations

import typing

import pytest

from complaintflow.language.expr import Guard, GuardError, parse_guard


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
