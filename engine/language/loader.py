"""Strict YAML reading: bytes in, plain data plus a side table of positions out.

One compose pass over PyYAML's node graph. The resolver follows YAML 1.2's
core schema narrowly, so ``on``, ``yes``, ``17:00``, ``012`` and dates stay
strings; duplicate keys, anchors, aliases and tags are refused with their
position. Positions live in ``Document.positions`` keyed by path, never in the
user's data. Nesting deeper than ``MAX_DEPTH`` and lone surrogates written as
escapes (``"\\ud800"``) are refused with their position too, so no input makes
the reader recurse without bound or hand on text that cannot be stored. This
module is the only home of ``yaml``.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from .diagnostics import Diagnostic, Path, Severity

MAX_BYTES = 1_000_000  # a process file is a few KB; anything this big is a mistake
MAX_DEPTH = 64  # mappings and lists inside each other; the bundled processes nest at most 6 deep

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"

# YAML 1.2 core schema, minus leading-zero integers (``012`` stays a string).
_CORE = (
    (_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")),
    (_NULL, re.compile(r"^(?:~|null|Null|NULL)$")),
    (_INT, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")),
    # A float needs a point or an exponent, and no leading zero before an exponent (09, 012 stay text).
    (
        _FLOAT,
        re.compile(r"^[-+]?(?:(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?|(?:0|[1-9][0-9]*)[eE][-+]?[0-9]+)$"),
    ),
)
# Every first character a _CORE pattern can match: anything else is text.
_CORE_FIRST = frozenset("tTfF~nN+-.0123456789")
# A plain scalar that YAML 1.1 tools (PyYAML's safe_load among them) read as a base-60 number.
_SEXAGESIMAL = re.compile(r"^[0-9]+(?::[0-5]?[0-9])+$")
_DIGITS = frozenset("0123456789")


class _Refused(Exception):
    def __init__(self, rule: str, message: str, node_mark: Any, hint: str = ""):
        super().__init__(message)
        self.rule, self.message, self.mark, self.hint = rule, message, node_mark, hint


class _Resolver(BaseResolver):
    """Resolve plain scalars by the YAML 1.2 core schema only.

    Called for every node, so it answers BaseResolver's defaults itself: no path resolvers are
    registered, which also makes the per-node descend/ascend bookkeeping pointless.
    """

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if not implicit[0]:  # quoted, or tagged '!'
                return _STR
            if value == "":
                return _NULL
            if value[0] not in _CORE_FIRST:  # most values are words: no pattern can match
                return _STR
            for tag, pattern in _CORE:
                if pattern.match(value):
                    return tag
            return _STR
        return _MAP if kind is MappingNode else _SEQ

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


class _StrictComposer(Composer):
    """Refuse anchors and aliases before anything expands (no billion laughs)."""

    if TYPE_CHECKING:  # from the Parser it is mixed with; a definition here would shadow the real one

        def peek_event(self) -> yaml.Event: ...

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                "yaml-alias",
                f"alias '*{event.anchor}' is not allowed",
                event.start_mark,
                "write the value out in full; anchors and aliases are refused",
            )
        anchor = getattr(event, "anchor", None)  # scalar, sequence and mapping starts carry one
        if anchor:
            raise _Refused(
                "yaml-alias",
                f"anchor '&{anchor}' is not allowed",
                event.start_mark,
                "write the value out in full; anchors and aliases are refused",
            )
        return super().compose_node(parent, index)


class _PyLoader(Reader, Scanner, Parser, _StrictComposer, _Resolver):
    def __init__(self, text: str):
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Resolver.__init__(self)


try:  # libyaml's C parser yields the same events about 6x faster; our strict composer still sees every one
    from yaml._yaml import CParser

    class _CLoader(_StrictComposer, CParser, _Resolver):
        def __init__(self, text: str):
            CParser.__init__(self, text)
            Composer.__init__(self)
            _Resolver.__init__(self)

    class _CComposeLoader(CParser, _Resolver):
        """libyaml composes the nodes too, in C: the same nodes about twice as fast, but anchors are
        accepted, so it reads only text where ``_MAYBE_ANCHOR`` finds no place an anchor could start."""

        def __init__(self, text: str):
            CParser.__init__(self, text)
            _Resolver.__init__(self)

    _Loader: type = _CLoader
    _FastLoader: type | None = _CComposeLoader
except ImportError:  # PyYAML built without libyaml
    _Loader = _PyLoader
    _FastLoader = None

# Where an anchor (&) or alias (*) could start. Right after a letter, digit or '_' either one is
# just part of the text ("赔付金额在***元以上"): there a plain scalar, tag or name goes on, or
# libyaml refuses the file and the strict composer reads it again. Anything else (a space, a line
# break, '[', ',', ':', a BOM...) counts as a possible start.
# (The lookbehind sits after the [&*] so that re can scan for that character class quickly.)
_MAYBE_ANCHOR = re.compile(r"[&*](?<![\w&*][&*])")


@dataclass
class Document:
    """A loaded file: plain data, where each value and key sits, and what went wrong."""

    file: str
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    escapes: bool = field(default=False, repr=False)  # the text has \\u escapes: a scalar may hold a surrogate

    def char_at(self, line: int, col: int) -> str:
        """The character at a 1-based position, '' past the end."""
        row = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return row[col - 1] if 0 < col <= len(row) else ""

    def at(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Line and column of the value (or its key) at ``path``, else of the nearest parent."""
        table = self.key_positions if key else self.positions
        while path:
            if path in table:
                return table[path]
            if key and path in self.positions:
                return self.positions[path]
            path = path[:-1]
            table = self.positions
        return self.positions.get((), (1, 1))

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


