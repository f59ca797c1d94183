"""Wrong argument types through the Python API raise the package's BadArgumentError, in plain words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from complaintflow import Actor, Engine
from complaintflow.errors import BadArgumentError, ComplaintflowError
from complaintflow.resources import processes_dir

AT = 1_760_000_000
CLERK = Actor("wang", ("general_affairs",))


@pytest.fixture
def engine_and_case() -> tuple[Engine, Any, str]:
    engine = Engine(":memory:")
    process = engine.load_process(processes_dir() / "general_affairs_dispatch.yaml")
    case = engine.start(process, {"customer_name": "a", "content": "b"}, CLERK, at=AT)
    return engine, process, case.id


CALLS: dict[str, Callable[[Engine, Any, str], object]] = {
    "act at text": lambda e, p, c: e.act(c, "pass_to_sales_manager", CLERK, {"record_no": "1"}, at="text"),  # type: ignore[arg-type]
    "tick 2**70": lambda e, p, c: e.tick(2**70),
    "tick negative": lambda e, p, c: e.tick(-1),
    "tick bool": lambda e, p, c: e.tick(True),
    "act inputs list": lambda e, p, c: e.act(c, "pass_to_sales_manager", CLERK, ["x"], at=AT + 60),  # type: ignore[arg-type]
    "start data list": lambda e, p, c: e.start(p, ["x"], CLERK, at=AT),  # type: ignore[arg-type]
    "start actor id int": lambda e, p, c: e.start(p, {}, Actor(1, ("r",)), at=AT),  # type: ignore[arg-type]
    "act case id bytes": lambda e, p, c: e.act(b"x", "y", CLERK, at=AT),  # type: ignore[arg-type]
    "history surrogate id": lambda e, p, c: e.history("\udcff"),
    "case id int": lambda e, p, c: e.case(5),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("name", list(CALLS))
def test_a_wrong_argument_is_a_bad_argument_error(engine_and_case: tuple[Engine, Any, str], name: str) -> None:
    engine, process, case_id = engine_and_case
    before = engine.history(case_id)
    with pytest.raises(BadArgumentError) as caught:
        CALLS[name](engine, process, case_id)
    assert isinstance(caught.value, ComplaintflowError) and caught.value.exit_code == 2
    assert "Traceback" not in str(caught.value) and len(str(caught.value).splitlines()) == 1
    assert engine.history(case_id) == before  # nothing changed


def test_right_arguments_still_work(engine_and_case: tuple[Engine, Any, str]) -> None:
    engine, _, case_id = engine_and_case
    case = engine.act(case_id, "pass_to_sales_manager", CLERK, {"record_no": "1"}, at=AT + 60)
    assert case.state == "with_sales_manager"
    assert isinstance(engine.tick(AT + 120), list)  # tick at a plain int runs
