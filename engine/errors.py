"""The one base of every error complaintflow raises to its callers, carrying its exit code.

A caller that wants to catch anything the engine refuses catches ``ComplaintflowError``; the
command line maps it in one place, so every command reports the same broken input with the same
wording and the same exit code: 1 for problems found or a refused call, 2 for bad usage or input
that cannot be read. ``str()`` of an error is its message, with no class name or traceback.
"""

from __future__ import annotations


class ComplaintflowError(Exception):
    """Something complaintflow refused; ``str()`` says what and, where it can, what to do."""

    exit_code: int = 1

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else (self.__doc__ or type(self).__name__).strip()


class UnusableInputError(ComplaintflowError):
    """Input that cannot be used at all: a missing file, a name that is not a process, an unreadable store."""

    exit_code = 2


class BadArgumentError(UnusableInputError):
    """A Python caller passed a value of the wrong type or out of range (an embedding bug, not bad data)."""
