"""The web pages of the complaint desk: the static files people's browsers load, shipped in the package.

Every page is the same small HTML shell (``static/index.html``); its ES modules under ``static/js/`` call
the HTTP API v1 with ``fetch`` like any other client, so the pages have no private way into the desk.
This module only finds the files and says which paths open which page; ``routes.py`` serves them. A new
group of pages (e.g. the studio) adds its paths to ``PAGE_PATHS`` and a view module under ``js/views/``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import PurePosixPath

# Paths that open the shell; the JavaScript router picks the view from the path.
PAGE_PATHS = ("/", "/login", "/queue", "/new", "/cases/{case_id}", "/report")
# The studio's paths: the same shell under a policy that also lets styles be inline, because its editor
# (CodeMirror) and its diagrams (Mermaid's SVG) carry their own <style>; scripts stay 'self' only.
STUDIO_PATHS = ("/studio", "/studio/{process_id}")

# Self only: no inline script or style, nothing from another origin, not framed by another site.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

STUDIO_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def asset(name: str) -> tuple[bytes, str] | None:
    """The bytes and media type of ``static/<name>``, or None for anything else (no way out of the folder)."""
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("", ".", "..") for part in path.parts) or path.suffix not in _TYPES:
        return None
    entry = resources.files(__package__).joinpath("static", *path.parts)
    if not entry.is_file():
        return None
    return entry.read_bytes(), _TYPES[path.suffix]


def shell() -> bytes:
    found = asset("index.html")
    assert found is not None, "the package lost static/index.html"
    return found[0]
