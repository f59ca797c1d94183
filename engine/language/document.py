"""A loaded file: its plain data, where each value and key sits, and what went wrong.

The reading pass (``loader.py``) does not build the table of positions itself: it keeps each value's
and key's start mark in document order, and the table is made from them the first time a position is
asked for. A file with no problem is never asked, so for most files the table is never made (for a
1 MB file that spares about a fifth of the reading). The marks pair with ``data`` by order alone, so
the data must not change before the first question; ``load_bytes`` places the marks at once unless its
caller says it will not change the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .diagnostics import Diagnostic, Path, Severity


@dataclass
class Document:
    file: str
    data: Any
    diagnostics: list[Diagnostic] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    escapes: bool = field(default=False, repr=False)  # the text has \\u escapes: a scalar may hold a surrogate
    # Start marks of the values and keys of ``data``, not yet placed: the node's own, then for a mapping
    # each key's and its value's, for a list each item's (see ``place``).
    marks: list[Any] = field(default_factory=list, repr=False)
    _positions: dict[Path, tuple[int, int]] = field(default_factory=dict, init=False, repr=False)
    _key_positions: dict[Path, tuple[int, int]] = field(default_factory=dict, init=False, repr=False)

    @property
    def positions(self) -> dict[Path, tuple[int, int]]:
        """Line and column (1-based) where the value at each path starts."""
        self.place()
        return self._positions

    @property
    def key_positions(self) -> dict[Path, tuple[int, int]]:
        """Line and column (1-based) of the key each path of a mapping's value ends in."""
        self.place()
        return self._key_positions

    def place(self) -> None:
        """Turn the kept marks into the two tables (once; later calls find nothing left to do)."""
        if self.marks:
            marks, self.marks = self.marks, []
            _place(self._positions, self._key_positions, self.data, (), iter(marks))

    def char_at(self, line: int, col: int) -> str:
        """The character at a 1-based position, '' past the end."""
        row = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return row[col - 1] if 0 < col <= len(row) else ""

    def at(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Line and column of the value (or its key) at ``path``, else of the nearest parent."""
        positions = self.positions
        table = self._key_positions if key else positions
        while path:
            if path in table:
                return table[path]
            if key and path in positions:
                return positions[path]
            path = path[:-1]
            table = positions
        return positions.get((), (1, 1))

    def problem(
        self,
        path: Path,
        rule: str,
        message: str,
        *,
        hint: str = "",
        severity: Severity = Severity.ERROR,
        key: bool = False,
    ) -> Diagnostic:
        line, col = self.at(path, key=key)
        return Diagnostic(self.file, line, col, severity, message, rule, path, hint)


def _place(
    positions: dict[Path, tuple[int, int]],
    key_positions: dict[Path, tuple[int, int]],
    value: Any,
    path: Path,
    marks: Iterator[Any],
) -> None:
    """Walk ``value`` in the order the reading pass kept the marks; the data nests at most MAX_DEPTH deep
    (anything deeper was read as None), so the recursion is bounded."""
    mark = next(marks)
    positions[path] = (mark.line + 1, mark.column + 1)
    if type(value) is dict:
        for key, item in value.items():
            child = path + (key,)
            mark = next(marks)
            key_positions[child] = (mark.line + 1, mark.column + 1)
            _place(positions, key_positions, item, child, marks)
    elif type(value) is list:
        for index, item in enumerate(value):
            _place(positions, key_positions, item, path + (index,), marks)
