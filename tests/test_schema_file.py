"""Tests of schemas/process.schema.json, the JSON Schema editors and CI use for process files.

The schema must be a valid Draft 2020-12 schema, describe every key bilingually (Chinese first,
then English), accept every construct of docs/language.md and nothing else, and point its errors
at the offending key.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import fields as dc_fields
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "schemas" / "process.schema.json"
LANGUAGE_MD = ROOT / "docs" / "language.md"
SPEC_PY = ROOT / "engine" / "language" / "spec.py"

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FormatChecker())

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


# --------------------------------------------------------------------------- YAML reading
class Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader narrowed to the YAML 1.2 reading the language prescribes.

    `on`/`yes`/`no`, `17:00`, `012` and `2025-10-01` stay strings; only true/false are booleans
    and only plain decimal numbers are numbers.
    """


Yaml12Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag
        not in {
            "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
            "tag:yaml.org,2002:timestamp",
        }
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^-?(?:0|[1-9][0-9]*)$"), list("-0123456789"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"),
    list("-0123456789."),
)


def load12(text: str):
    return yaml.load(text, Loader=Yaml12Loader)


def test_yaml12_loader_keeps_strings():
    doc = load12("a: on\nb: 17:00\nc: 012\nd: 2025-10-01\ne: true\nf: 3\ng: no\n")
    assert doc == {"a": "on", "b": "17:00", "c": "012", "d": "2025-10-01", "e": True, "f": 3, "g": "no"}