def load_bytes(raw: bytes, file: str = "<string>") -> Document:
    """Read a process file's bytes. Never raises for bad input: problems go to ``diagnostics``."""
    # The node graph of a file holds no reference cycles, yet every node, mark and value is an object the
    # cyclic collector walks again at each of its passes while the graph grows: for a 1 MB file that was
    # over half of the reading time (BENCHMARKS.md). Collection waits until the file is read.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _read(raw, file)
    finally:
        if collecting:
            gc.enable()


def _read(raw: bytes, file: str) -> Document:
    doc = Document(file, None)
    if len(raw) > MAX_BYTES:
        doc.diagnostics.append(
            Diagnostic(
                file,
                1,
                1,
                Severity.ERROR,
                f"file is {len(raw):,} bytes, over the {MAX_BYTES:,}-byte limit",
                "file-too-large",
                (),
                "a process file is a few kilobytes; is this the right file?",
            )
        )
        return doc
    text = _decode(raw, doc)
    if text is None:
        return doc
    doc.lines = text.splitlines()
    doc.escapes = "\\u" in text or "\\U" in text
    try:
        try:
            if _FastLoader is not None and not _MAYBE_ANCHOR.search(text):
                root = _FastLoader(text).get_single_node()
            else:
                root = _Loader(text).get_single_node()
        except yaml.MarkedYAMLError:
            if _Loader is _PyLoader:
                raise
            if _too_deep_at(text) is not None:  # PyYAML would read the deep part in quadratic time: name the place
                raise RecursionError from None
            root = _PyLoader(text).get_single_node()  # the rare bad file: PyYAML words and places errors better
    except _Refused as exc:
        doc.diagnostics.append(_at_mark(file, exc.mark, exc.rule, exc.message, exc.hint))
        return doc
    except RecursionError:  # PyYAML's composer recurses per level: find where the file nests too deep
        mark = _too_deep_at(text)
        if mark is None:
            raise
        doc.diagnostics.append(_at_mark(file, mark, "nesting-too-deep", *_DEEP))
        return doc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = (exc.problem or "invalid YAML").strip()
        if exc.context:
            message = f"{exc.context.strip()}: {message}"
        hint = _stray_character(doc.lines, mark.line + 1 if mark else None) or (
            "is the file complete and indented consistently?"
        )
        doc.diagnostics.append(_at_mark(file, mark, "yaml-syntax", message, hint))
        return doc
    except yaml.YAMLError as exc:  # reader errors: control characters and the like
        doc.diagnostics.append(Diagnostic(file, 1, 1, Severity.ERROR, str(exc).strip(), "yaml-syntax"))
        return doc
    if root is None:
        doc.diagnostics.append(Diagnostic(file, 1, 1, Severity.ERROR, "file is empty", "yaml-syntax"))
        return doc
    doc.data = _plain(root, (), doc)
    if doc.diagnostics and any(d.rule == "nesting-too-deep" for d in doc.diagnostics):
        doc.data = None  # the same as when the composer gave up: nothing further is checked
        return doc
    if doc.data is None:  # "~", "null" or a lone tag: nothing to check, and nothing to run
        doc.diagnostics.append(
            Diagnostic(
                file,
                1,
                1,
                Severity.ERROR,
                "file holds no process (its value is null)",
                "yaml-syntax",
                (),
                "a process file is a mapping starting with 'process:'",
            )
        )
    return doc


