"""The engine's own actor and role names are reserved (issue 14, item 5): no process declares them and
no person acts under them, so an event by the engine's actor is always the engine's."""

from __future__ import annotations

import pytest

from complaintflow import Actor, Engine, RefusedError
from complaintflow.language.reserved import ENGINE_ACTOR, ENGINE_ROLE
from complaintflow.resources import processes_dir
from complaintflow.runtime import decide

AT = 1_760_000_000


def test_the_reserved_names_are_the_ones_the_engine_writes() -> None:
    assert (decide.SYSTEM_ACTOR, decide.SYSTEM_ROLE) == (ENGINE_ACTOR, ENGINE_ROLE)


@pytest.mark.parametrize(
    "actor", [Actor(ENGINE_ACTOR, ("general_affairs",)), Actor("wang", ("general_affairs", ENGINE_ROLE))]
)
def test_no_person_acts_as_the_engine(actor: Actor) -> None:
    engine = Engine(":memory:")
    process = engine.load_process(processes_dir() / "general_affairs_dispatch.yaml")
    with pytest.raises(RefusedError, match="reserved for the engine"):
        engine.start(process, {"customer_name": "a", "content": "b"}, actor, at=AT)
    case = engine.start(process, {"customer_name": "a", "content": "b"}, Actor("wang", ("general_affairs",)), at=AT)
    with pytest.raises(RefusedError, match="reserved for the engine"):
        engine.act(case.id, "pass_to_sales_manager", actor, {"record_no": "1"}, at=AT + 60)
    people = [e for e in engine.history(case.id) if e.actor != ENGINE_ACTOR]
    assert [e.actor for e in people] == ["wang"]


def test_timer_events_are_the_engines_and_only_they() -> None:
    engine = Engine(":memory:")
    process = engine.load_process(processes_dir() / "general_affairs_dispatch.yaml")
    case = engine.start(process, {"customer_name": "a", "content": "b"}, Actor("wang", ("general_affairs",)), at=AT)
    fired = engine.tick(AT + 7 * 24 * 3600)
    assert fired and {(e.actor, e.role) for e in fired} == {(ENGINE_ACTOR, ENGINE_ROLE)}
    assert {e.actor for e in engine.history(case.id)} == {"wang", ENGINE_ACTOR}