# --------------------------------------------------------------------------- a full example
FULL_EXAMPLE = """\
# yaml-language-server: $schema=../schemas/process.schema.json
process: property_complaint
version: 1
title: {zh: 客户投诉处理流程, en: Customer complaint handling}
source:
  file: 000_3f54ac517f0888e8.txt
  section: "B. 中山市浩广物业管理服务有限公司"
timezone: Asia/Shanghai
calendar: office
calendars:
  office:
    title: {zh: 办公时间}
    weekdays: [mon, tue, wed, thu, fri]
    hours: ["09:00-12:00", "13:30-18:00"]
    statutory: china
    holidays: ["2026-12-31"]
    workdays: ["2026-12-26"]
    unpublished_year: weekly
    schedules:
      - year: 2027
        holidays: ["2027-01-01", "2027-01-02", "2027-01-03"]
        workdays: ["2027-01-09"]
  mall:
    extends: office
    weekdays: [mon, tue, wed, thu, fri, sat, sun]
    hours: ["10:00-22:00"]
    statutory: none
    unpublished_year: refuse
roles:
  front_desk: {title: {zh: 客户中心前台, en: Customer centre front desk}}
  office_head: {title: {zh: 管理处负责人, en: Management-office head}}
  after_sales: {title: {zh: 售后服务人员}}
  after_sales_supervisor: {title: {zh: 售后服务主管}}
  company_leader: {title: {zh: 公司领导}}
  board_office: {title: {zh: 董事会办公室}}
fields:
  customer_name: {type: string, required: true, pii: true, title: {zh: 姓名}}
  phone: {type: string, pii: true, visible_to: [front_desk], max_length: 40, title: {zh: 联系电话}}
  severity:
    type: enum
    values: [general, important, major]
    required: true
    title: {zh: 投诉等级}
  claim_amount: {type: number, title: {zh: 索赔金额}}
  injured: {type: bool, title: {zh: 是否人身伤害}}
  occurred_at: {type: datetime, title: {zh: 发生时间}}
  department: {type: string}
  injury_steps:
    type: checklist
    items:
      called_120: {zh: 已拨打120, en: Called 120}
      witnesses: {zh: 已联系目击证人}
    title: {zh: 人身伤害处置清单}
states:
  received:
    title: {zh: 受理登记, en: Received}
    initial: true
    owner: front_desk
    checklist:
      - {zh: 人身伤害拨打120, en: Call 120 for injury}
      - {zh: 纠纷报警110, en: Call 110 for a dispute}
  waiting_customer:
    title: {zh: 等待客户确认}
    pause: true
  handling:
    title: {zh: 处理中}
    owner: after_sales_supervisor
    branches: [onsite, remedy]
  onsite_visit: {title: {zh: 现场处理}, branch: onsite, initial: true}
  onsite_done: {title: {zh: 现场处理完毕}, branch: onsite, final: true}
  remedy_talks: {title: {zh: 协商处理方案}, branch: remedy, initial: true}
  remedy_agreed: {title: {zh: 方案已达成}, branch: remedy, final: true}
  completed: {title: {zh: 处理完成}}
  archived:
    title: {zh: 结案归档}
    final: true
actions:
  dispatch:
    title: {zh: 派单给责任部门, en: Dispatch}
    from: [received, waiting_customer]
    to: handling
    roles: [front_desk]
    guard: "severity != 'major' and claim_amount <= 3000"
    inputs: [department]
  ask_customer: {title: {zh: 请客户确认}, from: received, to: waiting_customer, roles: [front_desk]}
  finish_onsite: {title: {zh: 完成现场处理}, from: onsite_visit, to: onsite_done, roles: [after_sales]}
  agree_remedy: {title: {zh: 达成方案}, from: remedy_talks, to: remedy_agreed, roles: [after_sales_supervisor]}
  report_progress: {title: {zh: 反馈进度}, from: handling, to: handling, roles: [after_sales]}
  complete: {title: {zh: 处理完成}, from: handling, to: completed, roles: [after_sales_supervisor]}
  close: {title: {zh: 结案}, from: completed, to: archived, roles: [front_desk], set: {severity: general}}
deadlines:
  notify_department:
    title: {zh: 接报后3分钟内知会相关部门}
    start: received
    stop: [handling, waiting_customer]
    within: 3m
    role: front_desk
    warn_before: 1m
    escalation: major_case
  callback:
    title: {zh: 完成后2个工作日内回访客户}
    start: completed
    within: 2wd
    calendar: office
  first_reply: {title: {zh: 4个工作小时内答复}, start: [received], stop: handling, within: 4wh, calendar: mall}
  settle: {title: {zh: 24小时内处理}, start: handling, within: 24h}
  close_case: {title: {zh: 20日内结案}, start: received, stop: archived, within: 20d}
  results_daily:
    title: {zh: 每天17:00前交处理结果}
    start: handling
    by: "17:00"
  same_day_report:
    title: {zh: 当天反馈处理结果}
    start: completed
    by: end_of_day
  progress:
    title: {zh: 每30分钟反馈处理情况}
    start: handling
    every: 30m
    reset_by: [report_progress]
  every_two_hours: {title: {zh: 每2小时}, start: handling, every: 2h}
  every_workday: {title: {zh: 每个工作日}, start: handling, every: 1wd}
  daily_summary: {title: {zh: 每日汇总}, start: handling, every: daily 17:00}
  weekly_meeting: {title: {zh: 每周例会}, start: handling, every: weekly mon 09:00}
  monthly_review: {title: {zh: 每月回顾}, start: handling, every: monthly 5 09:00}
  plan_at_once: {title: {zh: 立即制定方案}, start: received, within: immediately}
  share_warned:
    title: {zh: 4工作小时内处理}
    start: handling
    within: 4wh
    warn_at: [50%, 75%]
    extend_by: [office_head]
  major_only: {title: {zh: 重大投诉1小时内}, start: handling, within: 1h, guard: "severity == 'major'"}
  follow_up: {title: {zh: 派单后2小时跟进}, start: handling, within: 2h, reminder: true}
  before_visit: {title: {zh: 预约前5分钟}, start: handling, at: "occurred_at + 5m"}
escalations:
  major_case:
    title: {zh: 重大投诉逐级上报}
    steps:
      - {role: office_head, do: notify, within: 5m, set: {severity: major}, deliver: business_hours}
      - {role: company_leader, do: reassign, within: 15m}
      - {role: board_office, do: notify}
counts_as:
  - {kind: valid_complaint, when: "severity != 'general'", states: [received, handling], title: {zh: 有效投诉}}
  - {kind: other}
"""


