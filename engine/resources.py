"""Find the files shipped beside the code: bundled processes and JSON schemas.

An installed wheel carries them inside the package (``engine/_data``); an
editable install or a plain checkout finds them at the repository root.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def data_dir(name: str) -> Path:
    """The directory ``processes`` or ``schemas``, wherever this copy of the engine keeps it."""
    bundled = Path(str(resources.files("complaintflow"))) / "_data" / name
    if bundled.is_dir():
        return bundled
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"cannot find the {name!r} directory shipped with complaintflow (looked in {bundled} and {checkout})"
    )


def schema_path() -> Path:
    return data_dir("schemas") / "process.schema.json"


def processes_dir() -> Path:
    return data_dir("processes")
