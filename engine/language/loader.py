"""Strict YAML reading: bytes in, plain data plus a side table of positions out.

One pass over the parser's events (libyaml's when PyYAML has it) builds the data and keeps each value's
and key's start mark: no node graph, no recursion (``Document`` makes the table of positions from the
marks when first asked). The resolver follows YAML 1.2's core schema narrowly, so ``on``, ``yes``,
``17:00``, ``012`` and dates stay strings; duplicate keys, anchors, aliases and tags are refused with
their position. Positions live in ``Document.positions`` keyed by path, never in the user's data.
Nesting deeper than ``MAX_DEPTH`` and lone surrogates written as escapes (``"\\ud800"``) are refused
with their position too, so no input makes the reader recurse without bound or hand on text that
cannot be stored. This module is the only home of ``yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    StreamEndEvent,
)
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

from .collector import collector_paused
from .diagnostics import Diagnostic, Path, Severity
from .document import Document

__all__ = ["MAX_BYTES", "MAX_DEPTH", "Document", "has_top_level_key", "load_bytes"]

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


class _PyParser(Reader, Scanner, Parser):
    """PyYAML's own parser: slower than libyaml's, but it words and places syntax errors better."""

    def __init__(self, text: str):
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)


_CParser: Callable[[str], Any] | None
try:  # libyaml's C parser yields the same events several times faster
    from yaml._yaml import CParser as _CParser
except ImportError:  # PyYAML built without libyaml
    _CParser = None


def load_bytes(raw: bytes, file: str = "<string>", *, lazy_positions: bool = False) -> Document:
    """Read a process file's bytes. Never raises for bad input: problems go to ``diagnostics``.

    ``lazy_positions`` leaves the table of positions to be made when a position is first asked for, which a
    file with no problem never does; the caller must then leave ``data`` as it is until it asks."""
    with collector_paused():
        doc = _read(raw, file)
        if not lazy_positions:
            doc.place()
        return doc


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
        reading = _parse(text, doc)
    except (_Refused, yaml.YAMLError) as exc:
        doc.diagnostics.append(_failure(file, exc, doc.lines))
        return doc
    if reading.root is _NO_DOCUMENT:
        doc.diagnostics.append(Diagnostic(file, 1, 1, Severity.ERROR, "file is empty", "yaml-syntax"))
        return doc
    doc.data, doc.marks = reading.root, reading.marks
    doc.diagnostics += [make() for make in reading.found]  # their positions need the whole data
    if any(d.rule == "nesting-too-deep" for d in doc.diagnostics):
        doc.place()
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


def _parse(text: str, doc: Document) -> _Pass:
    """The document read to its end, by libyaml when PyYAML has it; raises ``_Refused`` or a YAML error."""
    if _CParser is None:
        return _Pass(_PyParser(text), doc).read()
    try:
        return _Pass(_CParser(text), doc).read()
    except yaml.MarkedYAMLError:
        mark = _too_deep_at(text)
        if mark is not None:  # PyYAML would read the deep part in quadratic time: name the place
            raise _Refused("nesting-too-deep", _DEEP[0], mark, _DEEP[1]) from None
        return _Pass(_PyParser(text), doc).read()  # the rare bad file: PyYAML words and places errors better


def _failure(file: str, exc: Exception, lines: list[str]) -> Diagnostic:
    """The one problem for a file the pass could not read to its end."""
    if isinstance(exc, _Refused):
        return _at_mark(file, exc.mark, exc.rule, exc.message, exc.hint)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        message = (exc.problem or "invalid YAML").strip()
        if exc.context:
            message = f"{exc.context.strip()}: {message}"
        hint = _stray_character(lines, mark.line + 1 if mark else None) or (
            "is the file complete and indented consistently?"
        )
        return _at_mark(file, mark, "yaml-syntax", message, hint)
    return Diagnostic(file, 1, 1, Severity.ERROR, str(exc).strip(), "yaml-syntax")  # reader errors: control characters


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
    if _CParser is None:
        try:
            return _deepest_event(_PyParser(text))
        except yaml.YAMLError:
            return None
    try:
        return _deepest_event(_CParser(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        if "maximum nesting depth" not in (exc.problem or "") or mark is None or mark.index == 0:
            return None
    try:
        return _deepest_event(_CParser(text[: mark.index]))
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


def _at_mark(file: str, mark: Any, rule: str, message: str, hint: str = "") -> Diagnostic:
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return Diagnostic(file, line, col, Severity.ERROR, message, rule, (), hint)


_NO_DOCUMENT = object()  # the root of a stream with no document in it
_SKIP = object()  # what _Pass.key gives for a refused key

# Where the next node of the pass goes: the document's own value, the next item of a list, a mapping's next
# key, the value of the key just read, or nowhere (its key was refused, so the value is read past).
_ROOT, _ITEM, _KEY, _VALUE, _SKIP_VALUE = range(5)


class _Pass:
    """One reading of a document's events: its plain data (``root``), the start marks of its values and
    keys in the order ``Document.place`` walks them, and the problems found on the way, each made once the
    whole data is there (``found``: its position comes from the marks).

    What is refused in the data (a tag, a duplicate or merge key, a list as a key, a surrogate, an unquoted
    clock time, nesting past ``MAX_DEPTH``) is found and reading goes on; an anchor or alias stops it
    (``_Refused``) where it stands, before anything could expand, as does a syntax error (the parser's).
    """

    def __init__(self, parser: Any, doc: Document):
        self.parser, self.doc = parser, doc
        self.root: Any = _NO_DOCUMENT
        self.marks: list[Any] = []
        self.found: list[Callable[[], Diagnostic]] = []

    def read(self) -> _Pass:
        """Read every event. The loop runs once per event of a 1 MB file, so the common cases (a plain key,
        a word, an untagged mapping or list) are written out in it; the methods below decide the rest.
        Each kind of event has its own branch, so that each attribute read always meets one class (Python's
        attribute caches serve one class per place in the code)."""
        get = self.parser.get_event
        get()  # the stream starts
        if type(get()) is StreamEndEvent:  # else the document starts
            return self
        keep, escapes = self.marks.append, self.doc.escapes
        # The open mapping or list: its container, path and depth, and where the next node goes. ``stack``
        # holds the same for each one it is inside, with where the node after it goes.
        container: Any = None
        base: Path = ()
        depth = -1
        mode = _ROOT
        stack: list[tuple[Any, Path, int, int]] = []
        key: Any = None
        event = get()
        root_mark = event.start_mark
        while True:
            kind = type(event)
            if kind is ScalarEvent:
                if event.anchor:
                    raise _anchor_refused(event)
                if mode == _KEY:
                    key = event.value
                    if not escapes and key != "<<" and key not in container:
                        keep(event.start_mark)
                        mode = _VALUE
                    else:
                        key = self.key(event, container, base)
                        mode = _SKIP_VALUE if key is _SKIP else _VALUE
                elif mode == _SKIP_VALUE:
                    mode = _KEY
                else:
                    keep(event.start_mark)
                    text = event.value
                    if event.tag is None and text and text[0] not in _CORE_FIRST and not escapes:
                        value = text  # a plain or quoted word: text by any reading, and not a clock time
                    else:
                        value = self.scalar(event, _child(base, mode, key, container))
                    if mode == _VALUE:
                        container[key] = value
                        mode = _KEY
                    elif mode == _ITEM:
                        container.append(value)
                    else:
                        self.root = value
                        break
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                container, base, depth, mode = stack.pop()
                if mode == _ROOT:
                    break
            else:  # a mapping or a list starts, or an alias stands
                if kind is AliasEvent or event.anchor:
                    raise _anchor_refused(event)
                if mode == _KEY:
                    key = self.key(event, container, base)
                    mode = _SKIP_VALUE
                elif mode == _SKIP_VALUE:
                    self.skip(event)
                    mode = _KEY
                else:
                    keep(event.start_mark)
                    path = _child(base, mode, key, container)
                    if event.tag is None and depth + 1 < MAX_DEPTH:
                        opened: Any = {} if kind is MappingStartEvent else []
                    else:
                        opened = self.collection(event, path, depth + 1)
                    if mode == _VALUE:
                        container[key] = opened
                    elif mode == _ITEM:
                        container.append(opened)
                    else:
                        self.root = opened
                    if opened is not None:
                        stack.append((container, base, depth, _KEY if mode == _VALUE else mode))
                        container, base, depth = opened, path, depth + 1
                        mode = _KEY if type(opened) is dict else _ITEM
                    elif mode == _ROOT:
                        break
                    elif mode == _VALUE:
                        mode = _KEY
            event = get()
        get()  # the document ends
        event = get()
        if type(event) is not StreamEndEvent:
            raise ComposerError(
                "expected a single document in the stream", root_mark, "but found another document", event.start_mark
            )
        return self

    def problem(self, path: Path, rule: str, message: str, hint: str = "") -> None:
        """A problem placed at the value ``path`` names (or its nearest parent) once the data is there."""
        self.found.append(partial(self.doc.problem, path, rule, message, hint=hint))

    def skip(self, event: Any) -> None:
        _skip(event, self.parser)

    def key(self, event: Any, mapping: dict[str, Any], path: Path) -> Any:
        """The key ``event`` gives ``mapping`` (at ``path``), its mark kept; or ``_SKIP`` when the key is
        refused (its value is then read past)."""
        mark = event.start_mark
        where = (mark.line + 1, mark.column + 1)
        file = self.doc.file

        def refuse(rule: str, message: str, at: Path = path, hint: str = "") -> Any:
            diagnostic = Diagnostic(file, *where, Severity.ERROR, message, rule, at, hint)
            self.found.append(lambda: diagnostic)
            return _SKIP

        if type(event) is not ScalarEvent:
            self.skip(event)
            return refuse("yaml-key", "a key must be a plain name, not a list or mapping")
        key = event.value
        if self.doc.escapes and (surrogate := _lone_surrogate(key)):
            self.problem(path, "lone-surrogate", surrogate, _SURROGATE_HINT)
            return _SKIP
        if key == "<<" and not event.style:  # YAML 1.1 tools would merge here; quoted '<<' is just text
            return refuse("yaml-alias", "merge key '<<' is not allowed", hint="write the keys out in full")
        if key in mapping:
            child = path + (key,)

            def duplicate() -> Diagnostic:  # names where the first one is, known once the marks are placed
                first = self.doc.key_positions[child]
                message = f"duplicate key {key!r} (previously defined at {first[0]}:{first[1]})"
                return Diagnostic(file, *where, Severity.ERROR, message, "duplicate-key", child, _DUPLICATE_HINT)

            self.found.append(duplicate)
            return _SKIP
        self.marks.append(mark)
        return key

    def collection(self, event: Any, path: Path, depth: int) -> dict[str, Any] | list[Any] | None:
        """The empty mapping or list ``event`` opens, to be filled by the events that follow; None (and the
        node read past) when it nests too deep or carries a tag."""
        mapping = type(event) is MappingStartEvent
        tag = event.tag
        if tag is None or tag == "!":
            tag = _MAP if mapping else _SEQ
        if depth >= MAX_DEPTH:
            self.problem(path, "nesting-too-deep", *_DEEP)
        elif tag not in (_MAP, _SEQ):
            self.problem(
                path,
                "yaml-tag",
                f"tag {tag!r} is not allowed",
                "remove the tag; values are plain mappings, lists and text",
            )
        else:
            return {} if mapping else []
        self.skip(event)
        return None

    def scalar(self, event: Any, path: Path) -> Any:
        text = event.value
        tag = event.tag
        if tag is None or tag == "!":
            tag = _resolve(text, event.implicit)
        if tag not in _CONVERT:
            self.problem(
                path,
                "yaml-tag",
                f"tag {tag!r} is not allowed",
                "remove the tag; values are plain strings, numbers and booleans",
            )
            return text
        # Plain (PyYAML says style None, libyaml ""); the digit test only spares most values a regex call.
        if not event.style and text[:1] in _DIGITS and _SEXAGESIMAL.match(text):
            hint = f'write "{text}" in quotes: YAML 1.1 tools read it as the number {_base60(text)}'
            self.problem(path, "unquoted-time", f"unquoted clock time {text}", hint)
            return text
        if tag == _STR:
            if self.doc.escapes and (surrogate := _lone_surrogate(text)):
                self.problem(path, "lone-surrogate", surrogate, _SURROGATE_HINT)
                return ""
            return text  # already a str: what _CONVERT would give, one call sooner
        try:
            return _CONVERT[tag](text)
        except ValueError:
            self.problem(path, "yaml-tag", f"{text!r} is not a valid {tag.rsplit(':', 1)[-1]}")
            return text


def _skip(event: Any, parser: Any) -> None:
    """Read past the node ``event`` starts without keeping it (anchors and aliases in it are still refused)."""
    depth = 0
    while True:
        kind = type(event)
        if kind is MappingEndEvent or kind is SequenceEndEvent:
            depth -= 1
        else:
            if kind is AliasEvent or event.anchor:
                raise _anchor_refused(event)
            if kind is not ScalarEvent:
                depth += 1
        if depth == 0:
            return
        event = parser.get_event()


def has_top_level_key(raw: bytes, name: str) -> bool:
    """Whether the file's top-level mapping has the key ``name``, read only as far as that key (the first
    key of most files) and building nothing; never raises. False also when the file breaks, or holds an
    anchor, before the key: ``load_bytes`` would then give no data at all."""
    try:
        text = raw.decode("utf-8-sig")
        parser = _CParser(text) if _CParser is not None else _PyParser(text)
        get = parser.get_event
        get()  # the stream starts
        get()  # the document starts (or the stream ends: then no node follows)
        if type(get()) is not MappingStartEvent:
            return False
        while type(event := get()) is not MappingEndEvent:
            if type(event) is ScalarEvent and event.value == name:
                return True
            _skip(event, parser)  # the key
            _skip(get(), parser)  # its value
        return False
    except (_Refused, yaml.YAMLError, UnicodeDecodeError):
        return False


def _child(base: Path, mode: int, key: Any, container: Any) -> Path:
    """The path of the node that goes where ``mode`` says, in the container at ``base``."""
    if mode == _VALUE:
        return base + (key,)
    return base + (len(container),) if mode == _ITEM else ()


_DUPLICATE_HINT = "remove one of them or rename it"
_SURROGATE_HINT = "write the character itself, or a \\U escape of a real code point"


def _anchor_refused(event: Any) -> _Refused:
    if type(event) is AliasEvent:
        message = f"alias '*{event.anchor}' is not allowed"
    else:
        message = f"anchor '&{event.anchor}' is not allowed"
    return _Refused(
        "yaml-alias", message, event.start_mark, "write the value out in full; anchors and aliases are refused"
    )


def _lone_surrogate(text: str) -> str:
    """What is wrong when ``text`` holds a lone surrogate (only a \\u escape can write one), else ''."""
    if text.isascii():
        return ""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"text holds the lone surrogate U+{ord(text[exc.start]):04X}, which is not a character"
    return ""


def _resolve(text: str, implicit: tuple[bool, bool]) -> str:
    """A plain scalar's tag by the YAML 1.2 core schema only."""
    if not implicit[0]:  # quoted, or tagged '!'
        return _STR
    if text == "":
        return _NULL
    if text[0] not in _CORE_FIRST:  # most values are words: no pattern can match
        return _STR
    for tag, pattern in _CORE:
        if pattern.match(text):
            return tag
    return _STR


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
