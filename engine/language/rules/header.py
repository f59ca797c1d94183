"""The process header: settings that apply to the whole file."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator

from ..diagnostics import Diagnostic
from .context import Context

_COMMON = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Macau", "Asia/Urumqi", "UTC")


def check_unknown_timezone(ctx: Context) -> Iterator[Diagnostic]:
    """The timezone is not an IANA name, so no clock time could be placed."""
    name = ctx.process.timezone
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        from ..diagnostics import did_you_mean

        yield ctx.error(
            ("timezone",),
            f"unknown timezone {name!r}",
            did_you_mean(name, _COMMON) or "use an IANA name such as 'Asia/Shanghai'",
        )


CHECKS = (check_unknown_timezone,)
