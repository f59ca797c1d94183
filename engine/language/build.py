"""Build the frozen ``Process`` from a schema-valid document.

The schema has already vouched for the shape, so this module fills defaults,
normalises "one or a list" values to tuples, merges calendars with the ones
they extend, and parses the time words. Values it cannot parse become
diagnostics, never exceptions.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from .diagnostics import Diagnostic
from .durations import WEEKDAYS, parse_clock, parse_duration, parse_repeat, parse_span
from .loader import Document
from .spec import (
    Action,
    Calendar,
    ChecklistItem,
    CountRule,
    Deadline,
    Due,
    Duration,
    Escalation,
    EscalationKind,
    EscalationStep,
    Field,
    FieldTime,
    FieldType,
    Process,
    Role,
    Source,
    State,
    Title,
    UnpublishedYear,
    YearSchedule,
)

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
DEFAULT_HOURS = ["09:00-18:00"]
MAX_EXTENDS = 16  # calendars in one 'extends' chain: a base and a variant or two is the usual case
CALENDAR_KEYS = ("title", "weekdays", "hours", "statutory", "holidays", "workdays", "unpublished_year", "schedules")


class _Builder:
    def __init__(self, doc: Document):
        self.doc = doc
        self.problems: list[Diagnostic] = []

    def bad(self, path: tuple[Any, ...], rule: str, message: str, hint: str = "") -> None:
        self.problems.append(self.doc.problem(path, rule, message, hint=hint))

    def duration(self, value: Any, path: tuple[Any, ...]) -> Duration | None:
        if value is None:
            return None
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.bad(path, "bad-duration", str(exc))
            return None

    def clock(self, value: Any, path: tuple[Any, ...]) -> int | None:
        try:
            return parse_clock(value)
        except ValueError as exc:
            self.bad(path, "bad-time", str(exc))
            return None

    def build(self, raw_bytes: bytes) -> Process:
        d = self.doc.data
        return Process(
            id=d["process"],
            version=d["version"],
            title=title(d["title"]),
            source=Source(d["source"]["file"], d["source"].get("section", "")) if "source" in d else Source(""),
            timezone=d.get("timezone", DEFAULT_TIMEZONE),
            calendar=d.get("calendar"),
            calendars=self.calendars(d.get("calendars", {})),
            roles={k: Role(k, title(v["title"])) for k, v in d.get("roles", {}).items()},
            fields={k: self.field(k, v) for k, v in d.get("fields", {}).items()},
            states={k: self.state(k, v) for k, v in d["states"].items()},
            actions={k: self.action(k, v) for k, v in d["actions"].items()},
            deadlines={k: self.deadline(k, v) for k, v in d.get("deadlines", {}).items()},
            escalations={k: self.escalation(k, v) for k, v in d.get("escalations", {}).items()},
            content_hash=hashlib.sha256(raw_bytes).hexdigest(),
            counts_as=tuple(
                CountRule(
                    r["kind"],
                    r.get("when"),
                    as_tuple(r.get("states", ())),
                    title(r["title"]) if "title" in r else None,
                )
                for r in d.get("counts_as", ())
            ),
        )

    def dates(self, values: Any, path: tuple[Any, ...], year: int | None = None) -> frozenset[str]:
        """The valid ISO dates of a list (inside ``year`` when given); each bad one is a positioned problem."""
        good = set()
        for i, text in enumerate(values or ()):
            try:
                day = date.fromisoformat(text)
            except (TypeError, ValueError):
                self.bad(path + (i,), "bad-date", f"{text!r} is not a calendar date")
                continue
            if year is not None and day.year != year:
                self.bad(
                    path + (i,), "bad-date", f"{text} is not in {year}", "each schedule lists the dates of its own year"
                )
                continue
            good.add(text)
        return frozenset(good)

    def schedules(self, raw: Any, path: tuple[Any, ...]) -> tuple[YearSchedule, ...]:
        out: dict[int, YearSchedule] = {}
        for i, s in enumerate(raw or ()):
            year = s["year"]
            if year in out:
                self.bad(path + (i, "year"), "bad-date", f"a second schedule for {year}", "give each year once")
                continue
            hol = self.dates(s.get("holidays"), path + (i, "holidays"), year)
            work = self.dates(s.get("workdays"), path + (i, "workdays"), year)
            out[year] = YearSchedule(year, hol, work)
        return tuple(out[y] for y in sorted(out))

    def calendars(self, raw: dict[str, Any]) -> dict[str, Calendar]:
        # Dates are checked where they are written, before merging, so inherited ones are reported once.
        checked: dict[tuple[str, str], Any] = {}
        for cid, own in raw.items():
            for key in ("holidays", "workdays"):
                if key in own:
                    checked[(cid, key)] = self.dates(own[key], ("calendars", cid, key))
            if "schedules" in own:
                checked[(cid, "schedules")] = self.schedules(own["schedules"], ("calendars", cid, "schedules"))
        merged: dict[str, dict[str, Any]] = {}

        def resolve(cid: str, chain: tuple[str, ...]) -> dict[str, Any]:
            if cid in merged:
                return merged[cid]
            own = raw[cid]
            parent_id = own.get("extends")
            base: dict[str, Any] = {}
            if parent_id in chain:
                self.bad(
                    ("calendars", cid, "extends"),
                    "calendar-extends-cycle",
                    f"calendar {cid!r} extends itself through {' -> '.join(chain + (parent_id,))}",
                )
            elif parent_id in raw and len(chain) >= MAX_EXTENDS:
                self.bad(
                    ("calendars", cid, "extends"),
                    "calendar-extends-too-long",
                    f"calendar {chain[0]!r} extends a chain of more than {MAX_EXTENDS} calendars",
                    "let calendars extend one shared base instead of each other in a line",
                )
            elif parent_id in raw:
                base = resolve(parent_id, chain + (parent_id,))
            # Each key read by name: what the file gives wins over what the parent gives.
            mine = {k: checked.get((cid, k), own.get(k)) for k in CALENDAR_KEYS if k in own}
            merged[cid] = {k: mine.get(k, base.get(k)) for k in CALENDAR_KEYS if mine.get(k, base.get(k)) is not None}
            return merged[cid]

        out = {}
        for cid in raw:
            m = resolve(cid, (cid,))
            hours = []
            for i, span in enumerate(m.get("hours", DEFAULT_HOURS)):
                try:
                    hours.append(parse_span(span))
                except ValueError as exc:
                    self.bad(("calendars", cid, "hours", i), "bad-time", str(exc))
            out[cid] = Calendar(
                id=cid,
                title=title(m["title"]) if "title" in m else None,
                weekdays=frozenset(WEEKDAYS.index(w) for w in m.get("weekdays", DEFAULT_WEEKDAYS)),
                hours=tuple(sorted(hours)),
                statutory=m.get("statutory", "none"),
                holidays=frozenset(m.get("holidays", [])),
                workdays=frozenset(m.get("workdays", [])),
                unpublished_year=UnpublishedYear(m.get("unpublished_year", "estimate")),
                extends=raw[cid].get("extends"),
                schedules=m.get("schedules", ()),
            )
        return out

    def field(self, fid: str, v: dict[str, Any]) -> Field:
        return Field(
            fid,
            FieldType(v["type"]),
            title(v["title"]) if "title" in v else None,
            v.get("required", False),
            v.get("pii", False),
            tuple(v.get("values", ())),
            v.get("max_length"),
            tuple(v["visible_to"]) if "visible_to" in v else None,
            items=tuple(ChecklistItem(item_id, title(t)) for item_id, t in (v.get("items") or {}).items()),
        )

    def state(self, sid: str, v: dict[str, Any]) -> State:
        return State(
            sid,
            title(v["title"]),
            v.get("initial", False),
            v.get("final", False),
            v.get("owner"),
            v.get("pause", False),
            tuple(title(c) for c in v.get("checklist", [])),
            tuple(v.get("branches", ())),
            v.get("branch"),
        )

    def action(self, aid: str, v: dict[str, Any]) -> Action:
        return Action(
            aid,
            title(v["title"]),
            as_tuple(v["from"]),
            v["to"],
            tuple(v["roles"]),
            v.get("guard"),
            tuple(v.get("inputs", ())),
            tuple((v.get("set") or {}).items()),
        )

    def deadline(self, did: str, v: dict[str, Any]) -> Deadline:
        path = ("deadlines", did)
        due = Due()
        if v.get("within") == "immediately":
            due = Due(immediate=True)
        elif "within" in v:
            due = Due(within=self.duration(v["within"], path + ("within",)))
        elif "at" in v:
            due = Due(at=self.field_time(v["at"], path + ("at",)))
        elif v.get("by") == "end_of_day":
            due = Due(end_of_day=True)
        elif "by" in v:
            due = Due(by=self.clock(v["by"], path + ("by",)))
        elif "every" in v:
            try:
                due = Due(every=parse_repeat(v["every"]))
            except ValueError as exc:
                self.bad(path + ("every",), "bad-duration", str(exc))
        return Deadline(
            did,
            title(v["title"]),
            as_tuple(v["start"]),
            as_tuple(v.get("stop", ())),
            due,
            v.get("calendar"),
            v.get("role"),
            self.duration(v.get("warn_before"), path + ("warn_before",)),
            v.get("escalation"),
            tuple(v.get("reset_by", ())),
            tuple(sorted({int(str(share).rstrip("%")) for share in v.get("warn_at", ())})),
            v.get("guard"),
            v.get("reminder", False),
            tuple(v.get("extend_by", ())),
        )

    def field_time(self, text: str, path: tuple[Any, ...]) -> FieldTime | None:
        """``appointment_time``, ``appointment_time - 5m`` or ``+ 2h``: the schema vouched for the form."""
        name, sign, amount = text.replace(" ", "").partition("-")[0], -1, ""
        if "-" in text:
            amount = text.split("-", 1)[1].strip()
        elif "+" in text:
            name, amount = (part.strip() for part in text.split("+", 1))
            sign = 1
        name = name.strip()
        offset = 0
        if amount:
            d = self.duration(amount, path)
            if d is None:
                return None
            if d.unit not in ("m", "h", "d"):
                self.bad(path, "bad-duration", f"{d} counts working time; a field's time moves by m, h or d only")
                return None
            offset = sign * d.amount * {"m": 60, "h": 3600, "d": 86400}[d.unit]
        return FieldTime(name, offset, text)

    def escalation(self, eid: str, v: dict[str, Any]) -> Escalation:
        steps = tuple(
            EscalationStep(
                s["role"],
                EscalationKind(s["do"]),
                self.duration(s.get("within"), ("escalations", eid, "steps", i, "within")),
                tuple((s.get("set") or {}).items()),
                s.get("deliver", "now"),
            )
            for i, s in enumerate(v["steps"])
        )
        return Escalation(eid, title(v["title"]), steps)


def title(v: Any) -> Title:
    if isinstance(v, str):
        return Title(v)
    return Title(v.get("zh", ""), v.get("en", ""))


def as_tuple(v: Any) -> tuple[str, ...]:
    return (v,) if isinstance(v, str) else tuple(v)


def build_process(doc: Document, raw_bytes: bytes) -> tuple[Process, list[Diagnostic]]:
    builder = _Builder(doc)
    process = builder.build(raw_bytes)
    return process, builder.problems


def build_schedules(
    doc: Document, raw: Any, path: tuple[Any, ...]
) -> tuple[tuple[YearSchedule, ...], list[Diagnostic]]:
    """Official yearly schedules from a shape-checked list (a process calendar's or a data file's)."""
    builder = _Builder(doc)
    return builder.schedules(raw, path), builder.problems
