"""Errors the runtime raises to its callers."""

from __future__ import annotations

from ..errors import ComplaintflowError


class RefusedError(ComplaintflowError):
    """A call that was refused and changed nothing; ``str()`` says why and what to do."""
