"""``complaintflow serve`` on a PostgreSQL store, met over HTTP: the cases, users and tokens are in the
database (no directory file), and the scheduler fires the deadlines there."""

from __future__ import annotations

from service.serving import eventually, serving
from service.test_serve import CASE, _user

from complaintflow import Engine

from .test_postgres import _sql


def test_serve_keeps_cases_users_and_tokens_in_postgresql(postgres_url, tmp_path):
    with serving(tmp_path, db=postgres_url, config="scheduler: {poll_seconds: 0.05}\n") as desk:
        assert any("store postgresql://" in line for line in desk.lines)
        assert not any("deprecated" in line for line in desk.lines)
        token = _user(desk, "wang", ["receiver", "front_desk"])
        with desk.client(token) as http:
            opened = http.post("/v1/cases", json=CASE)
            assert opened.status_code == 201, opened.text
            case_id = opened.json()["id"]
            desk.set_clock("2025-09-29 10:04")  # the 3-minute notice ran out at 10:03

            def breached() -> bool:
                events = http.get(f"/v1/cases/{case_id}/history").json()
                return any(e["kind"] == "deadline_breached" for e in events)

            eventually(breached, "the scheduler to fire the breach")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clock.txt", "serve.yaml"]  # no directory file
    assert ("wang",) in _sql(postgres_url, "SELECT id FROM svc_users")
    engine = Engine(postgres_url)
    assert "deadline_breached" in [e.kind for e in engine.history(case_id)]
    assert engine.verify() == []
    engine.close()
