"""Decide what a start, an action or a due timer means, as a list of events.

Pure functions of (compiled process, case row, request, time): they check the
request, refuse it with a clear reason, or compute every resulting value
(states, branches, clocks, due times) into event payloads for ``fold``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..language.diagnostics import did_you_mean
from ..language.spec import Action, Duration
from ..store.base import CaseRecord, EventKind, EventRecord
from ..tenants import DEFAULT_TENANT
from .clocks import (
    Clock,
    TimerRecord,
    armed,
    extended,
    missed_until,
    pause,
    recomputed,
    resume,
    start_clock,
    step_due,
)
from .errors import RefusedError
from .events import GENESIS, next_event
from .machine import CompiledProcess
from .personal import inline_personal, separate
from .values import InputError, check_values

SYSTEM_ACTOR = "complaintflow"
SYSTEM_ROLE = "system"


def decide_start(
    cp: CompiledProcess,
    case_id: str,
    data: Mapping[str, Any],
    actor: str,
    roles: tuple[str, ...],
    at: int,
    tenant: str = DEFAULT_TENANT,
) -> list[EventRecord]:
    spec = cp.spec
    role = next((r for r in roles if r in spec.roles), None)
    if role is None:
        raise RefusedError(f"{actor} has none of the roles of process {spec.id!r} ({', '.join(spec.roles)})")
    values = check_values(spec.fields, data, spec.timezone)
    missing = [f.id for f in spec.fields.values() if f.required and f.id not in values]
    if missing:
        raise InputError(f"missing required field(s): {', '.join(missing)}")
    initial = spec.states[spec.initial_state]
    branches = {b: cp.branch_initial[b] for b in initial.branches}
    clocks = _start_clocks(cp, {initial.id, *branches.values()}, {}, at, values)
    if any(spec.states[s].pause for s in (initial.id, *branches.values())):
        clocks = {k: pause(v, at) for k, v in clocks.items()}
    payload = {
        "process_id": spec.id,
        "process_hash": spec.content_hash,
        "version": spec.version,
        "state": initial.id,
        "branches": branches,
        "data": values,
        "owner_role": initial.owner,
        "clocks": clocks,
    }
    if tenant != DEFAULT_TENANT:  # under the chain's hash; a default-tenant history hashes as before tenants
        payload["tenant"] = tenant
    payload, personal = separate(payload, "data", cp.pii)
    return [next_event(case_id, 0, GENESIS, at, actor, role, "started", payload, personal)]


def source_of(cp: CompiledProcess, case: CaseRecord, action: Action) -> str | None:
    """The current state ``action`` would leave, or None if it cannot be taken now."""
    if case.closed_at is not None:
        return None
    if not case.branches:  # the common case: no parallel state
        return case.state if case.state in action.sources else None
    if case.state in action.sources and cp.final.issuperset(case.branches.values()):
        return case.state  # leaving a parallel state needs every branch finished (the join)
    return next((s for s in case.branches.values() if s in action.sources), None)


def decide_action(
    cp: CompiledProcess,
    case: CaseRecord,
    action_id: str,
    actor: str,
    roles: tuple[str, ...],
    inputs: dict[str, Any],
    at: int,
) -> list[EventRecord]:
    spec = cp.spec
    action = spec.actions.get(action_id)
    if action is None:
        hint = did_you_mean(action_id, spec.actions)
        raise RefusedError(
            f"case {case.id}: process {spec.id!r} has no action {action_id!r}" + (f"; {hint}" if hint else "")
        )
    if case.closed_at is not None:
        raise RefusedError(f"case {case.id} is closed (in {case.state!r})")
    source = source_of(cp, case, action)
    if source is None:
        where = ", ".join([case.state, *case.branches.values()])
        waiting = [b for b, s in case.branches.items() if not spec.states[s].final]
        reason = f"; waiting for branch(es) {', '.join(waiting)} to finish" if case.state in action.sources else ""
        raise RefusedError(
            f"case {case.id}: action {action_id!r} cannot be taken in {where!r} "
            f"(it applies in {', '.join(action.sources)}){reason}"
        )
    for role in action.roles:
        if role in roles:
            break
    else:
        raise RefusedError(
            f"case {case.id}: {actor} ({', '.join(roles) or 'no role'}) may not take action "
            f"{action_id!r}; it needs one of: {', '.join(action.roles)}"
        )
    values = check_values(spec.fields, inputs, spec.timezone) if inputs else {}
    missing = [f for f in action.inputs if f not in values] if action.inputs else None
    if missing:
        raise InputError(f"action {action_id!r} needs input(s): {', '.join(missing)}")
    guard = cp.guards.get(action_id)
    if guard is not None and not guard({**case.data, **values}):
        raise RefusedError(
            f"case {case.id}: action {action_id!r} is not allowed: its condition {guard.text!r} is false for this case"
        )
    target = cp.move(action_id, source)
    if action.set:  # fixed values the action records, beside what the actor gave
        values = {**values, **dict(action.set)}
    return _move(cp, case, action_id, source, target, values, actor, role, at)


def _move(
    cp: CompiledProcess,
    case: CaseRecord,
    action_id: str,
    source: str,
    target: str,
    values: dict[str, Any],
    actor: str,
    role: str,
    at: int,
) -> list[EventRecord]:
    spec = cp.spec
    branch = spec.states[source].branch
    if branch is not None:
        state, branches = case.state, {**case.branches, branch: target}
        entered = {target}
    else:
        state = target
        parallel = spec.states[target].branches
        branches = {b: cp.branch_initial[b] for b in parallel} if parallel else {}
        entered = {target, *branches.values()}
    now_in = {state, *branches.values()} if branches else entered
    final = state in cp.final
    was_paused = bool(cp.pausing) and not cp.pausing.isdisjoint([case.state, *case.branches.values()])
    pausing = bool(cp.pausing) and not cp.pausing.isdisjoint(now_in)
    current = case.clocks
    if was_paused and not pausing:  # resume first, so a clock ended by this move is judged on its shifted due
        current = {k: resume(cp, spec.deadlines[k], v, at) for k, v in current.items()}
    ended: list[str] = []
    for name in current:
        d = spec.deadlines[name]
        if (
            final
            or action_id in d.reset_by
            or (not entered.isdisjoint(d.stop) if d.stop else now_in.isdisjoint(d.start))
        ):
            ended.append(name)
    kept = {k: v for k, v in current.items() if k not in ended} if ended else current
    data = {**case.data, **values}
    started = {} if final else _start_clocks(cp, entered, kept, at, data)
    for name in ended:  # a repeating deadline reset by this action starts again at once
        d = spec.deadlines[name]
        if action_id in d.reset_by and not final and not now_in.isdisjoint(d.start) and armed(cp, d, data):
            started[name] = start_clock(cp, d, at, data)
    clocks = {**kept, **started} if started else kept
    if pausing:
        clocks = {k: pause(v, at) for k, v in clocks.items()}
    old_clocks = case.clocks
    changed = {k: v for k, v in clocks.items() if (old := old_clocks.get(k)) is not v and old != v}
    owner = spec.states[state].owner if branch is None else case.owner_role
    payload = {
        "action": action_id,
        "from": source,
        "to": target,
        "inputs": values,
        "state": state,
        "branches": branches,
        "owner_role": owner or case.owner_role,
        "ended": ended,
        "clocks": changed,
        "final": final,
    }
    payload, personal = separate(payload, "inputs", cp.pii)
    events = [next_event(case.id, case.last_seq, case.last_hash, at, actor, role, "acted", payload, personal)]
    for name in ended:
        clock = current[name]
        on_time = not clock["breached"] and not clock["misses"] and at <= clock["due"]
        met = {"deadline": name, "due": clock["due"], "on_time": on_time, "reason": "closed" if final else action_id}
        if clock["provisional"]:  # only then, so events of published years keep their exact payload
            met["provisional"] = True
        events.append(next_event(case.id, events[-1].seq, events[-1].hash, at, actor, role, "deadline_met", met))
    return events


def _start_clocks(
    cp: CompiledProcess, entered: set[str], running: Mapping[str, Clock], at: int, data: Mapping[str, Any]
) -> dict[str, Clock]:
    started: dict[str, Clock] = {}
    for state in sorted(entered):
        for d in cp.starts_in.get(state, ()):
            if d.id not in running and d.id not in started and armed(cp, d, data):
                started[d.id] = start_clock(cp, d, at, data)
    return started


def decide_timer(cp: CompiledProcess, case: CaseRecord, timer: TimerRecord, now: int) -> list[EventRecord]:
    """The events a due timer produces: a warning, a breach (and the chain's first step), or the next step."""
    spec = cp.spec
    d = spec.deadlines[timer.deadline]
    clock = case.clocks[timer.deadline]
    at = max(timer.due_at, case.last_at)
    owner = d.role or case.owner_role or ""
    base = {"deadline": d.id, "title": d.title.zh, "due": clock["due"], "role": owner}
    out: list[EventRecord] = []

    def add(kind: EventKind, payload: dict[str, Any]) -> None:
        seq, prev = (out[-1].seq, out[-1].hash) if out else (case.last_seq, case.last_hash)
        out.append(next_event(case.id, seq, prev, at, SYSTEM_ACTOR, SYSTEM_ROLE, kind, payload))

    if timer.kind == "warn":
        add("deadline_warning", {**base, "provisional": True} if clock["provisional"] else base)
        return out
    if timer.kind == "breach" and clock.get("reminder"):  # a reminder falls due: its role hears, nothing breaches
        add("deadline_warning", {**base, "reminder": True})
        return out
    if timer.kind == "breach":
        payload: dict[str, Any] = {**base, "provisional": clock["provisional"]}
        if d.due.every is not None:  # count the occurrences that ran out by now, then wait for the next
            missed, next_due, estimated = missed_until(cp.calendar_for(d), d.due.every, clock["due"], now)
            payload.update(missed=missed, next_due=next_due)
            if estimated:
                payload["estimated"] = True
        add("deadline_breached", payload)
        if d.escalation and clock["step"] == 0:
            _escalate(cp, d.id, 1, at, add)
        return out
    _escalate(cp, d.id, clock["step"] + 1, at, add)
    return out


def decide_recompute(cp: CompiledProcess, case: CaseRecord, now: int) -> list[EventRecord]:
    """One ``deadline_recomputed`` event per provisional clock whose years are now published."""
    at = max(now, case.last_at)
    out: list[EventRecord] = []
    for name, clock in case.clocks.items():
        found = recomputed(cp, cp.spec.deadlines[name], clock)
        if found is None:
            continue
        new, years = found
        seq, prev = (out[-1].seq, out[-1].hash) if out else (case.last_seq, case.last_hash)
        payload = {
            "deadline": name,
            "title": cp.spec.deadlines[name].title.zh,
            "old_due": clock["due"],
            "due": new["due"],
            "provisional": new["provisional"],
            "warn": new["warn"],
            "reason": f"{', '.join(map(str, years))} schedule now known",
        }
        if "warn_later" in new or "warn_later" in clock:
            payload["warn_later"] = new.get("warn_later", [])
        out.append(next_event(case.id, seq, prev, at, SYSTEM_ACTOR, SYSTEM_ROLE, "deadline_recomputed", payload))
    return out


def decide_extend(
    cp: CompiledProcess,
    case: CaseRecord,
    deadline_id: str,
    actor: str,
    roles: tuple[str, ...],
    at: int,
    reason: str,
    add: Duration | None = None,
    until: int | None = None,
) -> list[EventRecord]:
    """A person gives a running deadline more time: a new due time or an added budget, and a reason.

    Recorded as a ``deadline_recomputed`` event carrying ``extended`` (who, by how much, why), so every
    reader of due-time changes (fold, history, replay) already knows it; warnings still ahead re-arm.
    """
    d = cp.spec.deadlines.get(deadline_id)
    clock = case.clocks.get(deadline_id)
    if d is None or clock is None:
        running = ", ".join(case.clocks) or "none"
        raise RefusedError(f"case {case.id}: deadline {deadline_id!r} is not running (running: {running})")
    if not d.extend_by:
        raise RefusedError(f"case {case.id}: deadline {deadline_id!r} cannot be extended (it names no extend_by roles)")
    role = next((r for r in roles if r in d.extend_by), None)
    if role is None:
        raise RefusedError(
            f"case {case.id}: {actor} may not extend {deadline_id!r}; it needs one of: {', '.join(d.extend_by)}"
        )
    if not reason.strip():
        raise RefusedError(f"case {case.id}: extending {deadline_id!r} needs a reason")
    if (add is None) == (until is None):
        raise RefusedError("give either an added budget or a new due time, not both")
    if clock["breached"] or clock.get("reminded"):
        raise RefusedError(f"case {case.id}: deadline {deadline_id!r} has already fallen due")
    new = extended(cp, d, clock, at, add, until)
    if new["due"] <= clock["due"]:
        raise RefusedError(f"case {case.id}: the new due time is not later than the current one")
    payload: dict[str, Any] = {
        "deadline": d.id,
        "title": d.title.zh,
        "old_due": clock["due"],
        "due": new["due"],
        "provisional": new["provisional"],
        "warn": new["warn"],
        "warn_later": new.get("warn_later", []),
        "warned": False,
        "reason": reason.strip(),
        "extended": {"by": str(add) if add is not None else None, "until": until},
    }
    return [next_event(case.id, case.last_seq, case.last_hash, at, actor, role, "deadline_recomputed", payload)]


def _escalate(cp: CompiledProcess, deadline_id: str, step: int, at: int, add: Any) -> None:
    d = cp.spec.deadlines[deadline_id]
    chain = cp.spec.escalations[d.escalation or ""]
    if step > len(chain.steps):
        return
    s = chain.steps[step - 1]
    payload = {
        "deadline": d.id,
        "escalation": chain.id,
        "step": step,
        "of": len(chain.steps),
        "role": s.role,
        "do": s.do.value,
        "step_due": step_due(cp, d, step, at),
    }
    if s.set:  # e.g. the case becomes major: recorded here, applied by fold
        payload["set"] = dict(s.set)
    if s.deliver == "business_hours":  # the step happens now; only its message waits for the next opening
        opening = cp.calendar_for(d).add_working_seconds(at, 1).at - 1
        if opening > at:
            payload["deliver_at"] = opening
    add("escalated", payload)


def decide_erase(
    cp: CompiledProcess,
    case: CaseRecord,
    history: list[EventRecord],
    fields: tuple[str, ...],
    actor: str,
    role: str,
    at: int,
    reason: str,
) -> list[EventRecord]:
    """Erase personal fields of a case (all of its process's when ``fields`` is empty): one ``erased`` event
    that records who, why and which fields; the store destroys the kept values in the same commit. Refused
    for a history that holds a personal value inside a hashed payload (written before store format 5):
    erasing it there would break the chain."""
    pii = sorted(cp.pii)
    if not pii:
        raise RefusedError(f"case {case.id}: process {cp.spec.id!r} marks no field pii; there is nothing to erase")
    unknown = [f for f in fields if f not in cp.pii]
    if unknown:
        raise RefusedError(
            f"case {case.id}: {', '.join(map(repr, unknown))} is not a pii field of process {cp.spec.id!r} "
            f"(its pii fields: {', '.join(pii)})"
        )
    if not reason.strip():
        raise RefusedError("say why the data is erased: --reason TEXT (it is recorded in the history)")
    chosen = sorted(set(fields)) if fields else pii
    inside = [f"{name} (event {seq})" for seq, name in inline_personal(history, chosen)]
    if inside:
        raise RefusedError(
            f"case {case.id}: refused: {', '.join(inside[:3])} is kept inside the hashed history, written before "
            "store format 5; it cannot be erased without breaking the chain (docs/privacy.md)"
        )
    payload = {"fields": chosen, "reason": reason}
    return [next_event(case.id, case.last_seq, case.last_hash, at, actor, role, "erased", payload)]
