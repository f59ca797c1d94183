"""The complaint record's fields: enums need values, personal data must be marked."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..diagnostics import Diagnostic
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


CHECKS = (check_pii_unmarked,)
