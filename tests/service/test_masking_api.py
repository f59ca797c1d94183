"""The HTTP API masks personal data by the calling user's roles in every case representation: a started,
read, listed, queued or acted-on case, its history, and a repeated start's first reply. A user with the
front desk role sees the phone number; an engineer, and an admin token without a role, see ``***``; the
phone number appears in no reply to them, nor in the stored idempotent reply."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from complaintflow.service import auth
from complaintflow.service.app import create_app
from complaintflow.service.build import build_desk
from complaintflow.service.metrics import Metrics
from complaintflow.store.directory import User
from tests.service.test_desk import FakeClock
from tests.test_masking import CALLBACK, PHONE, PROCESS

DATA = {"phone": PHONE, "customer_name": "张先生", "subject": "漏水"}


@pytest.fixture
def api(tmp_path: Path):
    folder = tmp_path / "processes"
    folder.mkdir()
    (folder / "desk.yaml").write_text(PROCESS, encoding="utf-8")
    clock = FakeClock("2025-09-29 10:00")
    db = tmp_path / "desk.db"
    desk = build_desk(str(db), folder, clock)
    people = {"fang": (("frontdesk",), False), "gong": (("engineer",), False), "boss": ((), True)}
    tokens = {}
    for user_id, (roles, admin) in people.items():
        desk.directory.add_user(User(user_id, user_id, roles, {}, admin), 0)
        secret, _ = auth.issue(desk.directory, user_id, "token", 0)
        tokens[user_id] = {"Authorization": f"Bearer {secret}"}
    yield TestClient(create_app(desk, Metrics())), tokens, db
    desk.close()


def _start(client: TestClient, who: dict[str, str], key: str | None = None):
    headers = who | ({"Idempotency-Key": key} if key else {})
    body = {"process": "desk", "role": "frontdesk", "data": DATA}
    reply = client.post("/v1/cases", json=body, headers=headers)
    assert reply.status_code == 201, reply.text
    return reply


def test_the_front_desk_sees_the_phone_and_an_engineer_sees_stars(api) -> None:
    client, tokens, _ = api
    started = _start(client, tokens["fang"]).json()
    assert started["data"]["phone"] == PHONE and started["hidden"] == []
    case_id = started["id"]
    reply = client.post(
        f"/v1/cases/{case_id}/actions/dispatch",
        json={"role": "frontdesk", "inputs": {"callback_phone": CALLBACK}},
        headers=tokens["fang"] | {"If-Match": '"1"'},
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["data"]["callback_phone"] == CALLBACK
    seen = client.get(f"/v1/cases/{case_id}", headers=tokens["fang"]).json()
    assert seen["data"]["phone"] == PHONE
    history = client.get(f"/v1/cases/{case_id}/history", headers=tokens["fang"]).json()
    assert history[1]["payload"]["inputs"] == {"callback_phone": CALLBACK}

    engineer = client.get(f"/v1/cases/{case_id}", headers=tokens["gong"]).json()
    assert engineer["data"] == {**DATA, "phone": "***", "callback_phone": "***"}
    assert engineer["hidden"] == ["callback_phone", "phone"]
    for who in ("gong", "boss"):  # an admin token without a role sees masked data too
        replies = [
            client.get(f"/v1/cases/{case_id}", headers=tokens[who]),
            client.get("/v1/cases", headers=tokens[who]),
            client.get("/v1/queue", headers=tokens[who]),
            client.get(f"/v1/cases/{case_id}/history", headers=tokens[who]),
        ]
        for r in replies:
            assert r.status_code == 200, r.text
            assert PHONE not in r.text and CALLBACK not in r.text, (who, r.url)
    assert "张先生" not in client.get(f"/v1/cases/{case_id}", headers=tokens["boss"]).text
    closed = client.post(
        f"/v1/cases/{case_id}/actions/close", json={"role": "engineer"}, headers=tokens["gong"] | {"If-Match": '"2"'}
    )
    assert closed.status_code == 200, closed.text
    assert PHONE not in closed.text and closed.json()["data"]["customer_name"] == "张先生"


def test_a_phone_search_finds_only_cases_whose_phone_the_caller_may_see(api) -> None:
    client, tokens, _ = api
    case_id = _start(client, tokens["fang"]).json()["id"]
    found = client.get("/v1/cases", params={"phone": PHONE}, headers=tokens["fang"]).json()["items"]
    assert [c["id"] for c in found] == [case_id]

    def search(who: str, **params: str) -> list[str]:
        reply = client.get("/v1/cases", params=params, headers=tokens[who])
        assert reply.status_code == 200, reply.text
        return [c["id"] for c in reply.json()["items"]]

    assert search("gong", phone=PHONE) == [] and search("gong", phone=PHONE[-4:]) == []
    assert search("gong", q=PHONE) == [] and search("gong", q="***") == []
    assert search("fang", q=PHONE[3:]) == [case_id]
    assert search("gong", q="张先生") == [case_id]  # the name is for every role of the process


def test_a_repeated_start_replays_the_reply_masked_for_the_caller_and_stores_no_phone(api) -> None:
    client, tokens, db = api
    first = _start(client, tokens["fang"], key="form-1").json()
    again = _start(client, tokens["fang"], key="form-1").json()
    assert again["id"] == first["id"] and again["data"]["phone"] == PHONE
    with sqlite3.connect(db) as raw:
        stored = [row[0] for row in raw.execute("SELECT response FROM svc_idempotency")]
    assert stored and all(PHONE not in text and "张先生" not in text for text in stored)
