"""Readable lines for events and cases, in the process's own (Chinese) words.

Used by the CLI's ``history``, ``tick``, ``case`` and ``cases`` and by the
demo's timeline. Pure formatting: it reads specs and records, writes nothing.
"""

from __future__ import annotations

from typing import Any

from ..calendar import format_local
from ..language.spec import Process
from ..store.base import CaseRecord, EventRecord


def _spec(engine: Any, process_hash: str) -> Process:
    return engine.compiled(process_hash).spec  # type: ignore[no-any-return]


def _role(spec: Process, role: str | None) -> str:
    if role and role in spec.roles:
        return f"{spec.roles[role].title.zh}"
    return role or "-"


def _state(spec: Process, state: str) -> str:
    return spec.states[state].title.zh if state in spec.states else state


def _late(seconds: int) -> str:
    minutes = abs(seconds) // 60
    text = (
        f"{minutes // 1440}d {minutes % 1440 // 60}h"
        if minutes >= 1440
        else f"{minutes // 60}h{minutes % 60:02d}m"
        if minutes >= 60
        else f"{minutes}m"
    )
    return text


def _due(record: dict[str, Any], key: str, tz: str) -> str:
    """A due time as printed, marked when a year without a published schedule went into it."""
    mark = " (provisional)" if record.get("provisional") else ""
    return f"{format_local(record[key], tz)}{mark}"


def describe_event(engine: Any, event: EventRecord, spec: Process | None = None) -> str:
    if spec is None:
        spec = _spec(engine, engine.case(event.case_id).process_hash)
    when = format_local(event.at, spec.timezone)
    who = f"{event.actor} ({_role(spec, event.role)})" if event.role != "system" else "⏱ engine"
    p = event.payload
    tz = spec.timezone
    if event.kind == "started":
        what = f"opened case on {spec.title.zh} v{p['version']}, in {_state(spec, p['state'])}"
    elif event.kind == "acted":
        title = spec.actions[p["action"]].title.zh if p["action"] in spec.actions else p["action"]
        what = f"{title} [{p['action']}]: {_state(spec, p['from'])} → {_state(spec, p['to'])}"
        if p["final"]:
            what += " (closed)"
    elif event.kind == "deadline_met":
        d = spec.deadlines.get(p["deadline"])
        name = d.title.zh if d else p["deadline"]
        if p["on_time"]:
            what = f"✓ met {name} (due {_due(p, 'due', tz)}, {_late(p['due'] - event.at)} to spare)"
        else:
            what = f"✗ met late {name} (was due {_due(p, 'due', tz)})"
    elif event.kind == "deadline_warning" and p.get("reminder"):
        what = f"🔔 reminder: {p['title']} ({_role(spec, p['role'])})"
    elif event.kind == "deadline_warning":
        what = f"⚠ warning: {p['title']} falls due {_due(p, 'due', tz)} ({_role(spec, p['role'])})"
    elif event.kind == "deadline_breached":
        extra = f", {p['missed']} occurrence(s) missed" if p.get("missed") else ""
        extra += " (counted by their mean spacing)" if p.get("estimated") else ""
        what = f"✗ BREACHED {p['title']} (due {_due(p, 'due', tz)}{extra})"
    elif event.kind == "deadline_recomputed" and p.get("extended"):
        old = format_local(p["old_due"], tz)
        what = f"⇥ deadline extended: {p['title']} due {old} → {_due(p, 'due', tz)}; reason: {p['reason']}"
    elif event.kind == "deadline_recomputed":
        old = format_local(p["old_due"], tz)
        what = f"↻ deadline recomputed: {p['reason']}: {p['title']} due {old} → {_due(p, 'due', tz)}"
    elif event.kind == "escalated":
        verb = "reassigned to" if p["do"] == "reassign" else "notified"
        what = f"↑ escalation {p['escalation']} step {p['step']}/{p['of']}: {verb} {_role(spec, p['role'])}"
        if p.get("step_due"):
            what += f", who has until {format_local(p['step_due'], tz)}"
        if p.get("set"):
            what += "; set " + ", ".join(f"{k} = {v}" for k, v in p["set"].items())
        if p.get("deliver_at"):
            what += f"; message held until {format_local(p['deliver_at'], tz)}"
    elif event.kind == "migrated":
        moved = ", ".join(f"{a} → {b}" for a, b in p["state_map"].items())
        what = f"⇄ moved to v{p['to_version']} of {p['process_id']}" + (f" ({moved})" if moved else "")
        what += "".join(f"; {name} due {_due(clock, 'due', tz)}" for name, clock in sorted(p["clocks"].items()))
        if p["ended"]:
            what += f"; clock(s) ended: {', '.join(p['ended'])}"
    elif event.kind == "erased":
        what = f"erased {', '.join(p['fields'])}: {p['reason']}"
    else:
        what = f"{event.kind} {p}"
    return f"{when}  {event.case_id}  {who}: {what}"