def full_doc() -> dict:
    return load12(FULL_EXAMPLE)


def errors_of(doc) -> list:
    return sorted(VALIDATOR.iter_errors(doc), key=lambda e: (e.json_path, str(e.validator)))


def describe(errors) -> list[tuple[str, str]]:
    return [(e.json_path, str(e.validator)) for e in errors]


# --------------------------------------------------------------------------- the schema itself
def test_schema_is_valid_draft_2020_12():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)


def test_schema_header():
    assert SCHEMA["$id"] == (
        "https://raw.githubusercontent.com/complaintflow/complaintflow/main/schemas/process.schema.json"
    )
    assert SCHEMA["title"] and CJK.search(SCHEMA["title"]) and ENGLISH_WORD.search(SCHEMA["title"])
    assert SCHEMA["type"] == "object"
    assert SCHEMA["required"] == ["process", "version", "title", "states", "actions"]
    for name in (
        "title",
        "identifier",
        "duration",
        "clock_time",
        "span",
        "iso_date",
        "weekday",
        "schedule",
        "source",
        "calendar",
        "role",
        "field",
        "state",
        "action",
        "deadline",
        "escalation",
        "escalation_step",
    ):
        assert name in SCHEMA["$defs"], name


def _walk(node, path="#"):
    """Yield (path, schema, needs_description) for every subschema."""
    if isinstance(node, bool):
        yield path, node, False
        return
    assert isinstance(node, dict), path
    for key in ("properties", "$defs"):
        for name, sub in node.get(key, {}).items():
            yield path + f"/{key}/{name}", sub, sub is not False  # `false` only forbids a key
            yield from _walk(sub, path + f"/{key}/{name}")
    for key in ("items", "additionalProperties", "propertyNames"):
        if key in node:
            sub = node[key]
            yield path + f"/{key}", sub, isinstance(sub, dict)
            yield from _walk(sub, path + f"/{key}")
    for key in ("oneOf", "anyOf", "allOf"):
        for i, sub in enumerate(node.get(key, [])):
            yield path + f"/{key}/{i}", sub, True
            yield from _walk(sub, path + f"/{key}/{i}")
    for key in ("if", "then", "else", "not"):
        if key in node:
            # pure conditions: described where they list properties, see _walk of their properties
            yield from _walk(node[key], path + f"/{key}")


ALL_NODES = [("#", SCHEMA, True), *_walk(SCHEMA)]
DESCRIBED_NODES = [(p, s) for p, s, needs in ALL_NODES if needs]


def test_walk_reaches_the_whole_schema():
    paths = {p for p, _ in DESCRIBED_NODES}
    assert len(DESCRIBED_NODES) > 100
    for p in (
        "#/properties/deadlines/additionalProperties",
        "#/$defs/deadline/properties/within",
        "#/$defs/deadline/properties/by/anyOf/1",
        "#/$defs/calendar/properties/hours/items",
        "#/$defs/escalation/properties/steps/items",
        "#/$defs/title/properties/zh",
        "#/$defs/field/then/properties/values",
        "#/$defs/deadline/oneOf/2",
    ):
        assert p in paths, p


