"""Without a browser the browser tests skip and say why, except where COMPLAINTFLOW_REQUIRE_BROWSER=1 (CI)."""

from __future__ import annotations

import pytest

from tests.web import browser


def test_a_missing_browser_skips_with_its_reason(monkeypatch, tmp_path):
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("COMPLAINTFLOW_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no browser at .*no-chromium .*never 'playwright install'"):
        browser.require_browser()


def test_a_missing_browser_fails_where_one_is_required(monkeypatch, tmp_path):
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("COMPLAINTFLOW_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="COMPLAINTFLOW_REQUIRE_BROWSER=1 but no browser"):
        browser.require_browser()


def test_only_loopback_requests_count_as_local():
    assert browser.local_only("http://127.0.0.1:8080/v1/queue")
    assert browser.local_only("blob:http://127.0.0.1:8080/5f0c")
    assert not browser.local_only("https://cdn.example.com/htmx.js")
    assert not browser.local_only("http://localhost.example.com/")
    assert not browser.local_only("blob:https://evil.example/x")