def describe_history(engine: Any, events: list[EventRecord]) -> list[str]:
    """A whole history, each event in the words of the version the case ran on then (a migration changes it)."""
    lines, spec = [], None
    for event in events:
        if event.kind == "started" and "process_hash" in event.payload:
            spec = _spec(engine, event.payload["process_hash"])
        lines.append(describe_event(engine, event, spec))
        if event.kind == "migrated":
            spec = _spec(engine, event.payload["to_hash"])
    return lines


def describe_case_line(engine: Any, case: CaseRecord) -> str:
    spec = _spec(engine, case.process_hash)
    status = "closed" if case.closed_at is not None else "open"
    return (
        f"{case.id}  {spec.id} v{spec.version}  {status:6}  {_state(spec, case.state)} [{case.state}]  "
        f"holder: {_role(spec, case.owner_role)}  opened {format_local(case.opened_at, spec.timezone)}"
    )


def _span(seconds: int | None) -> str:
    if seconds is None:
        return "?"
    return ("-" if seconds < 0 else "") + _late(seconds)


def clock_views(engine: Any, case: CaseRecord, now: int) -> list[Any]:
    """Each running clock of the case as read at ``now`` (budget, used, remaining, due, paused since)."""
    from ..runtime.clocks import view

    cp = engine.compiled(case.process_hash)
    return [view(cp, cp.spec.deadlines[name], clock, now) for name, clock in case.clocks.items()]


def describe_case(engine: Any, case: CaseRecord, now: int | None = None) -> str:
    spec = _spec(engine, case.process_hash)
    tz = spec.timezone
    lines = [describe_case_line(engine, case)]
    for branch, state in case.branches.items():
        lines.append(f"  branch {branch}: {_state(spec, state)} [{state}]")
    for name, value in case.data.items():
        field = spec.fields.get(name)
        shown = "***" if field is not None and field.pii else value
        lines.append(f"  {name}: {shown}")
    for name, clock in case.clocks.items():
        d = spec.deadlines[name]
        status = "PAUSED" if clock["paused_at"] is not None else "BREACHED" if clock["breached"] else "running"
        lines.append(
            f"  ⏱ {d.title.zh} [{name}] {d.due}: due {_due(clock, 'due', tz)} ({status}"
            f"{', escalation step ' + str(clock['step']) if clock['step'] else ''})"
        )
    for v in clock_views(engine, case, now) if now is not None and case.closed_at is None else ():
        line = f"    {v.deadline}: budget {v.budget} ({v.counts} time), used {_span(v.used)}, left {_span(v.remaining)}"
        if v.paused_since is not None:
            line += f", paused since {format_local(v.paused_since, tz)}"
        if v.next_warning is not None:
            line += f", next warning {format_local(v.next_warning, tz)}"
        lines.append(line)
    return "\n".join(lines)
