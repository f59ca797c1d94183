"""The studio's browser assets are built from the pinned npm packages in web/studio (no internet at run time):
the shipped files name exactly the versions package.json pins, and the wheel's package data holds them."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "engine" / "service" / "web" / "static" / "vendor"


def _pins() -> dict[str, str]:
    pins = json.loads((ROOT / "web" / "studio" / "package.json").read_text(encoding="utf-8"))["devDependencies"]
    lock = json.loads((ROOT / "web" / "studio" / "package-lock.json").read_text(encoding="utf-8"))
    for name, version in pins.items():  # the lock resolved each pin to exactly that version
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
    return {name: version for name, version in pins.items() if name != "esbuild"}


def test_the_editor_bundle_names_the_pinned_versions_it_was_built_from():
    banner = (VENDOR / "editor.js").read_text(encoding="utf-8").split("\n", 1)[0]
    assert banner.startswith("// complaintflow studio editor, built by web/studio/build.mjs from: ")
    named = dict(item.rsplit("@", 1) for item in banner.split("from: ", 1)[1].split(" (", 1)[0].split())
    assert named == _pins()
    listed = dict(line.split()[:2] for line in (VENDOR / "VERSIONS.txt").read_text(encoding="utf-8").splitlines())
    assert listed == _pins()


def test_mermaid_is_the_pinned_release():
    assert f'"{_pins()["mermaid"]}"' in (VENDOR / "mermaid.min.js").read_text(encoding="utf-8")
