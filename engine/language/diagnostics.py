"""Problems found in a process file, as values.

Every stage of checking yields ``Diagnostic`` objects instead of raising, so a
process owner sees all of them at once, sorted by position. Only the API edge
turns a non-empty list of errors into a single ``DefinitionError``.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import Enum

from ..errors import ComplaintflowError

Path = tuple[str | int, ...]


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    file: str
    line: int  # 1-based; 0 when the problem is about the whole file
    col: int  # 1-based
    severity: Severity
    message: str
    rule: str
    path: Path = ()
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}:{self.col}: {self.severity.value}: {self.message} [{self.rule}]"
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    @property
    def json_path(self) -> str:
        out = "$"
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else f".{part}"
        return out

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["path"] = self.json_path
        return data


class DefinitionError(ComplaintflowError):
    """A process file that cannot be used; carries every problem found."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        super().__init__(format_text(self.diagnostics))

    def __str__(self) -> str:
        return format_text(self.diagnostics)


def sort_unique(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[object, ...]] = set()
    out = []
    for d in diagnostics:
        key = (d.file, d.line, d.col, d.message, d.rule)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return sorted(out, key=lambda d: (d.file, d.line, d.col, d.rule, d.message))


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def format_text(diagnostics: Iterable[Diagnostic]) -> str:
    return "\n".join(str(d) for d in diagnostics)


def format_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diagnostics], ensure_ascii=False, indent=2)


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The known name ``word`` is most likely a misspelling of, if any is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest known name, or '' when nothing is close."""
    close = closest(word, choices)
    return f"did you mean {close!r}?" if close else ""
