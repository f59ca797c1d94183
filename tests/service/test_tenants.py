"""Two tenants on one real ``complaintflow serve``: each token sees its own tenant's cases, processes,
users, tokens and deliveries, and a case of the other tenant is as absent as one that never was; a
channel restricted to one tenant carries only its messages, addressed only to its people. On SQLite, and
once on PostgreSQL."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fakes.receivers import FakeWebhookReceiver

from .serving import COMMAND, Served, eventually, serving
from .test_serve import CASE

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
SECRETS = {"CF_HOOK_SECRET": "whsec-1"}
CONFIG = {
    "scheduler": {"poll_seconds": 0.05},
    "channels": {"acme-hook": {"kind": "webhook", "secret_env": "CF_HOOK_SECRET", "tenants": ["acme"]}},
}
# Bolt's own text of the same process id and version as Acme's: another title, so another hash.
BOLT_PROCESS = (
    (PROCESSES / "property_management.yaml")
    .read_text(encoding="utf-8")
    .replace("title: {zh: 客户投诉处理流程图（中山市浩广物业管理服务有限公司）", "title: {zh: 博尔特物业投诉流程", 1)
)


def cli(db: str, *args: str) -> str:
    """A command of the installed CLI on the service's store, while the service runs."""
    done = subprocess.run([*COMMAND, *args, "--db", db], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class Desk:
    """The running service, with each tenant's admin and clerk (made with the CLI) and their cases."""

    def __init__(self, served: Served, db: str, hook: FakeWebhookReceiver) -> None:
        self.served, self.hook = served, hook
        self.tokens: dict[str, str] = {}
        for tenant in ("acme", "bolt"):
            cli(db, "users", "add", f"{tenant}-boss", "--name", f"{tenant} boss", "--admin", "--tenant", tenant)
            cli(db, "users", "add", f"{tenant}-wang", "--name", f"{tenant} 王芳", "--role", "receiver",
                "--tenant", tenant)  # fmt: skip
            for who in ("boss", "wang"):
                self.tokens[f"{tenant}-{who}"] = cli(db, "tokens", "create", f"{tenant}-{who}")
        with served.client(served.admin_token) as admin:  # a default-tenant clerk holding the same role
            assert admin.post("/v1/users", json={"id": "dflt-wang", "name": "d", "roles": ["receiver"]}).is_success
        for name in ("property_management", "shopping_mall"):
            self.call("acme-boss", "post", "/v1/processes", content=(PROCESSES / f"{name}.yaml").read_bytes())
        self.call("bolt-boss", "post", "/v1/processes", content=BOLT_PROCESS.encode())
        self.case_a = self.call("acme-wang", "post", "/v1/cases", json=CASE).json()
        self.case_b = self.call("bolt-wang", "post", "/v1/cases", json=CASE).json()

    def call(self, who: str, method: str, path: str, **kw: Any) -> Any:
        with self.served.client(self.tokens[who]) as http:
            return getattr(http, method)(path, **kw)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def desk(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tenants")
    if request.param == "sqlite":
        db = str(folder / "desk.db")
    else:
        db = str(request.getfixturevalue("postgres_server").new_store())
    with FakeWebhookReceiver("whsec-1") as hook:
        config = json.loads(json.dumps(CONFIG))
        config["channels"]["acme-hook"]["url"] = hook.url
        with serving(folder, db=db, config=json.dumps(config), env=SECRETS) as served:  # type: ignore[arg-type]
            yield Desk(served, db, hook)


def _absent(answer: Any) -> None:
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/not-found")


def test_every_case_endpoint_answers_404_for_another_tenants_case(desk):
    a = desk.case_a["id"]
    for who, method, path, kw in (
        ("bolt-wang", "get", f"/v1/cases/{a}", {}),
        ("bolt-wang", "get", f"/v1/cases/{a}/actions", {}),
        ("bolt-wang", "post", f"/v1/cases/{a}/actions/notify_department",
         {"json": {"role": "receiver"}, "headers": {"If-Match": '"1"'}}),
        ("bolt-wang", "put", f"/v1/cases/{a}/assignee", {"json": {"user": "bolt-wang"}}),
        ("bolt-wang", "get", f"/v1/cases/{a}/history", {}),
        ("bolt-wang", "get", f"/v1/cases/{a}/timers", {}),
        ("bolt-wang", "get", f"/v1/cases/{a}/verify", {}),
        ("bolt-boss", "get", f"/v1/cases/{a}/personal-data", {}),
        ("bolt-boss", "post", f"/v1/cases/{a}/erasure", {"json": {"reason": "asked"}}),
    ):  # fmt: skip
        _absent(desk.call(who, method, path, **kw))
    # nothing of it changed: Acme still reads its case as it was, unassigned, with its personal data
    case = desk.call("acme-wang", "get", f"/v1/cases/{a}").json()
    assert (case["revision"], case["assignee"], case["data"]["customer_name"]) == (1, None, "李雷")
    assert desk.call("acme-wang", "get", f"/v1/cases/{a}/verify").json() == {"intact": True, "problems": []}


def test_lists_searches_queues_and_reports_hold_only_the_callers_tenant(desk):
    a, b = desk.case_a["id"], desk.case_b["id"]
    for who, own in (("acme-wang", a), ("bolt-wang", b)):
        for params in ({}, {"q": "电梯"}, {"phone": "139"}, {"open": "true"}):
            listed = desk.call(who, "get", "/v1/cases", params=params).json()["items"]
            assert [c["id"] for c in listed] == [own], (who, params)
        assert [c["id"] for c in desk.call(who, "get", "/v1/queue").json()] == [own]
    with desk.served.client(desk.served.admin_token) as admin:  # the default tenant has no case
        assert admin.get("/v1/cases").json()["items"] == []
    report = desk.call("bolt-boss", "get", "/v1/report", params={"period": "2025-09"}).json()
    assert '"' + a + '"' not in json.dumps(report)


def test_each_tenant_lists_and_deploys_its_own_processes(desk):
    acme = {p["id"]: p for p in desk.call("acme-wang", "get", "/v1/processes").json()}
    bolt = {p["id"]: p for p in desk.call("bolt-wang", "get", "/v1/processes").json()}
    assert sorted(acme) == ["property_management", "shopping_mall"] and sorted(bolt) == ["property_management"]
    assert acme["property_management"]["version"] == bolt["property_management"]["version"] == 1
    assert acme["property_management"]["hash"] != bolt["property_management"]["hash"]  # Bolt's own text
    assert desk.case_a["process_hash"] == acme["property_management"]["hash"]
    assert desk.case_b["process_hash"] == bolt["property_management"]["hash"]
    assert desk.call("bolt-wang", "get", "/v1/processes/property_management").json()["title"] == "博尔特物业投诉流程"
    _absent(desk.call("bolt-wang", "get", "/v1/processes/shopping_mall"))
    shop = {"process": "shopping_mall", "role": "cs_centre", "data": {"customer_name": "李雷", "content": "x"}}
    _absent(desk.call("bolt-wang", "post", "/v1/cases", json=shop))  # Acme's process is not Bolt's to use
    with desk.served.client(desk.served.admin_token) as admin:  # the bundled files are the default tenant's
        bundled = {p["id"] for p in admin.get("/v1/processes").json()}
    assert {"property_management", "shopping_mall", "service_desk"} <= bundled


def test_an_admin_manages_only_its_own_tenants_users_and_tokens(desk):
    users = desk.call("acme-boss", "get", "/v1/users").json()
    assert sorted(u["id"] for u in users) == ["acme-boss", "acme-wang"] and {u["tenant"] for u in users} == {"acme"}
    assert desk.call("acme-wang", "get", "/v1/me").json()["tenant"] == "acme"
    bolt_token_id = desk.tokens["bolt-wang"][4:12]
    for method, path, kw in (
        ("patch", "/v1/users/bolt-wang", {"json": {"name": "taken over"}}),
        ("delete", "/v1/users/bolt-wang", {}),
        ("post", "/v1/tokens", {"json": {"user": "bolt-wang"}}),
        ("delete", f"/v1/tokens/{bolt_token_id}", {}),
    ):
        _absent(desk.call("acme-boss", method, path, **kw))
    assert desk.call("bolt-wang", "get", "/v1/me").json()["name"] == "bolt 王芳"  # still there, token still live
    taken = desk.call("acme-boss", "post", "/v1/users", json={"id": "bolt-wang", "name": "x"})
    assert taken.status_code == 409  # a user id is unique across tenants
    added = desk.call("acme-boss", "post", "/v1/users", json={"id": "acme-li", "name": "李雷"}).json()
    assert added["tenant"] == "acme"


def test_a_channel_restricted_to_one_tenant_carries_only_its_breaches_to_its_people(desk):
    desk.served.set_clock("2025-09-29 10:04")  # both cases' 3-minute notices are breached at 10:03
    a, b = desk.case_a["id"], desk.case_b["id"]

    def breaches(case_id: str) -> list[dict[str, Any]]:
        return [r.json for r in desk.hook.accepted if r.json["data"]["case_id"] == case_id]

    eventually(lambda: breaches(a), "Acme's breach on Acme's channel")

    def bolt_breached() -> bool:
        history = desk.call("bolt-wang", "get", f"/v1/cases/{b}/history").json()
        return any(e["kind"] == "deadline_breached" for e in history)

    eventually(bolt_breached, "Bolt's case to breach too")
    eventually(lambda: not desk.call("acme-boss", "get", "/v1/deliveries", params={"status": "pending"}).json(),
               "Acme's deliveries to be sent")  # fmt: skip
    assert not breaches(b)  # Bolt's messages are not this channel's
    for event in breaches(a):
        assert {r["user_id"] for r in event["data"]["recipients"]} <= {"acme-wang", "acme-boss"}
    assert any(r["user_id"] == "acme-wang" for e in breaches(a) for r in e["data"]["recipients"])
    acme = desk.call("acme-boss", "get", "/v1/deliveries").json()
    assert acme and all(d["message_id"].startswith(a) for d in acme)
    assert desk.call("bolt-boss", "get", "/v1/deliveries").json() == []
    redrive = desk.call("bolt-boss", "post", f"/v1/deliveries/{acme[0]['id']}/redrive")
    assert redrive.status_code == 409  # another tenant's delivery is not Bolt's to touch
    with desk.served.client() as http:  # /metrics tells each tenant's deliveries and attempts apart
        scraped = http.get("/metrics").text
    delivered = f'complaintflow_deliveries{{channel="acme-hook",status="delivered",tenant="acme"}} {len(acme)}.0'
    assert delivered in scraped, scraped
    assert 'complaintflow_delivery_attempts_total{channel="acme-hook",outcome="delivered",tenant="acme"}' in scraped
    assert 'tenant="bolt"' not in scraped  # Bolt has no deliveries, so no series
