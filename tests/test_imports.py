"""The package's import graph has no cycle, and each simulation module imports first in a fresh interpreter.

The graph counts every import: at the top of a module, inside functions and under ``TYPE_CHECKING``.
A cycle hidden in a function (a result class importing its renderer, which imports the class) still
ties the two modules together, so it is refused like any other.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "engine"


def _name(path: Path) -> str:
    parts = list(path.relative_to(ENGINE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["complaintflow", *parts])


MODULES = {_name(p): p for p in ENGINE.rglob("*.py")}


def _imports(name: str, path: Path) -> set[str]:
    """The package's own modules that ``name`` imports (a name imported from a package counts as its module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in MODULES else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, str] = {}
    path: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                found.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]


def test_the_graph_sees_imports_inside_functions_and_type_checking_blocks() -> None:
    assert "complaintflow.language.rules.branches" in GRAPH["complaintflow.language.rules"]  # in _collect()
    assert "complaintflow.simulate.stats" in GRAPH["complaintflow.simulate.text"]


def test_the_package_has_no_import_cycle() -> None:
    assert _cycles(GRAPH) == []


@pytest.mark.parametrize("module", ["compare", "html", "stats", "text", "render"])
def test_each_simulation_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    code = f"import complaintflow.simulate.{module}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
