"""Build hook: what the installed ``complaintflow`` command imports.

A wheel carries cli.py itself, renamed ``complaintflow_cli.py`` (pyproject's force-include), since a
top-level module named ``cli`` could clash with another project's. An editable install instead gets a
one-line ``complaintflow_cli.py`` that imports the checkout's cli.py, so the command runs the code as it
is now; a copy would silently keep running the cli.py of the day it was installed.
"""
from __future__ import annotations

import os
import tempfile
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SHIM = '"""The complaintflow command of an editable install: the checkout\'s cli.py, as it is now."""\nfrom cli import main\n'


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version != "editable":
            return
        shim = os.path.join(tempfile.mkdtemp(prefix="complaintflow-build-"), "complaintflow_cli.py")
        with open(shim, "w", encoding="utf-8") as handle:
            handle.write(SHIM)
        # Replaces pyproject's force-include for this build: the data folders are read from the checkout.
        build_data["force_include_editable"][shim] = "complaintflow_cli.py"
