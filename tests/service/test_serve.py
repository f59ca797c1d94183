"""`complaintflow serve` met as a user meets it: a real subprocess on a free port, spoken to over HTTP."""

from __future__ import annotations

import hashlib
import signal

import pytest

from .serving import Served, eventually, serving

CASE = {
    "process": "property_management",
    "role": "receiver",
    "data": {"customer_name": "李雷", "phone": "13900000000", "subject": "电梯故障", "channel": "phone_call"},
}


def _user(served: Served, user_id: str, roles: list[str]) -> str:
    with served.client(served.admin_token) as admin:
        made = admin.post("/v1/users", json={"id": user_id, "name": user_id, "roles": roles})
        assert made.status_code == 201, made.text
        token = admin.post("/v1/tokens", json={"user": user_id}).json()["token"]
    return str(token)


def _digest(path) -> str:
    """The store's bytes: the database file and its write-ahead log (the -shm index changes on reads)."""
    parts = [path, path.with_name(path.name + "-wal")]
    return hashlib.sha256(b"".join(p.read_bytes() for p in parts if p.exists())).hexdigest()


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("serve"), config="scheduler: {poll_seconds: 0.05}\n") as served:
        yield served


@pytest.fixture(scope="module")
def clerk(desk):
    return _user(desk, "clerk", ["receiver"])


def test_a_new_store_prints_an_admin_token_once_and_the_address(desk):
    assert desk.admin_token.startswith("cft_")
    assert sum("admin token" in line for line in desk.lines) == 1
    with desk.client() as anonymous:
        assert anonymous.get("/healthz").json() == {"status": "ok"}
        refused = anonymous.get("/v1/processes")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/unauthenticated")


def test_a_case_opened_over_http_breaches_when_the_clock_passes_its_deadline(desk):
    token = _user(desk, "wang", ["receiver", "front_desk"])
    desk.set_clock("2025-09-29 10:00")
    with desk.client(token) as http:
        opened = http.post("/v1/cases", json=CASE, headers={"Idempotency-Key": "call-1"})
        assert opened.status_code == 201, opened.text
        case = opened.json()
        assert opened.headers["etag"] == '"1"' and case["state"] == "received"
        assert set(case["clocks"]) >= {"notify_3m"}
        desk.set_clock("2025-09-29 10:04")  # the 3-minute notice ran out at 10:03

        def breached():
            events = http.get(f"/v1/cases/{case['id']}/history").json()
            return [e for e in events if e["kind"] == "deadline_breached"]

        (breach,) = eventually(breached, "the 3-minute breach")
        assert breach["payload"]["deadline"] == "notify_3m"
        # The event keeps its true due time, not the moment the scheduler saw it.
        assert breach["at"] == case["opened_at"] + 180
        kinds = [e["kind"] for e in http.get(f"/v1/cases/{case['id']}/history").json()]
        assert "escalated" in kinds
        assert http.get(f"/v1/cases/{case['id']}/verify").json() == {"intact": True, "problems": []}
    metrics = desk.client().get("/metrics").text
    assert 'complaintflow_timer_events_total{kind="deadline_breached"}' in metrics


def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_body(desk):
    token = _user(desk, "li", ["receiver"])
    with desk.client(token) as http:
        first = http.post("/v1/cases", json=CASE, headers={"Idempotency-Key": "form-7"})
        again = http.post("/v1/cases", json=CASE, headers={"Idempotency-Key": "form-7"})
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        other = dict(CASE, data=dict(CASE["data"], subject="漏水"))
        refused = http.post("/v1/cases", json=other, headers={"Idempotency-Key": "form-7"})
        assert refused.status_code == 422
        assert refused.json()["type"].endswith("/idempotency-key-reused")
        opened = http.get("/v1/cases", params={"phone": "13900000000", "limit": 500}).json()["items"]
        assert sum(c["id"] == first.json()["id"] for c in opened) == 1


