"""Fixtures of the browser tests: one chromium and one served desk per module, a screenshot on failure."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.service.serving import Served, serving
from tests.web.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, PASSWORD, TOKENS, Guard, require_browser

# user id -> roles; created through the admin API like any deployment would
STAFF = {
    "wang": ["receiver", "front_desk"],
    "zhou": ["receiver", "front_desk"],
    "zhao": ["dept_head"],
    "li": ["company_leader"],
    "chen": ["manager"],
}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = require_browser()
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)  # a shared CI machine can be slow; a passing check returns at once
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("web"), start="2025-09-29 10:00") as served:
        with served.client(served.admin_token) as admin:
            for user_id, roles in STAFF.items():
                body = {"id": user_id, "name": f"{user_id} 员工", "roles": roles, "password": PASSWORD}
                assert admin.post("/v1/users", json=body).status_code == 201
                # API tokens for the tests' own setup calls (a password login costs a second of Argon2)
                TOKENS[user_id] = admin.post("/v1/tokens", json={"user": user_id}).json()["token"]
        yield served


@pytest.fixture
def guards(request: pytest.FixtureRequest, browser: Any) -> Iterator[list[Guard]]:
    """The guards of the pages a test opens; checked after it, and a screenshot of each page if it failed."""
    made: list[Guard] = []
    yield made
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for n, context in enumerate(browser.contexts):
            for m, page in enumerate(context.pages):
                page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{n}-{m}.png"), full_page=True)
    for context in list(browser.contexts):
        context.close()
    if not failed:
        problems = [p for g in made for p in g.problems()]
        assert problems == [], problems
