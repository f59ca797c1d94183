"""What the web pages need from the API, in process (a fake clock, no browser): clocks in business time,
the fields of a process, escalated cases in a leader's queue, the report with its CSV, logging out, and
the pages themselves with their Content-Security-Policy."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from complaintflow.service import auth
from complaintflow.service.app import create_app
from complaintflow.service.build import build_desk
from complaintflow.service.metrics import Metrics
from complaintflow.store.directory import User
from tests.service.test_desk import FakeClock

ROOT = Path(__file__).resolve().parent.parent.parent
PASSWORD = "correct horse 1"
_HASHED: list[str] = []  # Argon2 is slow on purpose: hash the test password once


def _password_hash() -> str:
    if not _HASHED:
        _HASHED.append(auth.hash_password(PASSWORD))
    return _HASHED[0]


@pytest.fixture
def api(tmp_path):
    clock = FakeClock("2025-09-29 10:00")
    desk = build_desk(str(tmp_path / "desk.db"), ROOT / "processes", clock)
    people = {
        "wang": ("receiver", "cs_dept", "cs_supervisor"),
        "zhao": ("office_head",),
        "li": ("company_leader",),
        "chen": ("manager",),
    }
    for user_id, roles in people.items():
        desk.directory.add_user(User(user_id, user_id, roles, {}, False, _password_hash()), 0)
    client = TestClient(create_app(desk, Metrics()))

    def login(user_id: str) -> dict[str, str]:
        reply = client.post("/v1/sessions", json={"user": user_id, "password": PASSWORD})
        assert reply.status_code == 201, reply.text
        client.cookies.clear()  # each test call names its caller by the bearer token alone
        return {"Authorization": f"Bearer {reply.json()['token']}"}

    yield client, clock, login, desk
    desk.close()


def _open(client, who, process="property_management", role="receiver", data=None):
    body = {"process": process, "role": role, "data": data or {"customer_name": "李雷", "subject": "电梯故障"}}
    reply = client.post("/v1/cases", json=body, headers=who)
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def test_a_working_time_clock_counts_only_office_hours(api):
    client, clock, login, _ = api
    wang = login("wang")
    clock.move_to("2025-09-29 11:00")  # a Monday; office hours 09:00-12:00 and 13:00-18:00
    data = {"applicant_name": "张三", "notice_days": 10}
    case = _open(client, wang, "renovation_approval", "cs_dept", data)
    reply = client.post(
        f"/v1/cases/{case}/actions/accept_application",
        json={"role": "cs_dept", "inputs": {"notice_days": 10, "is_tenant": False}},
        headers=wang | {"If-Match": '"1"'},
    )
    assert reply.status_code == 200, reply.text
    clock.move_to("2025-09-29 12:30")  # lunch: an hour and a half of wall time, one working hour
    (view,) = client.get(f"/v1/cases/{case}", headers=wang).json()["deadlines"]
    assert view["deadline"] == "review_half_day" and view["business"] is True
    assert view["budget_seconds"] == 4 * 3600
    assert view["used_seconds"] == 3600
    assert view["remaining_seconds"] == 3 * 3600
    assert view["overdue"] is False and view["provisional"] is False


def test_a_breached_clock_says_how_late_and_how_far_its_chain_climbed(api):
    client, clock, login, desk = api
    wang, li = login("wang"), login("li")
    case = _open(client, wang)
    clock.move_to("2025-09-29 10:01")
    first = {v["deadline"]: v for v in client.get(f"/v1/cases/{case}", headers=wang).json()["deadlines"]}
    assert first["notify_3m"]["remaining_seconds"] == 120 and first["notify_3m"]["business"] is False
    assert all(c["id"] != case for c in client.get("/v1/queue", headers=li).json())
    clock.move_to("2025-09-29 10:10")  # notify_3m breached at 10:03, chain steps at 10:03 and 10:08
    from complaintflow.service.scheduler import Scheduler

    scheduler = Scheduler(desk, Metrics(), batch=10, rounds=1)
    while scheduler.step():
        pass
    item = client.get(f"/v1/cases/{case}", headers=wang).json()
    late = next(v for v in item["deadlines"] if v["deadline"] == "notify_3m")
    assert item["overdue"] is True and late["breached"] is True and late["overdue_seconds"] == 7 * 60
    assert late["escalation"]["roles"] == ["office_head", "company_leader"]
    queue = client.get("/v1/queue", headers=li).json()
    assert [(c["id"], c["why"]) for c in queue] == [(case, "escalated")]


def test_a_manager_sees_every_open_case_overdue_first_and_may_act_on_none(api):
    client, clock, login, _ = api
    wang = login("wang")
    early = _open(client, wang, data={"customer_name": "李雷", "subject": "电梯故障"})
    clock.move_to("2025-09-29 10:05")  # the first case's 3 minutes are gone
    later = _open(client, wang, data={"customer_name": "韩梅梅", "subject": "噪音扰民"})
    chen = login("chen")
    assert client.get("/v1/me", headers=chen).json()["manager"] is True
    assert client.get("/v1/me", headers=wang).json()["manager"] is False
    queue = client.get("/v1/queue", headers=chen).json()
    assert [c["id"] for c in queue][0] == early and queue[0]["overdue"] is True
    assert [c["id"] for c in queue] == [early, later]
    assert {c["why"] for c in queue} == {"all"}
    assert all(c["id"] not in {early, later} for c in client.get("/v1/queue", headers=login("li")).json())
    assert client.get(f"/v1/cases/{later}/actions", headers=chen).json() == []
    reply = client.post(
        f"/v1/cases/{later}/actions/notify_department",
        json={"role": "manager", "inputs": {}},
        headers=chen | {"If-Match": '"1"'},
    )
    assert reply.status_code == 409 and "chen (manager) may not take action" in reply.json()["detail"]
    assert client.get("/v1/report", params={"period": "2025-09"}, headers=chen).status_code == 200


def test_a_process_describes_its_fields_for_the_new_complaint_form(api):
    client, _, login, _ = api
    spec = client.get("/v1/processes/property_management", headers=login("wang")).json()
    assert spec["initial_state"] == "received" and spec["states"]["received"]["owner"] == "receiver"
    channel, name = spec["fields"]["channel"], spec["fields"]["customer_name"]
    assert channel["type"] == "enum" and channel["values"] == ["oral", "written", "phone_call"]
    assert name["required"] is True and name["pii"] is True and name["title"] == "客户姓名"
    assert spec["role_titles"]["receiver"]["en"] == "Person who takes the complaint"
    assert spec["deadlines"]["notify_3m"]["rule"] == "within 3m"


def test_the_report_answers_json_and_a_csv_with_a_byte_order_mark(api):
    client, clock, login, _ = api
    wang = login("wang")
    _open(client, wang, data={"customer_name": "李雷", "subject": "电梯故障", "classification": "routine"})
    clock.move_to("2025-09-30 10:00")
    wang = login("wang")  # a session lasts 12 hours
    report = client.get("/v1/report", params={"period": "2025-09", "households": 10}, headers=wang).json()
    assert report["cases"] == 1 and report["complaint_rate"]["rate"] == 0.1
    assert report["complaint_rate"]["verdict"] == "MISS" and "10.00%" in report["complaint_rate_line"]
    reply = client.get("/v1/report", params={"period": "2025-09", "format": "csv"}, headers=wang)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/csv")
    assert 'filename="complaintflow-report-2025-09.csv"' in reply.headers["content-disposition"]
    assert reply.content.startswith(b"\xef\xbb\xbf") and not reply.content.startswith(b"\xef\xbb\xbf" * 2)
    rows = list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))
    assert rows[0][0].startswith("# ")
    bad = client.get("/v1/report", params={"period": "2025-13"}, headers=wang)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert "month must be 01..12" in bad.json()["detail"]


def test_logging_out_revokes_the_session(api):
    client, _, login, _ = api
    wang = login("wang")
    assert client.get("/v1/me", headers=wang).status_code == 200
    assert client.delete("/v1/sessions", headers=wang).status_code == 204
    again = client.get("/v1/me", headers=wang)
    assert again.status_code == 401 and again.json()["type"].endswith("unauthenticated")


def test_every_page_path_serves_the_shell_under_a_strict_policy(api):
    client = api[0]
    for path in ["/", "/queue", "/new", "/report", "/login", "/cases/0123456789ab"]:
        reply = client.get(path)
        assert reply.status_code == 200 and b'<script type="module" src="/assets/js/main.js">' in reply.content
        policy = reply.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy and "unsafe" not in policy
    for path in ["/studio", "/studio/shopping_mall"]:  # its editor and diagrams carry their own <style>
        policy = client.get(path).headers["content-security-policy"]
        assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'self';" in policy
        assert policy.count("unsafe") == 1  # scripts stay 'self' only


def test_assets_are_served_and_nothing_outside_their_folder(api):
    client = api[0]
    script = client.get("/assets/js/main.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    icon = client.get("/favicon.ico")  # asked for by browsers whatever the page links
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    for bad in ["/assets/../app.py", "/assets/%2e%2e/app.py", "/assets/js/../../routes.py", "/assets/nope.js"]:
        assert client.get(bad).status_code == 404, bad


def test_the_pages_load_nothing_from_another_origin():
    static = ROOT / "engine" / "service" / "web" / "static"
    # vendor/ holds libraries' own builds (CodeMirror, Mermaid), whose strings name URLs they never load;
    # what the pages really fetch is checked in the browser (no request leaves 127.0.0.1)
    texts = {
        p.name: p.read_text(encoding="utf-8")
        for p in static.rglob("*")
        if p.is_file() and "vendor" not in p.relative_to(static).parts
    }
    assert {"index.html", "main.js", "app.css", "case.js", "queue.js", "new.js", "report.js"} <= set(texts)
    for name, text in texts.items():
        for line in text.splitlines():
            if "http://" in line or "https://" in line or "//cdn" in line:
                assert "www.w3.org/2000/svg" in line, f"{name}: {line.strip()}"


def test_a_wheel_carries_every_page_file(tmp_path):
    import zipfile

    from hatchling.builders.wheel import WheelBuilder

    (wheel,) = WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    static = ROOT / "engine" / "service" / "web" / "static"
    wanted = {"complaintflow/service/web/static/" + p.relative_to(static).as_posix() for p in static.rglob("*.*")}
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert wanted and wanted <= names, sorted(wanted - names)
    assert not any(n.startswith("tests/") or "axe" in n for n in names)  # axe-core is for the tests only


def test_the_case_list_searches_by_phone_customer_text_and_opening_days(api):
    client, clock, login, _ = api
    wang = login("wang")
    first = _open(client, wang, data={"customer_name": "李雷", "subject": "电梯故障", "phone": "13900000001"})
    clock.move_to("2025-10-01 09:00")
    wang = login("wang")  # a session lasts 12 hours
    second = _open(client, wang, data={"customer_name": "Han Meimei", "subject": "噪音扰民", "phone": "13900000002"})

    def found(**params):
        reply = client.get("/v1/cases", params=params, headers=wang)
        assert reply.status_code == 200, reply.text
        return [c["id"] for c in reply.json()["items"]]

    assert found(phone="139 0000 0002") == [second]  # the digits, wherever the spaces are
    assert found(phone="13900000001") == [first]
    assert found(q="han mei") == [second]  # any text value, ignoring case
    assert found(q="电梯") == [first]
    assert found(opened_from="2025-09-29", opened_to="2025-09-29") == [first]  # a whole local day
    assert found(opened_from="2025-09-30") == [second]
    assert found(opened_from="2025-09-29 10:00", opened_to="2025-10-01 09:00") == [first]  # the end is exclusive
    assert found(q="李雷", opened_from="2025-09-30") == []


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"opened_from": "yesterday"}, "opened_from: cannot read 'yesterday'"),
        ({"opened_to": "2025-13-01"}, "opened_to: cannot read '2025-13-01'"),
        ({"opened_from": "2025-10-02", "opened_to": "2025-10-01"}, "the range ends before it starts"),
        ({"opened_from": "2025-10-01", "timezone": "Mars/Base"}, "timezone: unknown timezone 'Mars/Base'"),
        ({"phone": "abc"}, "phone: 'abc' has no digits"),
    ],
)
def test_a_bad_search_is_a_problem_document_naming_the_parameter(api, params, words):
    client, _, login, _ = api
    reply = client.get("/v1/cases", params=params, headers=login("wang"))
    assert reply.status_code == 422
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert words in reply.json()["detail"]


def test_docs_web_shows_a_small_screenshot_of_each_page():
    text = (ROOT / "docs" / "web.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\((img/[^)]+\.png)\)", text)
    for name in ("login", "queue", "new", "case", "report", "studio"):
        assert f"img/web-{name}.png" in images, name
    for image in images:
        png = ROOT / "docs" / image
        assert png.read_bytes().startswith(b"\x89PNG"), image
        assert png.stat().st_size < 150_000, f"{image} is {png.stat().st_size} bytes (python -m tests.web.screenshots)"
