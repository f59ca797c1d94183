"""Render a checked process for people.

``mermaid`` and ``dot`` draw the state graph (Mermaid ``stateDiagram-v2`` and
Graphviz DOT); ``table`` prints the plain-text tables of the CLI ``show`` command.
Each module has ``render(process) -> str``; import the one you need.
"""

from __future__ import annotations

__all__ = ["dot", "mermaid", "table"]
