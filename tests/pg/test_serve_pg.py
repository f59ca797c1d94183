"""``complaintflow serve`` on a PostgreSQL store, met over HTTP: the cases are in the database, the users
and tokens in the directory file beside it, and the scheduler fires the deadlines there."""

from __future__ import annotations

from service.serving import eventually, serving
from service.test_serve import CASE, _user

from complaintflow import Engine


def test_serve_keeps_cases_in_postgresql_and_users_in_the_directory_file(postgres_url, tmp_path):
    directory = tmp_path / "directory.db"
    extra = ["--directory", str(directory)]
    with serving(tmp_path, db=postgres_url, extra=extra, config="scheduler: {poll_seconds: 0.05}\n") as desk:
        assert any("store postgresql://" in line for line in desk.lines)
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
    assert directory.is_file()
    engine = Engine(postgres_url)
    assert "deadline_breached" in [e.kind for e in engine.history(case_id)]
    assert engine.verify() == []
    engine.close()
