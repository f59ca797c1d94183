"""Hypothesis strategies for process files: small mutations of the shipped processes, and documents
built from a small grammar of the language. Shared by the CI fuzz tests and bench/fuzz.py.

A mutation replaces one value the language gives meaning to (a duration, a version, a guard, a
calendar's hours or holidays, a title, a role name, an enum value) with a generated one, or
damages the text itself (a cut, a doubled line, nesting, an escape); the grammar writes whole small
processes whose parts are drawn from the same pools. Everything is text in, bytes out.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from complaintflow.resources import processes_dir

SHIPPED = {path.stem: path.read_bytes() for path in sorted(processes_dir().glob("*.yaml"))}

UNITS = ["m", "h", "d", "wd", "wh", "min", "天", ""]
durations = st.builds(
    lambda n, unit: f"{n}{unit}",
    st.one_of(st.integers(0, 120), st.integers(0, 10**6), st.integers(0, 10**22)),
    st.sampled_from(UNITS),
)
versions = st.one_of(st.integers(-5, 5), st.integers(2**62, 2**66), st.just("'1'"), st.just("1.5"))
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.builds(lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}", st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32)),
)
clock = st.builds(lambda h, m: f'"{h:02d}:{m:02d}"', st.integers(0, 25), st.integers(0, 61))
spans = st.builds(lambda a, b: f'"{a[1:-1]}-{b[1:-1]}"', clock, clock)
_ATOMS = ["severity", "amount", "phone", "content", "'major'", "'x'", "3", "3000", "true", "null", "[1, 2]", "''"]
_OPS = ["==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or", "+", "-", "*", "/"]
guards = st.recursive(
    st.sampled_from(_ATOMS),
    lambda inner: st.one_of(
        st.builds(lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from(_OPS), inner),
        st.builds(lambda a: f"not {a}", inner),
        st.builds(lambda a: f"({a})", inner),
        st.builds(lambda a: f"-{a}", inner),
    ),
    max_leaves=12,
)
texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(['"\\ud800"', '"\\U0001F600"', '"\\x00"', "~", "''", "[]", "{}", "'a' * 3", "*a", "&a x"]),
)
names = st.one_of(st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True), st.sampled_from(["system", "complaintflow"]))

# (pattern whose first group is the value to replace, strategy for the new value)
_VALUE_SITES: list[tuple[str, st.SearchStrategy[Any]]] = [
    (r"(?m)^\s+within: (\S+)$", durations),
    (r"(?m)^\s+warn_before: (\S+)$", durations),
    (r"(?m)^\s+every: (\S+)$", st.one_of(durations, st.sampled_from(["daily 17:00", "weekly mon 09:00", "x"]))),
    (r"(?m)^version: (\S+)$", versions.map(str)),
    (r"(?m)^\s+guard: (.+)$", guards.map(lambda g: '"' + g.replace('"', "'") + '"')),
    (r"(?m)^\s+hours: (.+)$", st.lists(spans, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]")),
    (r"(?m)^\s+statutory: (\S+)$", st.sampled_from(["china", "none", "mars"])),
    (r"(?m)^timezone: (\S+)$", st.sampled_from(["UTC", "Asia/Shanghai", "Mars/Base", "../etc"])),
    (r"title: \{zh: ([^,}]+)", texts),
    (r"(?m)^  ([a-z_]+): \{title", names),
    (r"(?m)^\s+to: (\S+)$", names),
    (r"(?m)^\s+weekdays: (.+)$", st.sampled_from(["[]", "[sun]", "[mon, tue, wed, thu, fri, sat, sun]"])),
]


@st.composite
def mutated_process(draw: st.DrawFn) -> bytes:
    """One shipped process with one to three values replaced, or its text damaged."""
    name = draw(st.sampled_from(sorted(SHIPPED)))
    text = SHIPPED[name].decode("utf-8")
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.integers(0, 9))
        if kind < 8:
            pattern, values = draw(st.sampled_from(_VALUE_SITES))
            found = list(re.finditer(pattern, text))
            if not found:
                continue
            match = draw(st.sampled_from(found))
            text = text[: match.start(1)] + draw(values) + text[match.end(1) :]
        elif kind == 8:  # add holidays to a calendar
            text = text.replace("statutory: china\n", f"statutory: china\n    holidays: [{draw(dates)}]\n", 1)
        else:  # damage the text: cut it, double a line, or nest it
            lines = text.splitlines(keepends=True)
            at = draw(st.integers(0, len(lines)))
            how = draw(st.sampled_from(["cut", "double", "nest"]))
            if how == "cut":
                text = "".join(lines[:at])
            elif how == "double" and at < len(lines):
                text = "".join(lines[: at + 1] + lines[at:])
            else:
                text += "extra: " + "[" * draw(st.integers(1, 3000)) + "\n"
    return text.encode("utf-8", "surrogatepass")


@st.composite
def grammar_process(draw: st.DrawFn) -> bytes:
    """A small process written from the language's grammar, with values drawn from the pools above."""
    states = draw(st.lists(names, min_size=1, max_size=6, unique=True))
    roles = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    out = [
        f"process: {draw(names)}",
        f"version: {draw(versions)}",
        "title: {zh: 流程}",
        f"calendar: c{draw(st.integers(0, 2))}",
        "calendars:",
    ]
    for i in range(draw(st.integers(0, 3))):
        out += [f"  c{i}:", f"    hours: [{draw(spans)}]", f"    statutory: {draw(st.sampled_from(['china', 'none']))}"]
        if draw(st.booleans()):
            out.append(f"    extends: c{draw(st.integers(0, 3))}")
    out.append("roles:")
    out += [f"  {r}: {{title: {{zh: 角色}}}}" for r in roles]
    out += ["fields:", "  amount: {type: number}", "  severity: {type: enum, values: [major, general]}", "states:"]
    for i, s in enumerate(states):
        flag = ", initial: true" if i == 0 else ", final: true" if i == len(states) - 1 else ""
        out.append(f"  {s}: {{title: {{zh: 状态}}{flag}}}")
    out.append("actions:")
    for i in range(draw(st.integers(1, 6))):
        source, target = draw(st.sampled_from(states)), draw(st.sampled_from(states))
        guard = f', guard: "{draw(guards)}"' if draw(st.booleans()) else ""
        out.append(f"  a{i}: {{title: {{zh: 动作}}, from: {source}, to: {target}, roles: [{roles[0]}]{guard}}}")
    if draw(st.booleans()):
        out += [
            "deadlines:",
            "  d0:",
            "    title: {zh: 时限}",
            f"    start: {states[0]}",
            f"    within: {draw(durations)}",
        ]
    return ("\n".join(out) + "\n").encode("utf-8", "surrogatepass")


def any_process() -> st.SearchStrategy[bytes]:
    return st.one_of(mutated_process(), grammar_process())


def write(tmp: Path, raw: bytes) -> Path:
    path = tmp / "fuzzed.yaml"
    path.write_bytes(raw)
    return path