@pytest.mark.parametrize("path,node", DESCRIBED_NODES, ids=[p for p, _ in DESCRIBED_NODES])
def test_every_property_has_bilingual_description(path, node):
    desc = node.get("description")
    assert isinstance(desc, str) and desc.strip(), f"{path}: no description"
    assert CJK.search(desc), f"{path}: description has no Chinese: {desc!r}"
    assert ENGLISH_WORD.search(desc), f"{path}: description has no English: {desc!r}"
    # Chinese first, ending in "。", then the English text (which has no Chinese in it)
    chinese, sep, english = desc.partition("。 ")
    assert sep and CJK.search(chinese), f"{path}: no Chinese part before the English: {desc!r}"
    assert ENGLISH_WORD.search(english) and not CJK.search(english), f"{path}: English part: {desc!r}"
    md = node.get("markdownDescription")
    assert isinstance(md, str) and CJK.search(md) and ENGLISH_WORD.search(md), f"{path}: markdownDescription"
    assert re.search(r"`[^`]+`", md), f"{path}: markdownDescription has no example in a code span"


def test_booleans_only_forbid():
    # `true` would be an undocumented free-for-all; `false` only closes an object or forbids a
    # key in a condition
    for path, node, _ in ALL_NODES:
        assert node is not True, path
        if node is False:
            assert path.endswith("/additionalProperties") or "/else/properties/" in path, path


def test_every_object_is_closed():
    objects = [(p, s) for p, s, _ in ALL_NODES if isinstance(s, dict) and s.get("type") == "object"]
    assert len(objects) >= 18  # the top level, 7 maps keyed by id, 10 kinds of object
    for path, node in objects:
        ap = node.get("additionalProperties")
        if ap is False:
            assert node.get("properties"), path
        else:  # a map keyed by identifiers
            assert isinstance(ap, dict) and "$ref" in ap, path
            assert node["propertyNames"]["$ref"] == "#/$defs/identifier", path
            assert "properties" not in node, path


def _fill_snippet(value):
    """Replace VS Code snippet placeholders ${1:text} / ${1|a,b|} with their first choice."""
    if isinstance(value, str):
        value = re.sub(r"\$\{\d+\|([^,|]*)[^}]*\}", r"\1", value)
        return re.sub(r"\$\{\d+:([^}]*)\}", r"\1", value)
    if isinstance(value, list):
        return [_fill_snippet(v) for v in value]
    if isinstance(value, dict):
        return {_fill_snippet(k): _fill_snippet(v) for k, v in value.items()}
    return value


