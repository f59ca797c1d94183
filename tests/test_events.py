"""The hash chain's bytes and the compiled step table: fast paths that must say exactly what the slow ones do."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from complaintflow import canonical
from complaintflow.language.check import load_process
from complaintflow.runtime.events import GENESIS, event_hash, next_event
from complaintflow.runtime.machine import compile_process

ROOT = Path(__file__).resolve().parent.parent

# The values an event payload can hold: what the engine accepts from users and computes itself.
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
)
_payloads = st.dictionaries(
    st.text(),
    st.recursive(
        _scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=12,
    ),
    max_size=6,
)


def _stdlib_hash(case_id, seq, at, actor, role, kind, payload_text, prev_hash) -> str:
    """Rule 1, as format 1 defined it, with the standard library's json: stores written then must verify."""
    payload = json.loads(payload_text)
    body = json.dumps(
        [case_id, seq, at, actor, role, kind, payload, prev_hash],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _jcs_hash(case_id, seq, at, actor, role, kind, payload, prev_hash) -> str:
    """Rule 2 as docs/audit.md writes it, with the rfc8785 package alone."""
    envelope = {
        "actor": actor,
        "at": at,
        "case_id": case_id,
        "kind": kind,
        "payload": payload,
        "prev_hash": prev_hash,
        "role": role,
        "seq": seq,
    }
    return hashlib.sha256(rfc8785.dumps(envelope)).hexdigest()


@given(payload=_payloads, actor=st.text(), seq=st.integers(min_value=0, max_value=10**6))
def test_an_event_hashes_the_rfc8785_text_of_its_fields(payload, actor, seq):
    event = next_event("c1", seq, GENESIS, 1762135200, actor, "desk", "acted", payload)
    assert event.hash == _jcs_hash("c1", seq + 1, 1762135200, actor, "desk", "acted", payload, GENESIS)
    assert canonical.loads(event.payload_json) == payload
    assert event.hash == event_hash("c1", seq + 1, 1762135200, actor, "desk", "acted", event.payload_json, GENESIS)


@given(_payloads)
def test_the_fast_canonical_encoder_writes_what_rfc8785_does(value):
    assert canonical.jcs(value) == rfc8785.dumps(value)


@given(payload=_payloads.filter(lambda p: "e" not in repr(p)), actor=st.text())
def test_rule_1_hashes_the_same_bytes_as_the_standard_library_would(payload, actor):
    text = canonical.dumps(payload)
    found = event_hash("c1", 3, 1762135200, actor, "desk", "acted", text, GENESIS, rule=1)
    assert found == _stdlib_hash("c1", 3, 1762135200, actor, "desk", "acted", text, GENESIS)


@pytest.mark.parametrize("value", [1e-05, 1e16, 2.5e-300, 1.0])
def test_floats_keep_their_form_in_the_stored_text_and_verify_from_it(value):
    event = next_event("c1", 0, GENESIS, 5, "x", "r", "acted", {"amount": value})
    assert type(json.loads(event.payload_json)["amount"]) is float
    assert event.hash == event_hash("c1", 1, 5, "x", "r", "acted", event.payload_json, GENESIS)
    assert event.hash == _jcs_hash("c1", 1, 5, "x", "r", "acted", {"amount": value}, GENESIS)


def test_the_hash_is_of_the_payloads_value_not_its_spelling():
    spaced = '{ "a" : 1 }'
    assert event_hash("c1", 1, 5, "x", "r", "k", spaced, GENESIS) == event_hash(
        "c1", 1, 5, "x", "r", "k", '{"a":1}', GENESIS
    )


@pytest.mark.parametrize("rule", [1, 2])
def test_the_hash_covers_the_stored_payload(rule):
    text = canonical.dumps({"a": 1})
    assert event_hash("c1", 1, 5, "x", "r", "k", text, GENESIS, rule) != event_hash(
        "c1", 1, 5, "x", "r", "k", text.replace("1", "2"), GENESIS, rule
    )


@pytest.mark.parametrize("path", sorted((ROOT / "processes").glob("*.yaml")), ids=lambda p: p.stem)
def test_the_step_table_answers_as_the_transitions_machine_does(path):
    cp = compile_process(load_process(path))
    assert cp.steps, "a process with no steps"
    for action in cp.spec.actions:
        for state in cp.spec.states:
            try:
                expected = cp.trigger(action, state)
            except ValueError:
                with pytest.raises(ValueError, match="cannot be taken"):
                    cp.move(action, state)
            else:
                assert cp.move(action, state) == expected


@pytest.mark.parametrize("name", ["shopping_mall", "general_affairs_dispatch", "service_desk"])
def test_the_due_time_index_follows_the_clocks_after_every_commit(name):
    # Simulated starts, actions, breaches, escalations, pauses and re-dispatches: after each commit the row's
    # next_due is the first timer its clocks call for, the store finds the case then, and no longer at an
    # earlier next_due it has moved on from.
    from complaintflow.runtime.clocks import desired_timers
    from complaintflow.simulate import load_scenario
    from complaintflow.simulate.run import _Run

    run = _Run(ROOT / "processes" / f"{name}.yaml", load_scenario(None), seed=3)
    store, checked = run.engine.store, []
    commit = store.commit

    def due_at(instant):
        return {c.id for c in store.due_cases(instant, 10**6)}

    def checked_commit(change):
        commit(change)
        case, before = change.case, change.next_due_before
        dues = [t.due_at for t in desired_timers(case.id, case.clocks)]
        assert case.next_due == min(dues, default=None), (case.id, case.last_seq)
        if case.next_due is not None:
            assert case.id in due_at(case.next_due)
        if before is not None and (case.next_due is None or case.next_due > before):
            assert case.id not in due_at(before), (case.id, case.last_seq)
        checked.append(bool(dues))

    store.commit = checked_commit
    run.run(60, None)
    assert sum(checked) > 100 and not all(checked)  # commits with timers and without
