"""What a notification is once rendered: its recipients and its text in Chinese and English.

Plain frozen values, built by ``templates.render`` and read by every channel; a channel never looks
back at the case or the process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONTACT_KEYS = ("wecom_userid", "mobile", "email", "dingtalk_mobile")
REFERENCE_PREFIX = "消息编号 Ref "


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: str
    name: str
    contacts: dict[str, str] = field(default_factory=dict)  # keys from CONTACT_KEYS


@dataclass(frozen=True, slots=True)
class Notification:
    delivery_id: str  # the outbox message id ("<case>:<seq>"): receivers de-duplicate on it
    case_id: str
    process_id: str
    kind: str  # the event kind: deadline_warning, deadline_breached, escalated
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str
    link: str | None
    recipients: tuple[Recipient, ...]
    at: int  # epoch seconds of the event
    # The same facts as plain strings (case_id, process, state, deadline, role, due, step), for channels
    # that fill a pre-approved template (SMS) or carry structured data (webhook).
    facts: dict[str, str] = field(default_factory=dict)

    @property
    def reference(self) -> str:
        """The delivery id as chat channels print it (a receiver and a reader can both quote it)."""
        return f"{REFERENCE_PREFIX}{self.delivery_id}"

    def contacts(self, key: str) -> list[str]:
        """Each recipient's address for one contact key, in order, without blanks or repeats."""
        seen: list[str] = []
        for r in self.recipients:
            value = r.contacts.get(key, "").strip()
            if value and value not in seen:
                seen.append(value)
        return seen
