"""The case page of a user whose roles may not see a customer's details: the phone and name read ``***``
with the label 您的角色无权查看, and the page holds neither value (chromium against a real service)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.browser import PASSWORD, TOKENS, log_in, pages, serious_accessibility_problems

DATA = {"customer_name": "韩梅梅", "subject": "门禁失灵", "phone": "13911112222", "channel": "phone_call"}


def test_a_value_hidden_for_the_callers_role_reads_stars_with_a_label(desk, browser, guards):
    with desk.client(desk.admin_token) as admin:
        # cs_dept is a role of another process: property_management's personal fields are not for it
        body = {"id": "kong", "name": "孔 员工", "roles": ["cs_dept"], "password": PASSWORD}
        assert admin.post("/v1/users", json=body).status_code == 201
    with desk.client(TOKENS["wang"]) as wang:
        reply = wang.post("/v1/cases", json={"process": "property_management", "role": "receiver", "data": DATA})
        assert reply.status_code == 201, reply.text
        case = reply.json()["id"]
    page = next(pages(browser, guards))
    log_in(page, desk.base_url, "kong", f"/cases/{case}")
    record = page.locator("dl.record")
    expect(record).to_contain_text("门禁失灵")
    expect(record.locator(".masked").first).to_have_attribute("title", "您的角色无权查看")
    expect(record).to_contain_text("您的角色无权查看")
    content = page.content()
    assert DATA["phone"] not in content and DATA["customer_name"] not in content
    assert serious_accessibility_problems(page) == []
