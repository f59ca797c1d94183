"""Build hook: what an editable install imports.

A wheel carries ``engine/`` as the package ``complaintflow`` and cli.py renamed ``complaintflow_cli.py``
(pyproject's ``sources`` and force-include), so it installs no top-level ``engine`` or ``cli`` that could
clash with another project's. An editable install gets the same two names pointing into the checkout:
``complaintflow`` is mapped onto ``engine/`` by an import hook (the ``editables`` library, which hatchling
itself uses), and ``complaintflow_cli.py`` loads the checkout's cli.py, so the command runs the code as
it is now; a copy would silently keep running the cli.py of the day it was installed.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def shim_source(checkout: str) -> str:
    """A module that runs the checkout's cli.py under the name ``cli`` (imported by path: an exact
    editable install does not put the checkout itself on sys.path)."""
    cli_path = os.path.join(checkout, "cli.py")
    return (
        '"""The complaintflow command of an editable install: the checkout\'s cli.py, as it is now."""\n'
        "import importlib.util\nimport sys\n\n"
        f"_spec = importlib.util.spec_from_file_location('cli', {cli_path!r})\n"
        "_cli = sys.modules.setdefault('cli', importlib.util.module_from_spec(_spec))\n"
        "if not hasattr(_cli, 'main'):\n    _spec.loader.exec_module(_cli)\n"
        "main = _cli.main\n"
    )


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version != "editable":
            return
        shim = os.path.join(tempfile.mkdtemp(prefix="complaintflow-build-"), "complaintflow_cli.py")
        with open(shim, "w", encoding="utf-8") as handle:
            handle.write(shim_source(self.root))
        # Replaces pyproject's force-include for this build: the data folders are read from the checkout.
        build_data["force_include_editable"][shim] = "complaintflow_cli.py"
        from editables import EditableProject

        project = EditableProject("complaintflow", self.root)
        project.map("complaintflow", os.path.join(self.root, "engine"))
        for name, content in project.files():
            path = os.path.join(os.path.dirname(shim), name)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(content)
            build_data["force_include_editable"][path] = name
        build_data["dependencies"].extend(project.dependencies())