# Characters a Chinese keyboard or an editor slips in that YAML cannot read where they stand.
_STRAY = {
    "\uff1a": "a full-width colon '：' (U+FF1A); YAML needs an ASCII ':' followed by a space",
    "\u3000": "a full-width space (U+3000); YAML indents and separates with ASCII spaces",
    "\t": "a tab; YAML indents with spaces only",
}


def _stray_character(lines: list[str], error_line: int | None) -> str:
    """Name a stray character in the file's keys or indentation, nearest before the error line (1-based)."""
    found = []
    for number, line in enumerate(lines, start=1):
        indent = len(line) - len(line.lstrip(" \t\u3000"))
        key_part = line.lstrip(" \t\u3000").split(":", 1)[0].split("#", 1)[0]
        for col, char in enumerate(line[:indent], start=1):
            if char in _STRAY:
                found.append((number, col, char))
                break
        if "\uff1a" in key_part:
            found.append((number, indent + key_part.index("\uff1a") + 1, "\uff1a"))
    if not found:
        return ""
    before = [f for f in found if error_line is None or f[0] <= error_line]
    number, col, char = (before or found)[-1]
    return f"line {number}, column {col} has {_STRAY[char]}"


def _decode(raw: bytes, doc: Document) -> str | None:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        try:
            raw.decode("gb18030")
            guess = "it looks like GBK/GB18030"
        except UnicodeDecodeError:
            guess = "its encoding is unknown"
        doc.diagnostics.append(
            Diagnostic(
                doc.file,
                line,
                col,
                Severity.ERROR,
                f"file is not UTF-8 ({guess})",
                "encoding",
                (),
                "save the file as UTF-8 (in most editors: Save with Encoding > UTF-8)",
            )
        )
        return None


_DEEP = (
    f"mappings and lists nest more than {MAX_DEPTH} levels deep here",
    "a process file nests a few levels; is a bracket or an indentation wrong?",
)