def _def_validator(name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": SCHEMA["$defs"]}, format_checker=FormatChecker())


@pytest.mark.parametrize(
    "name", ["state", "action", "deadline", "calendar", "escalation_step", "field", "escalation", "role", "title"]
)
def test_default_snippets_are_valid(name):
    snippets = SCHEMA["$defs"][name]["defaultSnippets"]
    assert snippets
    for snippet in snippets:
        assert snippet["label"] and CJK.search(snippet["description"])
        body = _fill_snippet(snippet["body"])
        assert describe(_def_validator(name).iter_errors(body)) == [], snippet["label"]


def test_top_level_snippet_is_a_valid_process():
    for snippet in SCHEMA["defaultSnippets"]:
        assert errors_of(_fill_snippet(snippet["body"])) == []


# --------------------------------------------------------------------------- exactly the keys documented
def _doc_blocks() -> list:
    text = LANGUAGE_MD.read_text(encoding="utf-8")
    blocks = [load12(b) for b in re.findall(r"```yaml\n(.*?)```", text, flags=re.S)]
    return [b for b in blocks if b is not None]


def _keys(node, out: set) -> set:
    if isinstance(node, dict):
        for k, v in node.items():
            out.add(k)
            _keys(v, out)
    elif isinstance(node, list):
        for v in node:
            _keys(v, out)
    return out


BASE = {
    "process": "p",
    "version": 1,
    "title": {"zh": "流程"},
    "states": {"s": {"title": {"zh": "状态"}, "initial": True}},
    "actions": {},
}


def test_every_language_md_example_validates():
    blocks = _doc_blocks()
    assert len(blocks) >= 9
    for block in blocks:
        assert isinstance(block, dict)
        doc = {**BASE, **block}
        assert describe(errors_of(doc)) == [], block


def test_schema_keys_are_the_documented_keys():
    documented = set()
    for block in _doc_blocks():
        _keys(block, documented)
    in_schema = set()
    for _path, node, _ in ALL_NODES:
        if isinstance(node, dict) and "additionalProperties" in node and "properties" in node:
            in_schema |= set(node["properties"])
    # map keys in the examples are ids (office, front_desk, received, ...), not language keys
    ids = {
        k
        for block in _doc_blocks()
        for section in ("calendars", "roles", "fields", "states", "actions", "deadlines", "escalations")
        for k in (block.get(section) or {})
    }
    ids |= _set_map_keys(_doc_blocks(), set())  # `set: {severity: major}` names fields, not language keys
    assert in_schema == documented - ids


def _set_map_keys(node, out: set) -> set:
    """The keys that name things, not language keys: fields in ``set`` maps, item ids in ``items`` maps."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("set", "items") and isinstance(v, dict):
                out |= set(v)
            _set_map_keys(v, out)
    elif isinstance(node, list):
        for v in node:
            _set_map_keys(v, out)
    return out


def _load_spec():
    if not SPEC_PY.exists():
        pytest.skip("engine/language/spec.py is not there")
    module_spec = importlib.util.spec_from_file_location("_cf_spec_for_schema_test", SPEC_PY)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module
    module_spec.loader.exec_module(module)
    return module


def _names(cls, drop=(), rename=None, expand=None) -> set:
    names = {f.name for f in dc_fields(cls)} - set(drop)
    for old, new in (rename or {}).items():
        names = (names - {old}) | {new}
    for old, new in (expand or {}).items():
        names = (names - {old}) | set(new)
    return names


def test_schema_matches_spec_dataclasses():
    spec = _load_spec()
    d = SCHEMA["$defs"]
    props = lambda name: set(d[name]["properties"])  # noqa: E731
    assert props("title") == _names(spec.Title)
    assert props("source") == _names(spec.Source)
    assert props("calendar") == _names(spec.Calendar, drop={"id"})
    assert props("role") == _names(spec.Role, drop={"id"})
    assert props("field") == _names(spec.Field, drop={"id"})
    assert props("state") == _names(spec.State, drop={"id"})
    assert props("action") == _names(spec.Action, drop={"id"}, rename={"sources": "from", "target": "to"})
    # Due(within, by, end_of_day, every, immediate, at): `by: end_of_day` and `within: immediately`
    assert props("deadline") == _names(
        spec.Deadline, drop={"id"}, expand={"due": _names(spec.Due, drop={"end_of_day", "immediate"})}
    )
    assert props("escalation_step") == _names(spec.EscalationStep)
    assert props("escalation") == _names(spec.Escalation, drop={"id"})
    assert set(SCHEMA["properties"]) == _names(spec.Process, drop={"content_hash"}, rename={"id": "process"})
    assert d["field"]["properties"]["type"]["enum"] == [t.value for t in spec.FieldType]
    assert d["escalation_step"]["properties"]["do"]["enum"] == [k.value for k in spec.EscalationKind]
    assert set(d["calendar"]["properties"]["unpublished_year"]["enum"]) == {u.value for u in spec.UnpublishedYear}


# --------------------------------------------------------------------------- valid and invalid documents
def test_full_example_is_valid():
    doc = full_doc()
    assert describe(errors_of(doc)) == []
    # it really covers the constructs: every key of the language appears
    used = _keys(doc, set())
    for _p, node, _ in ALL_NODES:
        if isinstance(node, dict) and node.get("additionalProperties") is False:
            for key in node["properties"]:
                assert key in used, key


def _set(doc: dict, path: str, value):
    *parents, last = path.split(".")
    for p in parents:
        doc = doc[int(p)] if isinstance(doc, list) else doc[p]
    if value is _DELETE:
        del doc[last]
    elif isinstance(doc, list):
        doc[int(last)] = value
    else:
        doc[last] = value


_DELETE = object()

INVALID = [
    # (id, [(dotted path, new value)], expected [(json path, validator)], message fragment)
    (
        "unknown-key",
        [("states.received.colour", "red")],
        [("$.states.received", "additionalProperties")],
        "'colour' was unexpected",
    ),
    ("unknown-top-level-key", [("owner", "front_desk")], [("$", "additionalProperties")], "'owner' was unexpected"),
    (
        "bad-duration",
        [("deadlines.notify_department.within", "3 minutes")],
        [("$.deadlines.notify_department.within", "pattern")],
        "'3 minutes' does not match",
    ),
    (
        "zero-duration",
        [("deadlines.callback.within", "0wd")],
        [("$.deadlines.callback.within", "pattern")],
        "'0wd' does not match",
    ),
    (
        "unquoted-time-read-as-int",
        [("deadlines.results_daily.by", 1020)],
        [("$.deadlines.results_daily.by", "anyOf")],
        "1020 is not valid under any of the given schemas",
    ),
    (
        "bad-identifier-key",
        [("roles.Front-Desk", {"title": {"zh": "前台"}})],
        [("$.roles", "pattern")],
        "'Front-Desk' does not match '^[a-z][a-z0-9_]*$'",
    ),
    (
        "bad-identifier-value",
        [("states.received.owner", "Front-Desk")],
        [("$.states.received.owner", "pattern")],
        "'Front-Desk' does not match",
    ),
    (
        "missing-zh-title",
        [("roles.front_desk.title", {"en": "Front desk"})],
        [("$.roles.front_desk.title", "required")],
        "'zh' is a required property",
    ),
    (
        "within-and-by",
        [("deadlines.notify_department.by", "17:00")],
        [("$.deadlines.notify_department", "oneOf")],
        "is valid under each of",
    ),
    (
        "within-and-every",
        [("deadlines.callback.every", "daily 17:00")],
        [("$.deadlines.callback", "oneOf")],
        "is valid under each of",
    ),
    (
        "no-due",
        [("deadlines.callback.within", _DELETE)],
        [("$.deadlines.callback", "oneOf")],
        "is not valid under any of the given schemas",
    ),
    (
        "reset-by-without-every",
        [("deadlines.settle.reset_by", ["report_progress"])],
        [("$.deadlines.settle", "required")],
        "'every' is a required property",
    ),
    (
        "bad-by-word",
        [("deadlines.same_day_report.by", "end of day")],
        [("$.deadlines.same_day_report.by", "anyOf")],
        "'end of day' is not valid",
    ),
    (
        "by-24h",
        [("deadlines.results_daily.by", "24:00")],
        [("$.deadlines.results_daily.by", "anyOf")],
        "'24:00' is not valid",
    ),
    (
        "bad-weekly",
        [("deadlines.weekly_meeting.every", "weekly monday 09:00")],
        [("$.deadlines.weekly_meeting.every", "anyOf")],
        "'weekly monday 09:00' is not valid",
    ),
    (
        "bad-monthly",
        [("deadlines.monthly_review.every", "monthly 32 09:00")],
        [("$.deadlines.monthly_review.every", "anyOf")],
        "'monthly 32 09:00' is not valid",
    ),
    (
        "missing-start",
        [("deadlines.callback.start", _DELETE)],
        [("$.deadlines.callback", "required")],
        "'start' is a required property",
    ),
    (
        "empty-steps",
        [("escalations.major_case.steps", [])],
        [("$.escalations.major_case.steps", "minItems")],
        "should be non-empty",
    ),
    (
        "bad-do",
        [("escalations.major_case.steps.0.do", "email")],
        [("$.escalations.major_case.steps[0].do", "enum")],
        "'email' is not one of ['notify', 'reassign']",
    ),
    (
        "step-without-role",
        [("escalations.major_case.steps.2.role", _DELETE)],
        [("$.escalations.major_case.steps[2]", "required")],
        "'role' is a required property",
    ),
    (
        "action-without-roles",
        [("actions.close.roles", _DELETE)],
        [("$.actions.close", "required")],
        "'roles' is a required property",
    ),
    (
        "action-from-empty-list",
        [("actions.close.from", [])],
        [("$.actions.close.from", "oneOf")],
        "is not valid under any of the given schemas",
    ),
    (
        "state-without-title",
        [("states.completed", {"final": True})],
        [("$.states.completed", "required")],
        "'title' is a required property",
    ),
    (
        "yes-is-not-a-boolean",
        [("states.waiting_customer.pause", "yes")],
        [("$.states.waiting_customer.pause", "type")],
        "'yes' is not of type 'boolean'",
    ),
    ("bad-field-type", [("fields.phone.type", "text")], [("$.fields.phone.type", "enum")], "'text' is not one of"),
    (
        "enum-without-values",
        [("fields.severity.values", _DELETE)],
        [("$.fields.severity", "required")],
        "'values' is a required property",
    ),
    (
        "weekday-long-name",
        [("calendars.office.weekdays", ["monday"])],
        [("$.calendars.office.weekdays[0]", "enum")],
        "'monday' is not one of",
    ),
    (
        "bad-span",
        [("calendars.office.hours", ["9:00-18:00"])],
        [("$.calendars.office.hours[0]", "pattern")],
        "'9:00-18:00' does not match",
    ),
    (
        "bad-statutory",
        [("calendars.office.statutory", "cn")],
        [("$.calendars.office.statutory", "enum")],
        "'cn' is not one of ['china', 'none']",
    ),
    (
        "bad-unpublished-year",
        [("calendars.office.unpublished_year", "guess")],
        [("$.calendars.office.unpublished_year", "enum")],
        "'guess' is not one of ['estimate', 'refuse', 'weekly']",
    ),
    ("version-zero", [("version", 0)], [("$.version", "minimum")], "0 is less than the minimum of 1"),
    ("version-string", [("version", "1")], [("$.version", "type")], "'1' is not of type 'integer'"),
    ("missing-states", [("states", _DELETE)], [("$", "required")], "'states' is a required property"),
    (
        "source-without-file",
        [("source", {"section": "B"})],
        [("$.source", "required")],
        "'file' is a required property",
    ),
]


@pytest.mark.parametrize("case", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_documents_are_rejected_at_the_key(case):
    _, changes, expected, fragment = case
    doc = full_doc()
    for path, value in changes:
        _set(doc, path, value)
    errors = errors_of(doc)
    assert describe(errors) == expected
    assert fragment in errors[0].message


def test_values_on_a_non_enum_field_are_rejected():
    doc = full_doc()
    doc["fields"]["phone"]["values"] = ["a"]
    errors = errors_of(doc)
    assert len(errors) == 1
    assert errors[0].message == "False schema does not allow ['a']"
    assert "else" in list(errors[0].absolute_schema_path)
    assert list(errors[0].absolute_path)[:2] == ["fields", "phone"]


def test_a_checklist_field_needs_its_items_and_only_a_checklist_has_items():
    doc = full_doc()
    del doc["fields"]["injury_steps"]["items"]
    assert describe(errors_of(doc)) == [("$.fields.injury_steps", "required")]
    doc = full_doc()
    doc["fields"]["phone"]["items"] = {"a": {"zh": "一"}}
    (error,) = errors_of(doc)
    assert error.message == "False schema does not allow {'a': {'zh': '一'}}" and "else" in error.absolute_schema_path
    assert list(error.absolute_path)[:2] == ["fields", "phone"]
    doc = full_doc()
    doc["fields"]["injury_steps"]["items"] = {"Called120": {"zh": "一"}}
    assert describe(errors_of(doc))[0][0] == "$.fields.injury_steps.items"


def test_holiday_read_as_date_is_rejected():
    # unquoted under a YAML 1.1 reader, a date becomes a date object, not a string
    doc = full_doc()
    doc["calendars"]["office"]["holidays"] = yaml.safe_load("- 2026-12-31")
    assert describe(errors_of(doc)) == [("$.calendars.office.holidays[0]", "type")]


def test_unquoted_clock_time_under_yaml_1_1_becomes_1020_and_is_rejected():
    text = FULL_EXAMPLE.replace('by: "17:00"', "by: 17:00")
    assert load12(text)["deadlines"]["results_daily"]["by"] == "17:00"
    assert describe(errors_of(load12(text))) == []
    doc11 = yaml.safe_load(text)  # PyYAML reads YAML 1.1: sexagesimal 17:00 == 1020
    assert doc11["deadlines"]["results_daily"]["by"] == 1020
    assert describe(errors_of(doc11)) == [("$.deadlines.results_daily.by", "anyOf")]


# --------------------------------------------------------------------------- the small patterns
PATTERNS = {
    "identifier": (["a", "front_desk", "x1_2"], ["Front-Desk", "1abc", "_a", "a-b", "", "frontDesk"]),
    "duration": (
        ["3m", "24h", "20d", "2wd", "4wh", "120m"],
        ["3 minutes", "0m", "03m", "3", "3M", "1.5h", "-1m", "3 m", "m", "2w"],
    ),
    "clock_time": (["00:00", "09:00", "17:00", "23:59"], ["24:00", "7:00", "17:60", "1700", "17:00:00"]),
    "span": (
        ["09:00-12:00", "13:30-18:00", "00:00-23:59", "22:00-24:00"],
        ["9:00-12:00", "09:00 - 12:00", "09:00", "24:00-24:00", "09:00-24:30"],
    ),
    "iso_date": (["2026-12-31", "2026-01-01"], ["2026-12-1", "2026/12/31", "26-12-31", "2026-13-01"]),
    "schedule": (
        ["daily 17:00", "weekly mon 09:00", "weekly sun 23:59", "monthly 1 09:00", "monthly 31 09:00"],
        [
            "daily 7:00",
            "daily",
            "weekly monday 09:00",
            "weekly mon",
            "monthly 0 09:00",
            "monthly 32 09:00",
            "monthly 05 09:00",
            "every day 17:00",
        ],
    ),
    "weekday": (["mon", "sun"], ["Mon", "monday", "mo"]),
}


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_patterns(name):
    good, bad = PATTERNS[name]
    v = _def_validator(name)
    for value in good:
        assert v.is_valid(value), (name, value)
    for value in bad:
        assert not v.is_valid(value), (name, value)


# --------------------------------------------------------------------------- ajv strict (optional)
AJV_DIR = Path(os.environ.get("COMPLAINTFLOW_AJV_DIR", "/tmp/checkers"))


@pytest.mark.skipif(
    not (shutil.which("node") and (AJV_DIR / "ajv-check.mjs").exists() and (AJV_DIR / "node_modules" / "ajv").exists()),
    reason="ajv checker not set up (see /work/shared/checks/README.md; COMPLAINTFLOW_AJV_DIR)",
)
def test_ajv_strict_accepts_schema_and_full_example(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(FULL_EXAMPLE, encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(FULL_EXAMPLE.replace("within: 3m\n", "within: 3 minutes\n"), encoding="utf-8")
    run = subprocess.run(
        ["node", "ajv-check.mjs", str(SCHEMA_PATH), str(good), str(bad)],
        cwd=AJV_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "SCHEMA-ERROR" not in run.stdout, run.stdout
    assert f"OK {good}" in run.stdout, run.stdout
    assert f"INVALID {bad}" in run.stdout and "/deadlines/notify_department/within" in run.stdout, run.stdout
