"""Takes the screenshots of docs/web.md in Debian's chromium: ``python -m tests.web.screenshots``.

A real ``complaintflow serve --demo`` whose clock reads 2025-09-29 16:30 (the demo day's afternoon), the
demo staff logging in with the passwords it prints, one 1000x700 PNG per page into docs/img/. Not a test: it is
run by hand when the pages change (fonts: Debian's fonts-wqy-microhei or fonts-noto-cjk for Chinese).
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.service.serving import Served, eventually, serving
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS

OUT = Path(__file__).resolve().parent.parent.parent / "docs" / "img"


def _afternoon(served: Served) -> None:
    """A few complaints at 16:30, then the clock at 16:50: one on time, some past their 3 minutes."""
    with served.client(served.demo_token) as demo:
        for subject, phone in (("电梯困人", "13900000001"), ("楼道灯不亮", "13900000002"), ("噪音扰民", "13900000003")):
            data = {"customer_name": "李雷", "subject": subject, "phone": phone, "channel": "phone_call"}
            body = {"process": "property_management", "role": "receiver", "data": data}
            assert demo.post("/v1/cases", json=body).status_code == 201
        served.set_clock("2025-09-29 16:50")
        eventually(
            lambda: len(demo.get("/v1/cases", params={"overdue": True}).json()["items"]) >= 3,
            "the afternoon's breaches",
        )
        body = {"process": "property_management", "role": "receiver", "data": data | {"subject": "水管漏水"}}
        assert demo.post("/v1/cases", json=body).status_code == 201


VIEWPORT = {"width": 1000, "height": 700}  # one screen per page keeps each PNG small (docs/web.md)


def _log_in(page: Any, base_url: str, user: str, password: str, path: str = "/") -> None:
    page.goto(base_url + path)
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def main() -> int:
    from playwright.sync_api import sync_playwright

    from tests.web.test_studio import _type_over

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, serving(Path(tmp), start="2025-09-29 16:30", demo=True) as served:
        logins = dict(re.findall(r"user (\w+) password (\S+)", "\n".join(served.lines)))
        _afternoon(served)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=VIEWPORT)
            page = context.new_page()
            page.goto(served.base_url + "/login")
            page.locator("#main h1").wait_for()
            page.screenshot(path=str(OUT / "web-login.png"))
            _log_in(page, served.base_url, "frontdesk", logins["frontdesk"])
            page.locator("#queue").wait_for()
            page.screenshot(path=str(OUT / "web-queue.png"))
            search = page.get_by_role("search")
            search.get_by_label("客户电话").fill("13900000002")
            search.get_by_role("button", name="搜索").click()
            page.locator("#results").wait_for()
            page.screenshot(path=str(OUT / "web-search.png"))
            case = page.locator("#results tr.overdue a").first.get_attribute("href") or ""
            page.goto(served.base_url + case)
            page.locator("#timeline").wait_for()
            page.screenshot(path=str(OUT / "web-case.png"))
            page.goto(served.base_url + "/new?process=property_management")
            page.locator("#new-case").wait_for()
            page.screenshot(path=str(OUT / "web-new.png"))
            page.goto(served.base_url + "/studio/property_management")
            page.locator("#studio-diagram svg").wait_for()
            _type_over(page, "to: explaining", "to: explainign")
            page.locator("#studio-editor .cm-lintRange-error").wait_for()
            page.screenshot(path=str(OUT / "web-studio.png"))
            boss = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=VIEWPORT).new_page()
            _log_in(boss, served.base_url, "manager", logins["manager"])
            boss.locator("#queue").wait_for()
            boss.screenshot(path=str(OUT / "web-manager-queue.png"))
            boss.goto(served.base_url + "/report?period=2025-09&households=200")
            boss.locator("#chart-rate").wait_for()
            boss.screenshot(path=str(OUT / "web-report.png"))
            boss.get_by_role("button", name="English").click()
            boss.locator("#chart-rate").wait_for()
            boss.screenshot(path=str(OUT / "web-report-en.png"))
            boss.get_by_role("button", name="中文").click()
            phone = browser.new_context(
                locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844}, is_mobile=True
            )
            mobile = phone.new_page()
            _log_in(mobile, served.base_url, "frontdesk", logins["frontdesk"], case)
            mobile.locator("#timeline").wait_for()
            mobile.screenshot(path=str(OUT / "web-case-phone.png"))
            browser.close()
    for png in sorted(OUT.glob("web-*.png")):
        print(png.relative_to(OUT.parent.parent), f"{png.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
