"""complaintflow: customer-complaint handling as declarative YAML processes.

The public API, in the order a caller meets it::

    from complaintflow import Engine, Actor
    engine = Engine("complaintflow.db")              # SQLite by default
    spec = engine.load_process("processes/shopping_mall.yaml")
    case = engine.start(spec, {...}, Actor("li", ("customer_service",)), at=epoch_seconds)

Names are imported on first use, so ``import complaintflow.language`` stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"  # the one place the version is written (pyproject reads it)

_HOMES = {
    "check_bytes": "language.check",
    "check_file": "language.check",
    "load_process": "language.check",
    "load_process_bytes": "language.check",
    "DefinitionError": "language.diagnostics",
    "Diagnostic": "language.diagnostics",
    "Severity": "language.diagnostics",
    "Actor": "runtime.engine",
    "Engine": "runtime.engine",
    "RefusedError": "runtime.errors",
    "CaseQuery": "store.base",
    "ComplaintflowError": "errors",
    "ConflictError": "store.base",
    "StoreError": "store.base",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'complaintflow' has no attribute {name!r}")
    return getattr(import_module(f".{_HOMES[name]}", __name__), name)
