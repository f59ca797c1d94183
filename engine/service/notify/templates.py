"""Render an outbox event into a ``Notification``: which case, what happened, who must act by when.

Chinese first, English after, in the process's own titles (an English title falls back to the Chinese
one). Customer fields can be personal data, so a message names the case only by its id and its state,
never by the customer's name or phone. Times are local to the process (``2025-09-29 10:18``). Events
nobody needs to hear about (starts, actions, deadlines met) render to None.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...calendar import format_local
from ...language.spec import Process, Title
from ...store.base import CaseRecord, OutboxMessage
from .message import Notification, Recipient

NOTIFIED_KINDS = ("deadline_warning", "deadline_breached", "escalated")
LATE_AFTER = 600  # seconds between the event and the rendering before a message says it comes late


def _zh(title: Title | None, fallback: str) -> str:
    return title.zh if title is not None else fallback


def _en(title: Title | None, fallback: str) -> str:
    return (title.en or title.zh) if title is not None else fallback


def _role(process: Process, role: str | None) -> tuple[str, str]:
    r = process.roles.get(role or "")
    return (_zh(r.title if r else None, role or "-"), _en(r.title if r else None, role or "-"))


def _lines(*lines: str) -> str:
    return "\n".join(line for line in lines if line)


def render(
    message: OutboxMessage,
    case: CaseRecord,
    process: Process,
    recipients: Sequence[Recipient],
    *,
    base_url: str,
    at: int,
) -> Notification | None:
    """The notification for one outbox message (``at``: now, when it is rendered), or None when none is needed."""
    kind = message.message.get("kind")
    if kind not in NOTIFIED_KINDS:
        return None
    p: dict[str, Any] = message.message.get("payload") or {}
    tz = process.timezone
    deadline = process.deadlines.get(p.get("deadline", ""))
    deadline_zh = _zh(deadline.title if deadline else None, p.get("title") or p.get("deadline", ""))
    deadline_en = _en(deadline.title if deadline else None, deadline_zh)
    state = process.states.get(case.state)
    state_zh, state_en = (
        _zh(state.title if state else None, case.state),
        _en(state.title if state else None, case.state),
    )
    role_zh, role_en = _role(process, p.get("role"))
    due = format_local(p["due"], tz) if p.get("due") is not None else ""
    link = f"{base_url.rstrip('/')}/cases/{case.id}" if base_url else None
    facts = {
        "case_id": case.id,
        "process": process.id,
        "state": state_zh,
        "deadline": deadline_zh,
        "role": role_zh,
        "due": due,
    }

    if kind == "deadline_warning":
        head_zh, head_en = "即将到期", "Deadline approaching"
        what_zh = f"时限「{deadline_zh}」将于 {due} 到期。"
        what_en = f'The deadline "{deadline_en}" falls due at {due}.'
        act_zh = f"须办理：{role_zh}，请于 {due} 前完成。"
        act_en = f"To act: {role_en}, by {due}."
    elif kind == "deadline_breached":
        head_zh, head_en = "已超时", "Deadline breached"
        missed = f"，已错过 {p['missed']} 次" if p.get("missed") else ""
        missed_en = f", {p['missed']} occurrence(s) missed" if p.get("missed") else ""
        what_zh = f"时限「{deadline_zh}」已超时（应于 {due} 前完成{missed}）。"
        what_en = f'The deadline "{deadline_en}" was breached (due {due}{missed_en}).'
        act_zh = f"须办理：{role_zh}，请立即处理。"
        act_en = f"To act: {role_en}, now."
    else:
        step, of = p.get("step"), p.get("of")
        chain = process.escalations.get(p.get("escalation", ""))
        chain_zh = _zh(chain.title if chain else None, p.get("escalation", ""))
        head_zh, head_en = f"升级第 {step}/{of} 级", f"Escalation step {step}/{of}"
        verb_zh, verb_en = (
            ("案件已转交", "the case was reassigned to") if p.get("do") == "reassign" else ("已通知", "notified")
        )
        what_zh = f"时限「{deadline_zh}」超时后升级（{chain_zh}）第 {step}/{of} 级：{verb_zh}{role_zh}。"
        what_en = f'Escalation of "{deadline_en}" step {step}/{of}: {verb_en} {role_en}.'
        step_due = format_local(p["step_due"], tz) if p.get("step_due") is not None else ""
        facts.update(step=str(step), due=step_due)
        if step_due:
            act_zh, act_en = f"须办理：{role_zh}，请于 {step_due} 前处理。", f"To act: {role_en}, by {step_due}."
        else:
            act_zh, act_en = f"须办理：{role_zh}（最后一级），请立即处理。", f"To act: {role_en} (last step), now."

    # Delivered long after the event (the service was down): say when it really happened.
    late_zh = f"（补发：事件发生于 {format_local(message.at, tz)}）" if at - message.at > LATE_AFTER else ""
    late_en = f"(sent late: this happened at {format_local(message.at, tz)})" if late_zh else ""
    case_zh = f"案件 {case.id}（{process.title.zh}），当前状态：{state_zh}"
    case_en = f"Case {case.id} ({process.title.en or process.title.zh}), now in: {state_en}"
    return Notification(
        delivery_id=message.id,
        case_id=case.id,
        process_id=process.id,
        kind=kind,
        title_zh=f"【{head_zh}】{deadline_zh} · 案件 {case.id}",
        title_en=f"[{head_en}] {deadline_en} · case {case.id}",
        text_zh=_lines(case_zh, what_zh, act_zh, late_zh, f"查看：{link}" if link else ""),
        text_en=_lines(case_en, what_en, act_en, late_en, f"Open: {link}" if link else ""),
        link=link,
        recipients=tuple(recipients),
        at=message.at,
        facts=facts,
    )
