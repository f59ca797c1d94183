"""The staff and manager pages in Debian's chromium against a real ``complaintflow serve`` on 127.0.0.1.

One browser and one service for the module; the service's clock is a file the tests move forward (never a
sleep), so the tests run in file order and each opens its own cases. Every test fails on a request that
leaves 127.0.0.1 or an error in the browser console (``conftest.guards``).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.service.serving import Served, eventually
from tests.web.browser import TOKENS, log_in, pages, serious_accessibility_problems

DATA = {"customer_name": "李雷", "subject": "电梯故障", "phone": "13900000000", "channel": "phone_call"}


def _as(desk: Served, user: str) -> httpx.Client:
    return desk.client(TOKENS[user])


def _open_case(desk: Served, subject: str) -> str:
    with _as(desk, "wang") as wang:
        reply = wang.post(
            "/v1/cases",
            json={"process": "property_management", "role": "receiver", "data": DATA | {"subject": subject}},
        )
        assert reply.status_code == 201, reply.text
        return str(reply.json()["id"])


def _act(client: httpx.Client, case: str, action: str, role: str, inputs: dict[str, Any] | None = None) -> None:
    revision = client.get(f"/v1/cases/{case}").json()["revision"]
    reply = client.post(
        f"/v1/cases/{case}/actions/{action}",
        json={"role": role, "inputs": inputs or {}},
        headers={"If-Match": f'"{revision}"'},
    )
    assert reply.status_code == 200, reply.text


def test_the_front_desk_opens_one_case_from_the_generated_form_even_on_a_double_submit(desk, browser, guards):
    page = next(pages(browser, guards))
    log_in(page, desk.base_url, "wang", "/new")
    expect(page).to_have_url(re.compile(r"/new$"))
    page.get_by_label("投诉流程").select_option("property_management")
    form = page.locator("#new-case")
    name = form.get_by_label(re.compile("^客户姓名"))
    expect(name).to_have_attribute("required", "")
    expect(form.locator(".badge.pii").first).to_have_text("个人信息")
    expect(form.get_by_label(re.compile("^投诉方式")).locator("option")).to_have_count(4)  # choose + 3 values
    name.fill("韩梅梅")
    form.get_by_label(re.compile("^投诉主题")).fill("门禁卡失灵 double")
    form.get_by_label(re.compile("^投诉方式")).select_option("written")
    page.evaluate("() => { const f = document.querySelector('#new-case'); f.requestSubmit(); f.requestSubmit(); }")
    expect(page).to_have_url(re.compile(r"/cases/[0-9a-f]{12}$"))
    case_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("h1")).to_have_text(f"案件 {case_id}")
    expect(page.locator("#clocks")).to_contain_text("还剩 3 分")
    with _as(desk, "wang") as wang:
        opened = [c for c in wang.get("/v1/cases").json()["items"] if c["data"].get("subject") == "门禁卡失灵 double"]
    assert [c["id"] for c in opened] == [case_id]  # two submits, one Idempotency-Key, one case
    assert serious_accessibility_problems(page) == []


def test_the_login_page_is_accessible_and_a_wrong_password_is_said_in_words(desk, browser, guards):
    page = next(pages(browser, guards))
    guards[-1].allowed_statuses.add(401)
    page.goto(desk.base_url + "/login")
    expect(page.get_by_label("用户名")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    page.get_by_label("用户名").fill("wang")
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#main")).to_contain_text("登录失败：wrong user or password")


def test_a_refused_form_shows_the_api_message(desk, browser, guards):
    page = next(pages(browser, guards))
    guards[-1].allowed_statuses.add(422)
    log_in(page, desk.base_url, "wang", "/new")
    page.get_by_label("投诉流程").select_option("property_management")
    page.locator("#new-case").get_by_role("button").click()  # nothing filled in
    expect(page.locator("#new-case [role=alert]")).to_contain_text("customer_name")


def test_the_department_head_sees_the_case_in_the_queue_and_acts(desk, browser, guards):
    case = _open_case(desk, "水管漏水")
    with _as(desk, "wang") as wang:
        _act(wang, case, "notify_department", "receiver")
        _act(wang, case, "feed_back_to_customer_centre", "receiver")
        _act(wang, case, "classify_routine", "front_desk", {"classification": "routine"})
        _act(wang, case, "pass_to_department", "front_desk")
    page = next(pages(browser, guards))
    log_in(page, desk.base_url, "zhao")
    row = page.locator(f"#queue tr[data-case='{case}']")
    expect(row).to_contain_text("相关部门（或班组）负责人按调度要求及时完成工作")
    expect(row).to_contain_text("我的角色")
    row.get_by_role("link", name=case).click()
    page.locator("form[data-action='complete_work']").get_by_role("button").click()
    expect(page.locator("#status")).to_contain_text("已执行")
    expect(page.locator("#case-meta")).to_contain_text("相关部门妥善处理问题后")
    expect(page.locator("#timeline li").last).to_contain_text("妥善处理问题")
    expect(page.locator("#clocks")).to_contain_text("于2小时内反馈客户")
    assert serious_accessibility_problems(page) == []


def test_two_people_on_one_case_the_second_gets_the_stale_message(desk, browser, guards):
    case = _open_case(desk, "噪音扰民")
    made = pages(browser, guards, poll_ms=600_000)  # no refresh between their clicks
    first, second = next(made), next(made)
    guards[-1].allowed_statuses.add(412)
    for page, user in ((first, "wang"), (second, "zhou")):
        log_in(page, desk.base_url, user, f"/cases/{case}")
        expect(page.locator("form[data-action='notify_department'][data-role='receiver']")).to_be_visible()
    first.locator("form[data-action='notify_department'][data-role='receiver']").get_by_role("button").click()
    expect(first.locator("#status")).to_contain_text("已执行")
    second.locator("form[data-action='notify_department'][data-role='receiver']").get_by_role("button").click()
    expect(second.locator("#status")).to_contain_text("已被别人更新（现在是第 2 版），您的操作没有执行")
    expect(second.locator("#case-meta")).to_contain_text("已知会相关部门")  # refreshed to the case as it is
    expect(second.locator("form[data-action='notify_department'][data-role='receiver']")).to_have_count(0)
    with _as(desk, "wang") as wang:
        acted = [e for e in wang.get(f"/v1/cases/{case}/history").json() if e["kind"] == "acted"]
    assert [e["actor"] for e in acted] == ["wang"]  # nothing was overwritten


def test_the_language_switch_is_remembered_and_sets_the_lang_attribute(desk, browser, guards):
    page = next(pages(browser, guards))
    log_in(page, desk.base_url, "wang")
    expect(page.locator("h1")).to_have_text("我的队列")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("My queue")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.reload()
    expect(page.locator("h1")).to_have_text("My queue")
    expect(page.locator("#skip-link")).to_have_text("Skip to content")
    expect(page.locator("h1")).to_be_focused()  # the view has loaded its queue and focused its heading
    page.keyboard.press("Tab")  # from the heading a view focuses, the keyboard reaches the filters
    expect(page.locator(":focus")).to_have_accessible_name("Process")
    assert serious_accessibility_problems(page) == []
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("link", name="新投诉")).to_be_visible()


def test_logging_out_revokes_the_session_and_a_revoked_session_returns_to_the_login_form(desk, browser, guards):
    page = next(pages(browser, guards))
    guards[-1].allowed_statuses.add(401)  # the poll that finds the session revoked
    log_in(page, desk.base_url, "wang", "/queue")
    expect(page.locator("h1")).to_have_text("我的队列")
    token = page.evaluate("sessionStorage.getItem('cf.token')")
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("#status")).to_have_text("已退出。")
    assert page.evaluate("sessionStorage.getItem('cf.token')") is None
    with desk.client(token) as old:
        assert old.get("/v1/me").status_code == 401
    log_in(page, desk.base_url, "wang", "/report?period=2025-09")
    expect(page.locator("#chart-on-time")).to_be_visible()
    page.goto(desk.base_url + "/queue")
    with desk.client(page.evaluate("sessionStorage.getItem('cf.token')")) as session:
        assert session.delete("/v1/sessions").status_code == 204  # e.g. revoked by an admin elsewhere
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fqueue$"))  # the next poll finds out


def test_the_report_draws_its_charts_and_exports_a_csv_with_a_bom(desk, browser, guards, tmp_path):
    page = next(pages(browser, guards))
    log_in(page, desk.base_url, "li", "/report?period=2025-09&households=100")
    expect(page.locator("#chart-on-time")).to_be_visible()
    expect(page.locator("#chart-rate rect")).to_have_count(4)
    expect(page.locator("#rate-line")).to_contain_text("/ 100")
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 CSV").click()
    saved = tmp_path / "report.csv"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "complaintflow-report-2025-09.csv"
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "property_management" in raw.decode("utf-8-sig")
    assert serious_accessibility_problems(page) == []


def test_a_breach_and_its_escalation_appear_on_the_case_page_and_in_the_leaders_queue(desk, browser, guards):
    # Last in the module: it moves the service's clock past every deadline opened above.
    case = _open_case(desk, "电梯困人")
    made = pages(browser, guards, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = next(made)  # the case page from a WeCom link, on a phone
    log_in(phone, desk.base_url, "wang", f"/cases/{case}")
    expect(phone.locator("#clocks")).to_contain_text("还剩")
    desk.set_clock("2025-09-29 10:20")  # notify_3m fell due at 10:03; the chain's steps at 10:03 and 10:08
    with _as(desk, "wang") as wang:
        eventually(
            lambda: any(e["kind"] == "escalated" for e in wang.get(f"/v1/cases/{case}/history").json()), "escalation"
        )
    # no reload: the page polls
    expect(phone.locator("#timeline li.breach").first).to_contain_text(
        "违约：接报人或前台人员须于接报后的3分钟内知会相关部门"
    )
    expect(phone.locator("#timeline li.escalation").first).to_contain_text(
        "升级第 1/3 级：通知 直属上司（管理处负责人）"
    )
    expect(phone.locator("#clocks tr[data-deadline='notify_3m']")).to_contain_text("已超时 17 分")
    width = phone.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"the phone page scrolls sideways: {width}"
    leader = next(made)
    log_in(leader, desk.base_url, "li")
    row = leader.locator(f"#queue tr[data-case='{case}']")
    expect(row).to_contain_text("已升级到我")
    expect(row).to_contain_text("已超时")
    expect(row).to_have_class(re.compile("overdue"))
