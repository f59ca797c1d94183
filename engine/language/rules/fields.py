"""The complaint record's fields: personal data must be marked, values set by the process must fit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..diagnostics import Diagnostic, did_you_mean
from ..spec import FieldType
from .context import Context

# Field ids that usually hold personal data (names, phone numbers, addresses, ID numbers).
_PERSONAL = re.compile(r"(^|_)(name|phone|mobile|tel|contact|address|id_card|email)($|_)")


def check_pii_unmarked(ctx: Context) -> Iterator[Diagnostic]:
    """A field whose name says it holds personal data is not marked ``pii: true``."""
    for field in ctx.process.fields.values():
        if not field.pii and _PERSONAL.search(field.id) and field.type is FieldType.STRING:
            yield ctx.warning(
                ("fields", field.id),
                f"field {field.id!r} looks like personal data but is not marked pii",
                "add 'pii: true' so exports and reports mask it",
            )


_FITS = {
    FieldType.STRING: lambda v: isinstance(v, str),
    FieldType.DATETIME: lambda v: isinstance(v, str),
    FieldType.ENUM: lambda v: isinstance(v, str),
    FieldType.NUMBER: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    FieldType.BOOL: lambda v: isinstance(v, bool),
    FieldType.CHECKLIST: lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
}


def _sets(ctx: Context) -> Iterator[tuple[str, tuple[Any, ...], tuple[tuple[str, Any], ...]]]:
    for action in ctx.process.actions.values():
        yield f"action {action.id!r}", ("actions", action.id, "set"), action.set
    for chain in ctx.process.escalations.values():
        for i, step in enumerate(chain.steps):
            yield f"step {i + 1} of escalation {chain.id!r}", ("escalations", chain.id, "steps", i, "set"), step.set


def check_set_value(ctx: Context) -> Iterator[Diagnostic]:
    """An action or escalation step sets a field that is not declared, or to a value it cannot have."""
    fields = ctx.process.fields
    for who, path, pairs in _sets(ctx):
        for name, value in pairs:
            field = fields.get(name)
            if field is None:
                yield ctx.error(path + (name,), f"{who} sets undeclared field {name!r}", did_you_mean(name, fields))
            elif not _FITS[field.type](value) or (field.type is FieldType.ENUM and value not in field.values):
                allowed = ", ".join(field.values) if field.type is FieldType.ENUM else f"a {field.type.value}"
                yield ctx.error(
                    path + (name,),
                    f"{who} sets field {name!r} to {value!r}, which it cannot hold",
                    f"give one of: {allowed}"
                    + (f"; {hint}" if (hint := did_you_mean(str(value), field.values)) else ""),
                )


def check_visible_to_not_pii(ctx: Context) -> Iterator[Diagnostic]:
    """A field that is not marked ``pii`` says who may see it: only personal data is hidden from anyone."""
    for field in ctx.process.fields.values():
        if field.visible_to is not None and not field.pii:
            yield ctx.at_key(
                ("fields", field.id, "visible_to"),
                f"field {field.id!r} has visible_to but is not marked pii, so every role sees it anyway",
                "add 'pii: true' if it holds personal data, or remove visible_to",
            )


def check_visible_to_nobody(ctx: Context) -> Iterator[Diagnostic]:
    """A personal field's ``visible_to`` is an empty list: no role may ever see its value."""
    for field in ctx.process.fields.values():
        if field.pii and field.visible_to == ():
            yield ctx.warning(
                ("fields", field.id, "visible_to"),
                f"nobody may see field {field.id!r}: its visible_to lists no role",
                "name the roles that handle the customer's details, e.g. visible_to: [front_desk]; "
                "without visible_to every role sees it",
            )


CHECKS = (check_pii_unmarked, check_set_value, check_visible_to_not_pii, check_visible_to_nobody)
