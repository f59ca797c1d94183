"""Roles a process may not declare: the engine's own names, which would make a person read as the engine,
and the service's manager role, which would let a reader of every case act."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Diagnostic
from ..reserved import ENGINE_ACTOR, RESERVED_ROLES, SERVICE_ROLES
from .context import Context


def check_reserved_role(ctx: Context) -> Iterator[Diagnostic]:
    """A role is named like the engine itself ('system' or 'complaintflow'), so its people would pass as it,
    or like the service's managers ('manager'), who would then act in this process."""
    for role in ctx.process.roles:
        if role.lower() in RESERVED_ROLES:
            yield ctx.at_key(
                ("roles", role),
                f"role {role!r} is reserved: the history shows the engine ({ENGINE_ACTOR}) under it",
                "name the role after the people who hold it, e.g. 'system_admin'",
            )
        elif role.lower() in SERVICE_ROLES:
            yield ctx.at_key(
                ("roles", role),
                f"role {role!r} is reserved: the service gives it to managers, who read every case of every "
                "process and act on none",
                "name the role after the people who hold it, e.g. 'office_manager'",
            )


CHECKS = (check_reserved_role,)
