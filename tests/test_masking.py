"""Tests of complaintflow.masking: no personal value reaches a caller whose roles may not see it.

The properties run over generated processes (fields personal or not, with or without ``visible_to``),
records whose every value is a unique marker string, and callers with any set of roles (none, unknown
ones, the process's own): a hidden value never appears anywhere in the output, a visible one is kept
exactly, and None (an erased value) stays None.
"""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from complaintflow.language.check import load_process_bytes
from complaintflow.language.spec import Field, FieldType, Process, Role, Source, Title
from complaintflow.masking import HIDDEN, hidden_fields, mask_data, mask_payload, may_see

ROLES = ("front_desk", "office_head", "engineer")
COMMITMENT = {"pii": "sha256:" + "ab" * 32}


@st.composite
def processes(draw: st.DrawFn) -> Process:
    roles = draw(st.lists(st.sampled_from(ROLES), min_size=1, unique=True))
    fields = {}
    for i in range(draw(st.integers(1, 6))):
        pii = draw(st.booleans())
        visible_to = draw(st.none() | st.lists(st.sampled_from(roles), unique=True).map(tuple)) if pii else None
        fields[f"f{i}"] = Field(f"f{i}", FieldType.STRING, pii=pii, visible_to=visible_to)
    return Process(
        id="p",
        version=1,
        title=Title("流程"),
        source=Source(""),
        timezone="Asia/Shanghai",
        calendar=None,
        roles={r: Role(r, Title(r)) for r in roles},
        fields=fields,
    )


callers = st.none() | st.sets(st.sampled_from(ROLES + ("stranger",)))


def marked(spec: Process) -> dict[str, str]:
    """A record whose every value is a marker no other text contains."""
    return {name: f"<value of {name}: 13800138000>" for name in spec.fields}


@given(processes(), callers)
def test_no_hidden_value_appears_in_masked_data(spec: Process, roles: set[str] | None) -> None:
    data = marked(spec)
    masked = mask_data(spec, data, roles)
    text = json.dumps(masked, ensure_ascii=False)
    hidden = hidden_fields(spec, roles)
    for name, value in data.items():
        if name in hidden:
            assert value not in text and masked[name] == HIDDEN
        else:
            assert masked[name] == value


@given(processes(), callers, st.booleans())
def test_no_hidden_value_appears_in_a_masked_payload(spec: Process, roles: set[str] | None, committed: bool) -> None:
    values = marked(spec)
    personal = {n for n, f in spec.fields.items() if f.pii}
    # The hashed payload holds commitments for personal values (or, in an older store, the values themselves).
    stored = {n: COMMITMENT if committed and n in personal else v for n, v in values.items()}
    payload = {"action": "close", "data": stored, "inputs": stored, "set": {}}
    revealed = {**payload, "data": values, "inputs": values}
    masked = mask_payload(spec, payload, roles, revealed)
    text = json.dumps(masked, ensure_ascii=False)
    hidden = hidden_fields(spec, roles)
    assert masked["action"] == "close"
    for name, value in values.items():
        for part in ("data", "inputs"):
            assert masked[part][name] == (HIDDEN if name in hidden else value)
        if name in hidden:
            assert value not in text
    assert "sha256:" not in text  # a commitment is never shown as if it were the value


@given(processes(), callers)
def test_a_commitment_without_its_revealed_value_reads_hidden(spec: Process, roles: set[str] | None) -> None:
    personal = [n for n, f in spec.fields.items() if f.pii]
    masked = mask_payload(spec, {"data": {n: COMMITMENT for n in personal}}, roles)
    assert masked["data"] == {n: HIDDEN for n in personal}


@given(processes(), callers)
def test_erased_values_stay_none(spec: Process, roles: set[str] | None) -> None:
    erased = dict.fromkeys(spec.fields)
    assert mask_data(spec, erased, roles) == erased
    assert mask_payload(spec, {"inputs": erased}, roles, {"inputs": erased})["inputs"] == erased
    # an erased value's commitment stays in the chain; revealed, it is None for every caller
    committed = {n: COMMITMENT for n, f in spec.fields.items() if f.pii}
    assert mask_payload(spec, {"data": committed}, roles, {"data": dict.fromkeys(committed)})["data"] == dict.fromkeys(
        committed
    )


# The process the CLI and API tests of masking run too: the phone only for the front desk, the name for
# every role of the process, an action with an input that is personal.
PROCESS = """\
process: desk
version: 1
title: {zh: 前台}
roles:
  frontdesk: {title: {zh: 前台}}
  engineer: {title: {zh: 工程部}}
fields:
  phone: {type: string, pii: true, visible_to: [frontdesk], title: {zh: 联系电话}}
  customer_name: {type: string, pii: true, title: {zh: 姓名}}
  subject: {type: string, title: {zh: 事由}}
  callback_phone: {type: string, pii: true, visible_to: [frontdesk], title: {zh: 回访电话}}
states:
  received: {title: {zh: 受理}, initial: true, owner: frontdesk}
  handling: {title: {zh: 处理中}, owner: engineer}
  closed: {title: {zh: 结案}, final: true}
actions:
  dispatch: {title: {zh: 派工}, from: received, to: handling, roles: [frontdesk], inputs: [callback_phone]}
  close: {title: {zh: 结案}, from: handling, to: closed, roles: [frontdesk, engineer]}
deadlines:
  fix_2h:
    title: {zh: 2小时内处理}
    start: handling
    within: 2h
    extend_by: [engineer, frontdesk]
"""
PHONE, CALLBACK = "13912345678", "13787654321"


def test_visible_to_and_the_default_as_the_process_declares_them() -> None:
    spec = load_process_bytes(PROCESS.encode("utf-8"), "desk.yaml")
    data = {"phone": "13800138000", "customer_name": "张先生", "subject": "漏水"}
    assert mask_data(spec, data, {"frontdesk"}) == data
    assert mask_data(spec, data, {"engineer"}) == {"phone": HIDDEN, "customer_name": "张先生", "subject": "漏水"}
    nobody = {"phone": HIDDEN, "customer_name": HIDDEN, "subject": "漏水"}
    assert mask_data(spec, data, None) == nobody
    assert mask_data(spec, data, set()) == nobody
    assert mask_data(spec, data, {"admin"}) == nobody  # a role the process does not declare sees nothing
    assert not may_see(spec, spec.fields["phone"], {"engineer", "admin"})
