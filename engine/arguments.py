"""Checks on what a Python caller passes to the engine, before any work starts.

The command line and the service parse text into the right types, but an embedding program can pass
anything: ``at="2025-01-01"``, ``tick(2**70)``, inputs as a list. Each check here turns such a value
into a ``BadArgumentError`` naming the argument and what it must be, instead of a ``TypeError`` or
``OverflowError`` from deep inside the engine or SQLite.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import BadArgumentError

# Instants are epoch seconds from 1970 to the end of year 9999 (UTC): every date the calendar can name.
LATEST_INSTANT = 253_402_300_799


def instant(value: Any, name: str) -> int:
    """``value`` as epoch seconds, or BadArgumentError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadArgumentError(f"{name} must be epoch seconds (an int), not {type(value).__name__} {value!r:.40}")
    if not 0 <= value <= LATEST_INSTANT:
        raise BadArgumentError(f"{name} must be epoch seconds between 1970 and the end of 9999, not {value}")
    return value


def text(value: Any, name: str) -> str:
    """``value`` as text that can be stored (a str holding no lone surrogate), or BadArgumentError."""
    if not isinstance(value, str):
        raise BadArgumentError(f"{name} must be text (a str), not {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadArgumentError(f"{name} {value!r:.40} is not valid text (it holds a lone surrogate)") from None
    return value


def fields(value: Any, name: str) -> dict[str, Any]:
    """``value`` (None for none) as a dict of field name to value, or BadArgumentError."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BadArgumentError(f"{name} must be a mapping of field name to value, not {type(value).__name__}")
    for key in value:
        text(key, f"a field name in {name}")
    return dict(value)


def actor(value: Any) -> None:
    """An ``Actor`` whose id is text and whose roles are a tuple or list of text, none of them the
    engine's own (a person acting as ``complaintflow`` would read in the history as the engine)."""
    from .language.reserved import RESERVED_ACTORS, RESERVED_ROLES
    from .runtime.errors import RefusedError

    if text(getattr(value, "id", None), "actor.id").lower() in RESERVED_ACTORS:
        raise RefusedError(f"actor {value.id!r} is reserved for the engine itself; act under your own name")
    roles = getattr(value, "roles", None)
    if not isinstance(roles, (tuple, list)):
        raise BadArgumentError(f"actor.roles must be a tuple of role names, not {type(roles).__name__}")
    for role in roles:
        if text(role, "a role in actor.roles").lower() in RESERVED_ROLES:
            raise RefusedError(f"role {role!r} is reserved for the engine itself; no person acts in it")