def test_acting_needs_the_current_revision_and_a_role_the_user_holds(desk):
    token = _user(desk, "zhao", ["receiver"])
    outsider = _user(desk, "qian", ["dept_head"])
    with desk.client(token) as http:
        case = http.post("/v1/cases", json=CASE).json()
        url = f"/v1/cases/{case['id']}/actions/notify_department"
        offered = {a["action"] for a in http.get(f"/v1/cases/{case['id']}/actions").json()}
        assert "notify_department" in offered
        missing = http.post(url, json={"role": "receiver"})
        assert missing.status_code == 428
        stale = http.post(url, json={"role": "receiver"}, headers={"If-Match": '"7"'})
        assert stale.status_code == 412 and stale.json()["revision"] == 1
        with desk.client(outsider) as other:
            forbidden = other.post(url, json={"role": "receiver"}, headers={"If-Match": '"1"'})
        assert forbidden.status_code == 403 and forbidden.json()["type"].endswith("/role-not-held")
        done = http.post(url, json={"role": "receiver"}, headers={"If-Match": '"1"'})
        assert done.status_code == 200, done.text
        assert done.json()["state"] == "department_notified" and done.headers["etag"] == '"2"'
        history = http.get(f"/v1/cases/{case['id']}/history").json()
        assert history[-1]["actor"] == "zhao" if history[-1]["kind"] == "acted" else True
        assert any(e["kind"] == "acted" and e["actor"] == "zhao" for e in history)
        again = http.post(url, json={"role": "receiver"}, headers={"If-Match": '"2"'})
        assert again.status_code == 409 and again.json()["type"].endswith("/refused")


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "kind"),
    [
        (
            "post",
            "/v1/cases",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            422,
            "invalid-request",
        ),
        ("post", "/v1/cases", {"json": {"process": 5, "role": []}}, 422, "invalid-request"),
        ("post", "/v1/cases", {"json": dict(CASE, process="no_such")}, 404, "not-found"),
        ("post", "/v1/cases", {"json": dict(CASE, role="customer_centre")}, 403, "role-not-held"),
        ("post", "/v1/cases", {"json": dict(CASE, data={"subject": "缺姓名"})}, 422, "refused"),
        ("get", "/v1/cases/nope", {}, 404, "not-found"),
        (
            "post",
            "/v1/cases/nope/actions/x",
            {"json": {"role": "receiver"}, "headers": {"If-Match": '"1"'}},
            404,
            "not-found",
        ),
        (
            "post",
            "/v1/cases",
            {"content": b"x" * 10_000_001, "headers": {"content-type": "application/json"}},
            413,
            "too-large",
        ),
        (
            "post",
            "/v1/cases",
            {"content": (b"x" * 100_000 for _ in range(30)), "headers": {"content-type": "application/json"}},
            413,
            "too-large",
        ),
        ("get", "/v1/users", {}, 403, "admin-only"),
    ],
)
def test_bad_input_gets_a_problem_document_and_changes_nothing(desk, clerk, method, path, kwargs, status, kind):
    token = clerk
    before = _digest(desk.db)
    with desk.client(token) as http:
        answer = getattr(http, method)(path, **kwargs)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"].endswith("/" + kind) and body["status"] == status and body["detail"]
    assert _digest(desk.db) == before


def test_a_bad_or_revoked_token_is_refused(desk):
    token = _user(desk, "han", ["receiver"])
    with desk.client(token[:-1] + ("A" if token[-1] != "A" else "B")) as typo:
        assert typo.get("/v1/processes").json()["detail"].startswith("the token is malformed")
    with desk.client(desk.admin_token) as admin:
        tokens_id = token[4:12]
        assert admin.delete(f"/v1/tokens/{tokens_id}").status_code == 204
    with desk.client(token) as http:
        refused = http.get("/v1/processes")
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


def test_validate_returns_the_positioned_problems_the_cli_prints(desk):
    with desk.client(desk.admin_token) as http:
        bad = "process: x\nversion: 1\nstates: {a: {title: {zh: 甲}, initial: true}}\nbogus: 1\n"
        answer = http.post("/v1/validate", content=bad.encode(), headers={"content-type": "application/yaml"})
    body = answer.json()
    assert answer.status_code == 200 and body["valid"] is False
    assert body["problems"] and all({"file", "line", "col", "rule", "hint"} <= set(p) for p in body["problems"])
    assert any(p["line"] == 4 for p in body["problems"])


def test_sigterm_stops_the_service_cleanly(tmp_path):
    with serving(tmp_path) as served:
        with served.client(served.admin_token) as http:
            assert http.get("/readyz").status_code == 200
        assert served.stop(signal.SIGTERM) == 0
    assert any("stopped" in line for line in served.lines)


