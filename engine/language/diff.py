"""Semantic diff of two process specs: what a new version changes for the people who run it.

Changes are reported per item and attribute, in a stable order (process header,
calendars, roles, fields, states, actions, deadlines, escalations; ids sorted).
Time budgets that shrink are "tightened" and ones that grow "loosened", so a
reviewer sees at once when a promise to customers got weaker. ``content_hash``
is ignored: two files that build the same spec have no differences.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .durations import WEEKDAYS, approx_minutes
from .spec import (
    Calendar,
    CountRule,
    Deadline,
    Due,
    Duration,
    Escalation,
    EscalationStep,
    Process,
    Repeat,
    Title,
    YearSchedule,
)

KINDS = ("added", "removed", "changed", "tightened", "loosened")


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # "added" | "removed" | "changed" | "tightened" | "loosened"
    what: (
        str  # "process" | "calendar" | "role" | "field" | "state" | "action" | "deadline" | "escalation" | "counts_as"
    )
    id: str  # the item, e.g. "callback", or "major_case.step2" for an escalation step
    detail: str  # human text, e.g. "within 2wd -> within 5wd (完成后2个工作日内回访客户)"
    old: object = None  # JSON-able value before (None when added)
    new: object = None  # JSON-able value after (None when removed)

    def __str__(self) -> str:
        return f"{self.kind:<9} {self.what} {self.id}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "what": self.what,
            "id": self.id,
            "detail": self.detail,
            "old": self.old,
            "new": self.new,
        }


def to_jsonable(value: Any) -> Any:
    """Spec values as plain JSON: durations and dues as their text, sets sorted, enums by value."""
    if isinstance(value, (Duration, Due, Repeat)):
        return str(value)
    if isinstance(value, Title):
        return {"zh": value.zh, "en": value.en}
    if isinstance(value, Calendar):
        return {
            "id": value.id,
            "title": to_jsonable(value.title),
            "extends": value.extends,
            "weekdays": _weekdays(value.weekdays),
            "hours": _hours(value.hours),
            "statutory": value.statutory,
            "holidays": sorted(value.holidays),
            "workdays": sorted(value.workdays),
            "unpublished_year": value.unpublished_year.value,
            "schedules": [_schedule(y) for y in value.schedules],
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(to_jsonable(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def _schedule(year: YearSchedule) -> dict[str, Any]:
    return {"year": year.year, "holidays": sorted(year.holidays), "workdays": sorted(year.workdays)}


def _schedule_text(year: YearSchedule) -> str:
    """One official year as people compare it: every date, so moving one day shows."""
    return f"{year.year} off {' '.join(sorted(year.holidays)) or '-'}, work {' '.join(sorted(year.workdays)) or '-'}"


def _weekdays(days: frozenset[int]) -> list[str]:
    return [WEEKDAYS[d] for d in sorted(days)]


def _hours(spans: tuple[tuple[int, int], ...]) -> list[str]:
    return [f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in spans]


def _show(value: Any) -> str:
    if value is None or value == () or value == []:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return ", ".join(_show(v) for v in value)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def budget_kind(old: Duration | None, new: Duration | None) -> str:
    """Say "tightened" if ``new`` gives less time than ``old``, "loosened" if more, else "changed"."""
    if old is None or new is None:
        return "changed"  # a limit appearing or vanishing is not a budget on one scale
    if old.unit == new.unit:
        before, after = float(old.amount), float(new.amount)
    else:
        before, after = approx_minutes(old), approx_minutes(new)
    return "tightened" if after < before else "loosened" if after > before else "changed"


def due_kind(old: Due, new: Due) -> str:
    """Compare two due rules; only like with like is tighter or looser (within/within, by/by, every/every)."""
    if old.within is not None and new.within is not None:
        return budget_kind(old.within, new.within)
    if old.by is not None and new.by is not None:  # an earlier clock time is a tighter promise
        return "tightened" if new.by < old.by else "loosened" if new.by > old.by else "changed"
    if old.every is not None and new.every is not None and old.every.interval and new.every.interval:
        return budget_kind(old.every.interval, new.every.interval)  # more often = tighter
    return "changed"


# Which attributes to compare and how: "value" shows both values, "set" lists what was
# added and removed (order does not matter), "quoted" shows JSON-quoted text (guards).
AttrSpec = tuple[tuple[str, str], ...]  # (attribute, how)


def _specs(text: str) -> AttrSpec:
    """'title roles:set guard:quoted' -> (("title", "value"), ("roles", "set"), ("guard", "quoted"))."""
    pairs = (word.partition(":") for word in text.split())
    return tuple((attr, how or "value") for attr, _, how in pairs)


_PROCESS = _specs("id version title source timezone calendar")
_CALENDAR = _specs(
    "title extends weekdays:set hours statutory holidays:set workdays:set unpublished_year schedules:set"
)
_ROLE = _specs("title")
_FIELD = _specs("title type required pii visible_to values:set items")
_STATE = _specs("title initial final owner pause checklist branches:set branch")
_ACTION = _specs("title sources:set target roles:set guard:quoted inputs:set set:set")
_DEADLINE = _specs(
    "title start:set stop:set calendar role warn_before warn_at escalation reset_by:set guard:quoted reminder "
    "extend_by:set"
)
_STEP = _specs("role do set:set deliver")
_LABELS = {"sources": "from", "target": "to"}  # the words the YAML file uses


def _view(obj: Any, attr: str) -> Any:
    """An attribute as people read it: weekday names and HH:MM spans for calendars, source as text."""
    value = getattr(obj, attr)
    if isinstance(obj, Calendar) and attr == "weekdays":
        return tuple(_weekdays(value))
    if isinstance(obj, Calendar) and attr == "hours":
        return tuple(_hours(value))
    if attr == "source":
        return f"{value.file} § {value.section}" if value.section else value.file
    if isinstance(obj, Calendar) and attr == "schedules":
        return frozenset(_schedule_text(y) for y in value)
    if attr == "checklist":
        return tuple(str(t) for t in value)
    if attr == "items":  # a checklist field's items: id and title
        return tuple(f"{item.id} {item.title}" for item in value)
    if attr == "set":  # fields set to fixed values, as written: severity = major
        return frozenset(f"{name} = {v}" for name, v in value)
    if attr == "visible_to":  # None (every role) and () (nobody) read differently from a list of roles
        return "every role" if value is None else tuple(sorted(value)) or "nobody"
    if attr == "warn_at":
        return tuple(f"{share}%" for share in value)
    return value


def _attributes(what: str, item_id: str, old: Any, new: Any, specs: AttrSpec) -> Iterator[Change]:
    """One "changed" per attribute that differs."""
    for attr, how in specs:
        label = _LABELS.get(attr, attr)
        before, after = _view(old, attr), _view(new, attr)
        if how == "set" and set(before) == set(after):
            continue
        if before == after:
            continue
        if how == "set":
            added = sorted(str(v) for v in set(after) - set(before))
            removed = sorted(str(v) for v in set(before) - set(after))
            parts = [f"{verb} {', '.join(names)}" for verb, names in (("added", added), ("removed", removed)) if names]
            detail = f"{label}: {'; '.join(parts)}"
            before, after = _listed(before), _listed(after)
        elif how == "quoted":
            detail = f"{label} {_quote(before)} -> {_quote(after)}"
        else:
            detail = f"{label} {_show(before)} -> {_show(after)}"
        yield Change("changed", what, item_id, detail, to_jsonable(before), to_jsonable(after))


def _listed(values: Any) -> list[str]:
    """A tuple keeps the order it was written in; a set has none, so it is sorted."""
    return [str(v) for v in values] if isinstance(values, (tuple, list)) else sorted(map(str, values))


def _quote(text: str | None) -> str:
    return "none" if text is None else json.dumps(text, ensure_ascii=False)


def _summary(item: Any) -> str:
    """One-line description of an added or removed item."""
    title = getattr(item, "title", None)
    zh = title.zh if isinstance(title, Title) else ""
    if isinstance(item, Deadline):
        return f"{item.due} ({zh})"
    if hasattr(item, "sources"):
        return f"{zh} ({', '.join(item.sources)} -> {item.target})"
    return zh or item.id


def _items(
    what: str, old: dict[str, Any], new: dict[str, Any], compare: Callable[[Any, Any], Iterator[Change]]
) -> Iterator[Change]:
    for item_id in sorted(set(old) | set(new)):
        if item_id not in new:
            yield Change("removed", what, item_id, _summary(old[item_id]), to_jsonable(old[item_id]), None)
        elif item_id not in old:
            yield Change("added", what, item_id, _summary(new[item_id]), None, to_jsonable(new[item_id]))
        else:
            yield from compare(old[item_id], new[item_id])


def _deadline(old: Deadline, new: Deadline) -> Iterator[Change]:
    if old.due != new.due:
        detail = f"{old.due} -> {new.due} ({new.title.zh})"
        yield Change(due_kind(old.due, new.due), "deadline", new.id, detail, str(old.due), str(new.due))
    yield from _attributes("deadline", new.id, old, new, _DEADLINE)


def _escalation(old: Escalation, new: Escalation) -> Iterator[Change]:
    yield from _attributes("escalation", new.id, old, new, _ROLE)  # like a role, only a title besides steps
    for n in range(1, max(len(old.steps), len(new.steps)) + 1):
        step_id = f"{new.id}.step{n}"
        before = old.steps[n - 1] if n <= len(old.steps) else None
        after = new.steps[n - 1] if n <= len(new.steps) else None
        if before is None and after is not None:
            yield Change("added", "escalation", step_id, _step(after), None, to_jsonable(after))
        elif after is None and before is not None:
            yield Change("removed", "escalation", step_id, _step(before), to_jsonable(before), None)
        elif before is not None and after is not None:
            yield from _attributes("escalation", step_id, before, after, _STEP)
            if before.within != after.within:
                yield Change(
                    budget_kind(before.within, after.within),
                    "escalation",
                    step_id,
                    f"within {_show(before.within)} -> {_show(after.within)} ({after.role})",
                    to_jsonable(before.within),
                    to_jsonable(after.within),
                )


def _step(step: EscalationStep) -> str:
    return f"{step.do.value} {step.role}" + (f" within {step.within}" if step.within else "")


def _simple(what: str, specs: AttrSpec) -> Callable[[Any, Any], Iterator[Change]]:
    return lambda old, new: _attributes(what, new.id, old, new, specs)


def diff(old: Process, new: Process) -> list[Change]:
    """Every semantic difference from ``old`` to ``new``; empty when they describe the same process."""
    changes = list(_attributes("process", new.id, old, new, _PROCESS))
    changes += _items("calendar", old.calendars, new.calendars, _simple("calendar", _CALENDAR))
    changes += _items("role", old.roles, new.roles, _simple("role", _ROLE))
    changes += _items("field", old.fields, new.fields, _simple("field", _FIELD))
    changes += _items("state", old.states, new.states, _simple("state", _STATE))
    changes += _items("action", old.actions, new.actions, _simple("action", _ACTION))
    changes += _items("deadline", old.deadlines, new.deadlines, _deadline)
    changes += _items("escalation", old.escalations, new.escalations, _escalation)
    changes += _counts_as(old, new)
    return changes


def _count_rule(rule: CountRule) -> str:
    parts = [rule.kind]
    if rule.when:
        parts.append(f"when {_quote(rule.when)}")
    if rule.states:
        parts.append(f"in {', '.join(rule.states)}")
    return " ".join(parts)


def _counts_as(old: Process, new: Process) -> list[Change]:
    """``counts_as`` is an ordered list (the first match wins): a change is named by its position."""
    before, after = [_count_rule(r) for r in old.counts_as], [_count_rule(r) for r in new.counts_as]
    if before == after:
        return []
    changes = []
    for i in range(max(len(before), len(after))):
        was, now = (before[i] if i < len(before) else None), (after[i] if i < len(after) else None)
        if was == now:
            continue
        if was is None or now is None:
            kind, detail = ("added", str(now)) if was is None else ("removed", was)
        else:
            kind, detail = "changed", f"{was} -> {now}"
        changes.append(
            Change(kind, "counts_as", str(i + 1), f"{detail} (what a case counts as in the report)", was, now)
        )
    return changes
