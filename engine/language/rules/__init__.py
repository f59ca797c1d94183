"""Semantic checks beyond the schema, one small registered function per rule.

A rule receives a ``Context`` (the document with its positions and the built
process) and yields diagnostics. ``RULES`` is the one registry; a rule's id is
written once, as the name of its check (``check_unreachable_state`` is
``unreachable-state``), and the runner stamps it on everything the check finds.
The docs in ``docs/rules.md`` and the golden cases in ``tests/lint_cases`` follow its ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from ..diagnostics import Diagnostic
from .context import Context

Check = Callable[[Context], Iterator[Diagnostic]]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    check: Check
    summary: str


def _collect() -> tuple[Rule, ...]:
    from . import branches, fields, graph, guards, header, ranges, references, reserved, timing

    found = []
    for module in (header, references, graph, guards, timing, fields, branches, ranges, reserved):
        for fn in module.CHECKS:
            rule_id = fn.__name__.removeprefix("check_").replace("_", "-")
            found.append(Rule(rule_id, fn, (fn.__doc__ or "").strip().splitlines()[0]))
    return tuple(found)


RULES: tuple[Rule, ...] = _collect()


def run_rules(ctx: Context) -> list[Diagnostic]:
    """Every rule's diagnostics; the runner stamps each with the id of the rule that found it."""
    out: list[Diagnostic] = []
    for rule in RULES:
        for found in rule.check(ctx.for_rule(rule.id)):
            out.append(found if found.rule == rule.id else replace(found, rule=rule.id))
    return out