def test_a_case_is_claimed_and_reassigned_inside_its_owner_role_and_queues_follow(desk):
    zhou = _user(desk, "zhou", ["receiver"])
    wu = _user(desk, "wu", ["receiver"])
    head = _user(desk, "zheng", ["dept_head"])
    with desk.client(zhou) as http:
        case = http.post("/v1/cases", json=CASE).json()
        url = f"/v1/cases/{case['id']}/assignee"
        assert http.put(url, json={"user": "zhou"}).json()["assignee"] == "zhou"
        assert http.get(f"/v1/cases/{case['id']}").json()["assignee"] == "zhou"
        queue = http.get("/v1/queue").json()
        assert queue[0]["id"] == case["id"] and queue[0]["assignee"] == "zhou"  # what I hold comes first
        refused = http.put(url, json={"user": "zheng"})
        assert refused.status_code == 422 and "does not hold" in refused.json()["detail"]
        assert http.put(url, json={"user": "wu"}).status_code == 200
    with desk.client(head) as other:
        assert other.put(url, json={"user": "zheng"}).status_code == 403
        assert all(c["id"] != case["id"] for c in other.get("/v1/queue").json())
    with desk.client(wu) as http:
        assert http.get("/v1/queue").json()[0]["id"] == case["id"]
        assert http.put(url, json={"user": None}).json()["assignee"] is None


def test_the_service_logs_json_lines(desk):
    logged = [line for line in desk.lines if line.startswith("{")]
    assert logged, "no JSON log line"
    import json

    entries = [json.loads(line) for line in logged]
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    assert any(e["logger"] == "complaintflow.scheduler" for e in entries)


def test_a_slow_client_is_cut_off_and_others_are_still_served(tmp_path):
    import json
    import socket
    from urllib.parse import urlsplit

    config = json.dumps({"http": {"head_timeout_seconds": 0.3, "body_timeout_seconds": 0.3}})
    with serving(tmp_path, config=config) as served:
        address = urlsplit(served.base_url)
        # a head that never ends (slowloris): the service closes the connection
        with socket.create_connection((address.hostname, address.port), timeout=20) as slow:
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1")
            assert slow.recv(1024) == b""  # closed by the service, not by our 20 s timeout
        # a body that stalls: 408 as a problem document, and the connection closed
        with socket.create_connection((address.hostname, address.port), timeout=20) as slow:
            slow.sendall(
                b"POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 100\r\n\r\n{"source": '
            )
            answer = b""
            while chunk := slow.recv(4096):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer
        assert json.loads(body)["type"].endswith("/timeout")
        with served.client() as http:
            assert http.get("/healthz").json() == {"status": "ok"}


def test_an_admin_changes_a_user_and_disables_one_who_has_left(desk):
    token = _user(desk, "leaving", ["receiver"])
    with desk.client(desk.admin_token) as admin, desk.client(token) as leaving:
        changed = admin.patch("/v1/users/leaving", json={"name": "张伟", "roles": ["front_desk"]})
        assert changed.status_code == 200, changed.text
        assert changed.json()["name"] == "张伟" and changed.json()["roles"] == ["front_desk"]
        assert leaving.get("/v1/me").json()["roles"] == ["front_desk"]  # the token follows the user's roles
        assert admin.delete("/v1/users/leaving").status_code == 204
        refused = leaving.get("/v1/me")
        assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
        assert "leaving" not in [u["id"] for u in admin.get("/v1/users").json()]
        missing = admin.patch("/v1/users/leaving", json={"name": "x"})
        assert missing.status_code == 404 and missing.json()["type"].endswith("/not-found")
        # the only admin cannot be disabled, nor lose the admin role
        for answer in (admin.delete("/v1/users/admin"), admin.patch("/v1/users/admin", json={"admin": False})):
            assert answer.status_code == 409 and answer.json()["type"].endswith("/last-admin"), answer.text
        assert admin.get("/v1/me").status_code == 200


def _draft(source: str, **changes: str) -> str:
    import re

    for old, new in changes.items():
        source = re.sub(old, new, source, count=1, flags=re.M)
    return source


