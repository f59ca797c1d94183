"""Shared fixtures: paths of the bundled processes and a fresh engine on a temporary store."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

PROCESSES = ROOT / "processes"


@pytest.fixture
def processes_dir() -> Path:
    return PROCESSES
