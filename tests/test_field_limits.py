"""Field values have a size limit (issue 14, item 3): 10,000 characters unless a field sets max_length."""

from __future__ import annotations

import pytest

from complaintflow import Actor, Engine, RefusedError
from complaintflow.resources import processes_dir
from complaintflow.runtime.values import DEFAULT_MAX_LENGTH

AT = 1_760_000_000
CLERK = Actor("wang", ("general_affairs",))
SOURCE = (processes_dir() / "general_affairs_dispatch.yaml").read_bytes()


def _engine(source: bytes = SOURCE) -> tuple[Engine, object]:
    engine = Engine(":memory:")
    return engine, engine.load_process(source, "p.yaml")


def test_a_value_over_the_default_limit_is_refused_and_nothing_is_stored() -> None:
    engine, process = _engine()
    with pytest.raises(RefusedError, match="10,001 characters, over the limit of 10,000"):
        engine.start(process, {"customer_name": "a", "content": "x" * (DEFAULT_MAX_LENGTH + 1)}, CLERK, at=AT)  # type: ignore[arg-type]
    assert engine.cases() == []
    case = engine.start(process, {"customer_name": "a", "content": "x" * DEFAULT_MAX_LENGTH}, CLERK, at=AT)  # type: ignore[arg-type]
    with pytest.raises(RefusedError, match="over the limit"):
        engine.act(case.id, "pass_to_sales_manager", CLERK, {"record_no": "投" * 10_000_000}, at=AT + 60)
    assert len(engine.history(case.id)) == 1


def test_max_length_sets_the_limit_of_one_field() -> None:
    source = SOURCE.replace(b"  content: {type: string,", b"  content: {type: string, max_length: 50000,")
    assert source != SOURCE
    engine, process = _engine(source)
    case = engine.start(process, {"customer_name": "a", "content": "x" * 50_000}, CLERK, at=AT)  # type: ignore[arg-type]
    assert len(engine.case(case.id).data["content"]) == 50_000
    with pytest.raises(RefusedError, match="50,001 characters, over the limit of 50,000"):
        engine.start(process, {"customer_name": "a", "content": "x" * 50_001}, CLERK, at=AT)  # type: ignore[arg-type]
    with pytest.raises(RefusedError, match="over the limit of 10,000"):  # other fields keep the default
        engine.start(process, {"customer_name": "a" * 10_001, "content": "x"}, CLERK, at=AT)  # type: ignore[arg-type]