def test_a_process_owner_reviews_a_draft_before_publishing_it(desk, clerk):
    from complaintflow.resources import processes_dir

    source = (processes_dir() / "property_management.yaml").read_text(encoding="utf-8")
    with desk.client(clerk) as http:
        post = lambda path, text, **kw: http.post(  # noqa: E731
            path, content=text.encode(), headers={"Content-Type": "application/yaml"}, **kw
        )
        bad = _draft(source, **{r"^(\s+to: )explaining$": r"\1explainign"})
        review = post("/v1/drafts", bad).json()
        assert not review["valid"] and not review["publishable"] and "error" in review["why_not"]
        [problem] = [p for p in review["problems"] if p["rule"] == "undefined-state"]
        assert "explainign" in problem["message"] and "explaining" in problem["hint"]
        assert bad.split("\n")[problem["line"] - 1].strip() == "to: explainign"
        loosened = _draft(source, **{r"^version: \d+": "version: 2", "within: 3m": "within: 30m"})
        review = post("/v1/drafts", loosened).json()
        assert review["valid"] and review["publishable"] and review["deployed"]["version"] == 1
        assert [(c["kind"], c["what"], c["id"]) for c in review["changes"]] == [
            ("changed", "process", "property_management"),
            ("loosened", "deadline", "notify_3m"),
        ]
        assert review["mermaid"].startswith("stateDiagram-v2")
        same_version = post("/v1/drafts", _draft(source, **{"within: 3m": "within: 30m"})).json()
        assert not same_version["publishable"] and "raise the version above 1" in same_version["why_not"]
        what_if = post("/v1/drafts/what-if", loosened, params={"cases": 40}).json()
        [notify] = [d for d in what_if["changes"]["deadlines"] if d["id"] == "notify_3m"]
        assert notify["new_rule"] == "within 30m" and notify["breach_change"] < 0  # fewer breaches
        assert post("/v1/drafts/what-if", bad).status_code == 422
        too_many = post("/v1/drafts/what-if", loosened, params={"cases": 10**6})
        assert too_many.status_code == 422 and too_many.headers["content-type"] == "application/problem+json"


def test_the_language_schemas_are_served_for_editors(desk, clerk):
    with desk.client(clerk) as http:
        schema = http.get("/v1/schemas/process")
        assert schema.status_code == 200 and schema.headers["content-type"].startswith("application/schema+json")
        assert "counts_as" in schema.json()["properties"]
        missing = http.get("/v1/schemas/nothing")
        assert missing.status_code == 404 and "process, scenario, serve" in missing.json()["detail"]


def test_an_admin_exports_and_erases_a_cases_personal_data_over_http(desk):
    token = _user(desk, "meimei", ["receiver"])
    record = dict(CASE, data=dict(CASE["data"], customer_name="韩梅梅", phone="13711112222"))
    with desk.client(token) as http:
        case = http.post("/v1/cases", json=record, headers={"Idempotency-Key": "erase-me"}).json()
        refused = http.post(f"/v1/cases/{case['id']}/erasure", json={"reason": "本人要求"})
        assert refused.status_code == 403  # only an admin answers these requests
    with desk.client(desk.admin_token) as admin:
        exported = admin.get(f"/v1/cases/{case['id']}/personal-data").json()
        assert exported["personal_data"] == {"customer_name": "韩梅梅", "phone": "13711112222"}
        assert admin.post(f"/v1/cases/{case['id']}/erasure", json={"reason": " "}).status_code == 422
        bad = admin.post(f"/v1/cases/{case['id']}/erasure", json={"reason": "r", "fields": ["subject"]})
        assert bad.status_code == 422 and "not a pii field" in bad.json()["detail"]
        done = admin.post(f"/v1/cases/{case['id']}/erasure", json={"reason": "本人要求删除"})
        assert done.status_code == 200, done.text
        assert done.json()["erased"] == ["address", "customer_name", "phone"]
        assert admin.get(f"/v1/cases/{case['id']}/verify").json() == {"intact": True, "problems": []}
        last = admin.get(f"/v1/cases/{case['id']}/history").json()[-1]
        assert (last["kind"], last["actor"], last["payload"]["reason"]) == ("erased", "admin", "本人要求删除")
        assert admin.get(f"/v1/cases/{case['id']}").json()["data"]["phone"] is None
    raw = b"".join(p.read_bytes() for p in (desk.db, desk.db.with_name(desk.db.name + "-wal")) if p.exists())
    assert b"13711112222" not in raw and "韩梅梅".encode() not in raw