def _too_deep_at(text: str) -> Any:
    """Where nesting first passes MAX_DEPTH, read from a parser's flat stream of events (no recursion);
    None when the text is not that deep, or turns out broken first.

    With libyaml, only libyaml reads it (PyYAML's scanner is quadratic in flow depth): on the whole text,
    or on the part before the place its own 1,000-level limit stopped it."""
    if _FastLoader is None:
        try:
            return _deepest_event(_PyLoader(text))
        except yaml.YAMLError:
            return None
    try:
        return _deepest_event(CParser(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        if "maximum nesting depth" not in (exc.problem or "") or mark is None or mark.index == 0:
            return None
    try:
        return _deepest_event(CParser(text[: mark.index]))
    except yaml.YAMLError:
        return None


def _deepest_event(parser: Any) -> Any:
    """The start mark of the first mapping or list nested past MAX_DEPTH, or None."""
    depth = 0
    while (event := parser.get_event()) is not None and not isinstance(event, yaml.StreamEndEvent):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                return event.start_mark
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return None


def _surrogate(text: str, path: Path, doc: Document) -> bool:
    """Whether ``text`` holds a lone surrogate (only a \\u escape can write one); if so, say where."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        doc.diagnostics.append(
            doc.problem(
                path,
                "lone-surrogate",
                f"text holds the lone surrogate U+{ord(text[exc.start]):04X}, which is not a character",
                hint="write the character itself, or a \\U escape of a real code point",
            )
        )
        return True
    return False


def _at_mark(file: str, mark: Any, rule: str, message: str, hint: str = "") -> Diagnostic:
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return Diagnostic(file, line, col, Severity.ERROR, message, rule, (), hint)


def _pos(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _plain(node: Node, path: Path, doc: Document, depth: int = 0) -> Any:
    """Turn a node into plain Python data, recording positions and refusing what we do not accept."""
    mark = node.start_mark
    doc.positions[path] = (mark.line + 1, mark.column + 1)
    if isinstance(node, ScalarNode):  # most nodes: test it first
        return _scalar(node, path, doc)
    if depth >= MAX_DEPTH:
        doc.diagnostics.append(doc.problem(path, "nesting-too-deep", _DEEP[0], hint=_DEEP[1]))
        return None
    if node.tag not in (_MAP, _SEQ):
        doc.diagnostics.append(
            doc.problem(
                path,
                "yaml-tag",
                f"tag {node.tag!r} is not allowed",
                hint="remove the tag; values are plain mappings, lists and text",
            )
        )
        return None
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                line, col = _pos(key_node)
                doc.diagnostics.append(
                    Diagnostic(
                        doc.file,
                        line,
                        col,
                        Severity.ERROR,
                        "a key must be a plain name, not a list or mapping",
                        "yaml-key",
                        path,
                    )
                )
                continue
            key = str(key_node.value)
            if doc.escapes and _surrogate(key, path, doc):
                continue
            if key == "<<" and not key_node.style:  # YAML 1.1 tools would merge here; quoted '<<' is just text
                line, col = _pos(key_node)
                doc.diagnostics.append(
                    Diagnostic(
                        doc.file,
                        line,
                        col,
                        Severity.ERROR,
                        "merge key '<<' is not allowed",
                        "yaml-alias",
                        path,
                        "write the keys out in full",
                    )
                )
                continue
            child = path + (key,)
            if key in out:
                line, col = _pos(key_node)
                first = doc.key_positions[child]
                doc.diagnostics.append(
                    Diagnostic(
                        doc.file,
                        line,
                        col,
                        Severity.ERROR,
                        f"duplicate key {key!r} (previously defined at {first[0]}:{first[1]})",
                        "duplicate-key",
                        child,
                        "remove one of them or rename it",
                    )
                )
                continue
            doc.key_positions[child] = _pos(key_node)
            out[key] = _plain(value_node, child, doc, depth + 1)
        return out
    return [
        _plain(item, path + (i,), doc, depth + 1) for i, item in enumerate(node.value)
    ]  # what is left: a SequenceNode


def _scalar(node: Node, path: Path, doc: Document) -> Any:
    assert isinstance(node, ScalarNode)
    tag, text = node.tag, node.value
    if tag not in _CONVERT:
        doc.diagnostics.append(
            doc.problem(
                path,
                "yaml-tag",
                f"tag {tag!r} is not allowed",
                hint="remove the tag; values are plain strings, numbers and booleans",
            )
        )
        return text
    # Plain (PyYAML says style None, libyaml ""); the digit test only spares most values a regex call.
    if not node.style and text[:1] in _DIGITS and _SEXAGESIMAL.match(text):
        doc.diagnostics.append(
            doc.problem(
                path,
                "unquoted-time",
                f"unquoted clock time {text}",
                hint=f'write "{text}" in quotes: YAML 1.1 tools read it as the number {_base60(text)}',
            )
        )
        return text
    if tag == _STR:
        if doc.escapes and _surrogate(text, path, doc):
            return ""
        return text  # already a str: what _CONVERT would give, one call sooner
    try:
        return _CONVERT[tag](text)
    except ValueError:
        doc.diagnostics.append(doc.problem(path, "yaml-tag", f"{text!r} is not a valid {tag.rsplit(':', 1)[-1]}"))
        return text


_CONVERT: dict[str, Any] = {
    _STR: str,
    _INT: int,
    _FLOAT: float,
    _BOOL: lambda text: {"true": True, "false": False}[text.lower()] if text.lower() in ("true", "false") else _bad(),
    _NULL: lambda text: None,
}


def _bad() -> Any:
    raise ValueError


def _base60(text: str) -> int:
    total = 0
    for part in text.split(":"):
        total = total * 60 + int(part)
    return total
