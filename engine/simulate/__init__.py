"""SLA what-if simulation: run a scenario of simulated complaints through a process on simulated time.

``load_scenario`` reads a scenario file (or the built-in default), ``simulate``
runs it against one process file, ``compare`` sets two runs side by side.
``render`` prints a result or a comparison as text, JSON or a self-contained HTML report.
"""

from __future__ import annotations

from .compare import Comparison, compare
from .render import render
from .run import simulate, simulate_compare
from .scenario import Scenario, ScenarioError, load_scenario
from .stats import SimulationResult

__all__ = [
    "Comparison",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "compare",
    "load_scenario",
    "render",
    "simulate",
    "simulate_compare",
]
