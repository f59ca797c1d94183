"""Helpers for the browser tests: Debian's chromium under Playwright, a served desk with staff who log in,
and a page guard that fails a test on any request leaving 127.0.0.1 or any error in the browser console.

Chromium is never downloaded: the tests use ``/usr/bin/chromium`` (``.ci/run`` installs it with apt-get)
and skip with the reason when it is missing, unless ``COMPLAINTFLOW_REQUIRE_BROWSER=1`` makes that a failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"  # screenshots of failed tests (git-ignored)
AXE = HERE / "vendor" / "axe.min.js"
PASSWORD = "desk-password-1"
TOKENS: dict[str, str] = {}  # user id -> an API token, for a test's own setup calls (conftest.desk fills it)


def require_browser() -> Any:
    """The sync Playwright entry point, or a skip (a failure under COMPLAINTFLOW_REQUIRE_BROWSER=1)."""
    must = os.environ.get("COMPLAINTFLOW_REQUIRE_BROWSER") == "1"
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[test]')"
    if reason is None and not CHROMIUM.exists():
        reason = f"no browser at {CHROMIUM} (apt-get install chromium; never 'playwright install')"
    if reason is not None:
        if must:
            pytest.fail(f"COMPLAINTFLOW_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    return sync_playwright


def local_only(url: str) -> bool:
    """Whether a request stays on this machine's loopback (blob: and data: URLs never leave the page)."""
    if url.startswith("data:"):
        return True
    if url.startswith("blob:"):
        url = url[len("blob:") :]
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws") and parts.hostname == "127.0.0.1"


@dataclass
class Guard:
    """What one page did that a test must not allow: requests off the machine and console errors."""

    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)  # answers the test provokes on purpose (412)

    def watch(self, page: Any) -> None:
        page.on("request", lambda r: None if local_only(r.url) else self.outside.append(r.url))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e} {getattr(e, 'stack', '')}"))

    def problems(self) -> list[str]:
        expected = re.compile(r"status of (\d+)")
        errors = [
            e for e in self.errors if not ((m := expected.search(e)) and int(m.group(1)) in self.allowed_statuses)
        ]
        return [f"request left 127.0.0.1: {u}" for u in self.outside] + [f"console error: {e}" for e in errors]


def log_in(page: Any, base_url: str, user: str, path: str = "/") -> None:
    page.goto(base_url + path)
    page.get_by_label(re.compile("用户名|User")).fill(user)
    page.get_by_label(re.compile("密码|Password")).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("登录|Log in")).click()


def serious_accessibility_problems(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now (evaluated, so the page's own
    Content-Security-Policy stays on)."""
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.help + ' ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))"
    )
    return list(found)


def pages(browser: Any, guards: list[Guard], poll_ms: int = 300, **context: Any) -> Iterator[Any]:
    """New pages, each in its own browser context (its own sessionStorage: one person each), guarded."""
    while True:
        ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **context)
        ctx.add_init_script(f"sessionStorage.setItem('cf.pollMs', '{poll_ms}')")
        page = ctx.new_page()
        page.set_default_timeout(15_000)
        guard = Guard()
        guard.watch(page)
        guards.append(guard)
        yield page
