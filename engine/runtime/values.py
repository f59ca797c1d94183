"""Check and coerce field values against their declared types.

The API takes typed values (``check_value``); the CLI passes text, which
``coerce_text`` turns into the declared type first. Both explain a refusal
in words a process owner understands.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..calendar import parse_local
from ..errors import ComplaintflowError
from ..language.diagnostics import did_you_mean
from ..language.spec import Field, FieldType


class InputError(ComplaintflowError, ValueError):
    pass


# Stored values must survive canonical JSON unchanged (engine/canonical.py): integers that JSON keeps exactly
# (within ±2^53, as RFC 8785 requires of the hashed text), finite floats, and valid Unicode (no lone surrogates).
_INT_RANGE = range(-(2**53) + 1, 2**53)


DEFAULT_MAX_LENGTH = 10_000  # characters of one text value unless the field sets max_length (docs/language.md)


def check_value(field: Field, value: Any, timezone: str) -> Any:
    kind = field.type
    if isinstance(value, str) and len(value) > (field.max_length or DEFAULT_MAX_LENGTH):
        limit = field.max_length or DEFAULT_MAX_LENGTH
        raise InputError(
            f"{field.id}: the text is {len(value):,} characters, over the limit of {limit:,}"
            + ("" if field.max_length else " (a field's max_length can raise it)")
        )
    if kind is FieldType.STRING and type(value) is str and value.isascii():
        return value  # the most common value, known valid without encoding it
    if isinstance(value, str) and not _is_valid_text(value):
        raise InputError(f"{field.id}: the text is not valid Unicode (it holds a lone surrogate)")
    if kind is FieldType.STRING and isinstance(value, str):
        return value
    if kind is FieldType.NUMBER and isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, int) and value not in _INT_RANGE:
            raise InputError(f"{field.id}: {value} is too large; whole numbers must lie within ±(2^53 - 1)")
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"{field.id}: expected a finite number, got {value!r}")
        return value
    if kind is FieldType.BOOL and isinstance(value, bool):
        return value
    if kind is FieldType.ENUM and isinstance(value, str):
        if value in field.values:
            return value
        hint = did_you_mean(value, field.values)
        raise InputError(
            f"{field.id}: {value!r} is not one of {', '.join(field.values)}" + (f"; {hint}" if hint else "")
        )
    if kind is FieldType.DATETIME and isinstance(value, str):
        try:
            parse_local(value, timezone)
        except ValueError as exc:
            raise InputError(f"{field.id}: {exc}") from None
        return value
    if kind is FieldType.CHECKLIST and isinstance(value, list):
        return _ticked(field, value)
    raise InputError(f"{field.id}: expected {_WORDS[kind]}, got {value!r}")


def _ticked(field: Field, value: list[Any]) -> list[str]:
    """The ticked items of a checklist, each known, once, in the field's order."""
    known = [item.id for item in field.items]
    for tick in value:
        if not isinstance(tick, str) or tick not in known:
            hint = did_you_mean(str(tick), known)
            raise InputError(
                f"{field.id}: {tick!r} is not an item of this checklist"
                + (f"; {hint}" if hint else f"; items: {', '.join(known)}")
            )
    return [item for item in known if item in value]


def _is_valid_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_WORDS = {
    FieldType.STRING: "text",
    FieldType.NUMBER: "a number",
    FieldType.BOOL: "true or false",
    FieldType.ENUM: "one of the listed values",
    FieldType.DATETIME: "a date and time such as '2025-09-30 18:00'",
    FieldType.CHECKLIST: "a list of the ticked items' ids",
}


def check_values(fields: Mapping[str, Field], values: Mapping[str, Any], timezone: str) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        if name not in fields:
            hint = did_you_mean(name, fields)
            raise InputError(f"unknown field {name!r}" + (f"; {hint}" if hint else f"; fields: {', '.join(fields)}"))
        if value is None:
            continue
        out[name] = check_value(fields[name], value, timezone)
    return out


def coerce_text(fields: Mapping[str, Field], raw: Mapping[str, str]) -> dict[str, Any]:
    """'amount=3000' style CLI values into the declared types (unknown names pass through to be refused)."""
    out: dict[str, Any] = {}
    for name, text in raw.items():
        field = fields.get(name)
        if field is None or field.type in (FieldType.STRING, FieldType.ENUM, FieldType.DATETIME):
            out[name] = text
        elif field.type is FieldType.CHECKLIST:  # 'steps=call_120,witnesses'
            out[name] = [tick.strip() for tick in text.split(",") if tick.strip()]
        elif field.type is FieldType.NUMBER:
            try:
                out[name] = int(text) if text.lstrip("-").isdigit() else float(text)
            except ValueError:
                raise InputError(f"{name}: expected a number, got {text!r}") from None
        else:
            lowered = text.lower()
            if lowered not in ("true", "false"):
                raise InputError(f"{name}: expected true or false, got {text!r}")
            out[name] = lowered == "true"
    return out
