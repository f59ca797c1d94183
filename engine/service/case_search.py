"""The case list's search filters: what ``GET /v1/cases`` narrows its rows by, read from query text.

A bound on the opening time is epoch seconds, a local day ``2025-09-29`` (``opened_from`` from its
midnight, ``opened_to`` through its end) or a local time ``2025-09-29 14:00`` / ISO 8601, all local to the
given timezone. ``phone`` matches the digits of any value (``139 0000`` finds ``13900000000``) and ``q``
any text value, ignoring case: a customer's name, an address, a subject. Bad text raises ``ValueError``
with one line naming the parameter and the accepted forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from ..calendar import parse_local
from ..store.base import CaseRecord

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_FORMS = "expected epoch seconds, a day '2025-09-29' or a time '2025-09-29 14:00'"


def opened_bound(name: str, text: str | None, timezone: str, *, end: bool) -> int | None:
    """The epoch second a bound names; a whole day ends at the next midnight when ``end`` (exclusive)."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    if value.isdigit():
        return int(value)
    try:
        parse_local("2000-01-01 00:00", timezone)
    except ValueError as exc:
        raise ValueError(f"timezone: {exc}") from None
    try:
        if _DAY.fullmatch(value):
            day = date.fromisoformat(value)
            return parse_local(f"{(day + timedelta(days=1) if end else day).isoformat()} 00:00", timezone)
        return parse_local(value, timezone)
    except ValueError:
        raise ValueError(f"{name}: cannot read {value!r}; {_FORMS}") from None


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """The row filters beyond the store's own query (process, state, owner role, open only)."""

    state: str | None = None
    owner_role: str | None = None
    opened_from: int | None = None  # inclusive
    opened_to: int | None = None  # exclusive
    phone: str | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        if self.phone is not None and not _digits(self.phone):
            raise ValueError(f"phone: {self.phone!r} has no digits")
        if self.opened_from is not None and self.opened_to is not None and self.opened_to <= self.opened_from:
            raise ValueError("opened_to: the range ends before it starts (opened_to must be after opened_from)")

    def matches(self, case: CaseRecord) -> bool:
        texts = [v for v in case.data.values() if isinstance(v, str)]
        return (
            (self.state is None or case.state == self.state)
            and (self.owner_role is None or case.owner_role == self.owner_role)
            and (self.opened_from is None or case.opened_at >= self.opened_from)
            and (self.opened_to is None or case.opened_at < self.opened_to)
            and (self.phone is None or any(_digits(self.phone) in _digits(v) for v in texts))
            and (self.text is None or any(self.text.casefold() in v.casefold() for v in texts))
        )
