"""The definition pipeline: bytes -> document -> schema -> spec -> rules.

``check_bytes`` never raises for a bad file; it returns what it could build
and every problem found, sorted. ``load_process`` is the strict edge used by
the runtime: it raises one ``DefinitionError`` carrying all errors.
"""

from __future__ import annotations

import stat
from pathlib import Path

from .build import build_process
from .collector import collector_paused
from .diagnostics import DefinitionError, Diagnostic, Severity, has_errors, sort_unique
from .loader import MAX_BYTES, Document, load_bytes
from .rules import run_rules
from .rules.context import Context
from .schema import check_schema
from .spec import Process


def check_bytes(
    raw: bytes, file: str = "<string>", *, now: int | None = None, horizon_days: int = 45
) -> tuple[Process | None, list[Diagnostic]]:
    """``now`` (epoch seconds, given by the caller) turns on the calendar-data-ending check."""
    with collector_paused():
        return _check(raw, file, now, horizon_days)


def _check(raw: bytes, file: str, now: int | None, horizon_days: int) -> tuple[Process | None, list[Diagnostic]]:
    doc = load_bytes(raw, file, lazy_positions=True)  # nothing below changes the data
    if doc.data is None:
        return None, sort_unique(doc.diagnostics)
    problems = list(doc.diagnostics)
    shape = check_schema(doc)
    problems += shape
    if has_errors(shape):
        return None, sort_unique(problems)  # rules on a shape we cannot trust would only add noise
    process, built = build_process(doc, raw)
    problems += built
    problems += run_rules(Context(doc, process))
    if now is not None:
        from ..calendar_status import horizon_warnings  # the calendar stack loads only when asked

        problems += horizon_warnings(doc, process, now, horizon_days)
    problems = sort_unique(problems)
    return (None if has_errors(problems) else process), problems


def check_file(
    path: str | Path, *, now: int | None = None, horizon_days: int = 45
) -> tuple[Process | None, list[Diagnostic]]:
    path = Path(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a directory, device or FIFO: reading it could block or never end
            return None, [not_a_regular_file(str(path), info.st_mode)]
        size = info.st_size
        if size > MAX_BYTES:  # refuse a huge file without reading it
            return None, [
                Diagnostic(
                    str(path),
                    1,
                    1,
                    Severity.ERROR,
                    f"file is {size:,} bytes, over the {MAX_BYTES:,}-byte limit",
                    "file-too-large",
                    (),
                    "a process file is a few kilobytes; is this the right file?",
                )
            ]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Diagnostic(str(path), 0, 0, Severity.ERROR, f"cannot read file: {exc.strerror or exc}", "io")]
    return check_bytes(raw, str(path), now=now, horizon_days=horizon_days)


def not_a_regular_file(file: str, mode: int) -> Diagnostic:
    """The problem for a path that names a directory, a device, a FIFO or a socket instead of a file."""
    what = "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"
    return Diagnostic(
        file, 1, 1, Severity.ERROR, f"{file} is {what}, not a regular file", "io", (), "name the .yaml file itself"
    )


def load_process(path: str | Path) -> Process:
    process, problems = check_file(path)
    if process is None:
        raise DefinitionError([p for p in problems if p.severity is Severity.ERROR])
    return process


def load_process_bytes(raw: bytes, file: str = "<string>") -> Process:
    process, problems = check_bytes(raw, file)
    if process is None:
        raise DefinitionError([p for p in problems if p.severity is Severity.ERROR])
    return process


def load_checked_file(path: str | Path, schema_name: str, what: str, *, empty: object = None) -> Document:
    """Read a YAML file other than a process (a scenario, the serve config) and check it against its
    schema. Never raises: a file that cannot be read, a top level that is not a mapping and every schema
    problem land in ``diagnostics``. ``empty`` stands in for an empty file (None: refused as not a mapping).
    """
    name = str(path)
    try:
        mode = Path(path).stat().st_mode
        if not stat.S_ISREG(mode):
            return Document(name, None, diagnostics=[not_a_regular_file(name, mode)])
        raw = Path(path).read_bytes()
    except OSError as exc:
        diagnostic = Diagnostic(name, 0, 0, Severity.ERROR, f"cannot read the {what}: {exc.strerror}", "io")
        return Document(name, None, diagnostics=[diagnostic])
    doc = load_bytes(raw, name)
    if not doc.diagnostics:
        if doc.data is None and empty is not None:
            doc.data = empty
        if not isinstance(doc.data, dict):
            doc.diagnostics.append(doc.problem((), "schema", f"a {what} is a mapping of keys"))
        else:
            doc.diagnostics += check_schema(doc, schema_name)
    return doc
