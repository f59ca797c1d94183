"""What every rule sees: the built process, the document that knows positions, and the rule's own id.

The runner binds ``rule`` (``Context.for_rule``) before it calls a check, so a check never writes its
id: every diagnostic made through the context carries the id of the rule that made it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..diagnostics import Diagnostic, Severity, did_you_mean
from ..loader import Document
from ..spec import Process


@dataclass(frozen=True)
class Context:
    doc: Document
    process: Process
    rule: str = ""
    # What several rules derive from the same process (the state graph), made once per check: for_rule
    # hands the same dict on.
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def for_rule(self, rule: str) -> Context:
        return replace(self, rule=rule)

    def derived(self, name: str, make: Callable[[Process], Any]) -> Any:
        """``make(process)``, computed once per check however many rules ask (they must not change it)."""
        if name not in self.memo:
            self.memo[name] = make(self.process)
        return self.memo[name]

    def error(self, path: tuple[Any, ...], message: str, hint: str = "") -> Diagnostic:
        return self.doc.problem(path, self.rule, message, hint=hint)

    def warning(self, path: tuple[Any, ...], message: str, hint: str = "") -> Diagnostic:
        return self.doc.problem(path, self.rule, message, hint=hint, severity=Severity.WARNING)

    def at_key(
        self, path: tuple[Any, ...], message: str, hint: str = "", severity: Severity = Severity.ERROR
    ) -> Diagnostic:
        return self.doc.problem(path, self.rule, message, hint=hint, severity=severity, key=True)

    def list_path(self, base: tuple[Any, ...], key: str, value: str) -> tuple[Any, ...]:
        """Path of ``value`` under ``base.key``, which holds either that string or a list containing it."""
        raw = self.raw(base + (key,))
        if isinstance(raw, list) and value in raw:
            return base + (key, raw.index(value))
        return base + (key,)

    def raw(self, path: tuple[Any, ...]) -> Any:
        node: Any = self.doc.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node


def unknown(kind: str, name: str, known: Any, actions: Any = None) -> tuple[str, str]:
    """Message and hint for a reference to something not declared.

    ``actions`` (for states): when the name is an action's, say so and offer the state the action leads to,
    instead of asking for a state of that name to be declared.
    """
    if kind == "state" and actions is not None and name in actions:
        target = actions[name].target
        return f"undefined state {name!r}: {name!r} is an action, and this key takes a state", (
            f"name the state the action leads to: {target!r}" if target in known else "name a state here"
        )
    plural = {"branch": "a parallel state's branches:", "escalation": "escalations:"}.get(kind, f"{kind}s:")
    return f"undefined {kind} {name!r}", did_you_mean(name, known) or f"declare it under {plural}"
