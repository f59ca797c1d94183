"""The repository's own tooling: what mypy's view of the package and the sdist hold."""

from __future__ import annotations

import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_sees_engine_under_its_installed_name() -> None:
    link = ROOT / ".typecheck" / "complaintflow"
    assert link.is_symlink() and link.resolve() == ROOT / "engine"


def test_the_sdist_holds_engine_once_and_not_the_mypy_link(tmp_path: Path) -> None:
    from hatchling.builders.sdist import SdistBuilder

    (sdist,) = SdistBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "engine").rglob("*.py")}
    assert sources <= set(names)
    assert not [name for name in names if name.startswith(".typecheck")]
