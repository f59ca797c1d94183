"""Tenants: the property groups or customer companies that share one store, each apart from the others.

A tenant is a short name on every case row and every deployed process (docs/tenants.md). A case's tenant is
recorded in its ``started`` event, so it is covered by the case's hash chain: a row moved to another tenant
in the database no longer matches its history, and ``verify`` says so. Cases of the default tenant record
nothing, so a history written before tenants hashes as it did.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import BadArgumentError

DEFAULT_TENANT = "default"
# Lower case, digits, '-' and '_': safe in a URL, a file name, a log line and a Citus distribution key.
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def check_tenant(name: Any) -> str:
    """``name`` when it can name a tenant, else ``BadArgumentError`` in one line."""
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise BadArgumentError(
            f"tenant must be 1-63 characters of a-z, 0-9, '-' and '_', starting with a letter or digit, not {name!r}"
        )
    return name
