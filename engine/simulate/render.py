"""A finished run or a comparison as the text, HTML or JSON that ``complaintflow simulate`` prints.

The result classes hold data only; the renderers (``text.py``, ``html.py``) read them, so the
imports run one way: renderers import results, never the reverse.
"""

from __future__ import annotations

import json
from typing import Literal

from .compare import Comparison
from .html import comparison_page, result_page
from .stats import SimulationResult
from .text import comparison_text, result_text

Format = Literal["text", "html", "json"]


def render(outcome: SimulationResult | Comparison, fmt: Format = "text") -> str:
    if fmt == "json":
        return json.dumps(outcome.to_json(), ensure_ascii=False, indent=2)
    if isinstance(outcome, Comparison):
        return comparison_text(outcome) if fmt == "text" else comparison_page(outcome)
    return result_text(outcome) if fmt == "text" else result_page(outcome)
