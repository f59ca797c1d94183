"""Errors the runtime raises to its callers."""

from __future__ import annotations

from ..errors import ComplaintflowError


class RefusedError(ComplaintflowError):
    """A call that was refused and changed nothing; ``str()`` says why and what to do."""


class StaleRevisionError(Exception):
    """The case changed since the caller read it: ``revision`` is where it is now."""

    def __init__(self, case_id: str, revision: int, expected: int):
        super().__init__(f"case {case_id} is at revision {revision}, not {expected}; reload it and decide again")
        self.case_id, self.revision, self.expected = case_id, revision, expected


class MigrationRefusedError(RefusedError):
    """A case that cannot move to a newer version; ``reasons`` names each thing in the way."""

    def __init__(self, case_id: str, version: int, reasons: tuple[str, ...]):
        super().__init__(f"case {case_id}: cannot move to v{version}: " + "; ".join(reasons))
        self.case_id, self.reasons = case_id, reasons
