"""The queue page's search and the manager's view, in Debian's chromium against a real ``complaintflow serve``.

Its own service (the module's ``desk``): cases opened on two days a week apart, by moving the service's
clock file, so a search by opening days has something to tell apart. The front desk finds a case by phone
and by days; a manager sees every open case, overdue first, and reaches the report from the menu.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.service.serving import Served
from tests.web.browser import TOKENS, log_in, pages, serious_accessibility_problems

OPENED: dict[str, str] = {}  # subject -> case id


def _open(desk: Served, subject: str, phone: str, name: str) -> str:
    data = {"customer_name": name, "subject": subject, "phone": phone, "channel": "phone_call"}
    with desk.client(TOKENS["wang"]) as wang:
        reply = wang.post("/v1/cases", json={"process": "property_management", "role": "receiver", "data": data})
        assert reply.status_code == 201, reply.text
        OPENED[subject] = reply.json()["id"]
        return OPENED[subject]


def test_the_front_desk_finds_a_case_by_phone_and_by_the_days_it_was_opened(desk, browser, guards):
    _open(desk, "电梯困人", "13900000001", "李雷")
    _open(desk, "楼道灯不亮", "13900000002", "韩梅梅")
    desk.set_clock("2025-10-08 09:30")
    _open(desk, "水管漏水", "13900000003", "李雷")
    page = next(pages(browser, guards))
    log_in(page, desk.base_url, "wang")
    search = page.get_by_role("search")
    expect(page.locator("#queue tr")).to_have_count(4)  # the header and three cases
    search.get_by_label("客户电话").fill("139 0000 0002")
    search.get_by_role("button", name="搜索").click()
    results = page.locator("#results tbody tr")
    expect(results).to_have_count(1)
    expect(results.first).to_have_attribute("data-case", OPENED["楼道灯不亮"])
    expect(page.locator("#results")).to_contain_text("在办")
    search.get_by_role("button", name="清除").click()
    expect(page.locator("#queue tr")).to_have_count(4)
    search.get_by_label("客户（姓名、地址等）").fill("李雷")
    search.get_by_label("开案日期从").fill("2025-10-08")
    search.get_by_label("开案日期到").fill("2025-10-08")
    search.get_by_role("button", name="搜索").click()
    expect(results).to_have_count(1)
    expect(results.first).to_have_attribute("data-case", OPENED["水管漏水"])
    search.get_by_label("开案日期从").fill("2025-09-29")
    search.get_by_label("开案日期到").fill("2025-09-30")
    search.get_by_role("button", name="搜索").click()
    expect(results).to_have_count(1)
    expect(results.first).to_have_attribute("data-case", OPENED["电梯困人"])
    assert serious_accessibility_problems(page) == []


def test_a_bad_search_shows_the_apis_words(desk, browser, guards):
    page = next(pages(browser, guards))
    guards[-1].allowed_statuses.add(422)
    log_in(page, desk.base_url, "wang")
    search = page.get_by_role("search")
    search.get_by_label("开案日期从").fill("2025-10-08")
    search.get_by_label("开案日期到").fill("2025-10-01")
    search.get_by_role("button", name="搜索").click()
    expect(page.locator("#status")).to_contain_text("opened_to: the range ends before it starts")


def test_a_manager_sees_every_open_case_overdue_first_and_reaches_the_report(desk, browser, guards):
    page = next(pages(browser, guards))
    log_in(page, desk.base_url, "chen")
    expect(page.locator("h1")).to_have_text("全部在办案件")
    rows = page.locator("#queue tbody tr")
    expect(rows).to_have_count(3)  # no process gives chen a role, yet every open case is here
    expect(rows.first).to_have_class(re.compile("overdue"))
    expect(rows.first).to_contain_text("全部在办")
    expect(rows.first).to_contain_text("已超时")
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="新投诉")).to_have_count(0)  # a manager opens no case
    nav.get_by_role("link", name="报表").click()
    expect(page.locator("h1")).to_have_text("管理报表")
    page.go_back()
    page.locator("#queue tbody tr a").first.click()
    expect(page.locator("#actions")).to_contain_text("您现在没有可做的操作。")
    assert serious_accessibility_problems(page) == []
