"""A service killed mid-burst loses no acknowledged action; two services on one store fire nothing twice."""

from __future__ import annotations

import signal
import subprocess
import threading
from pathlib import Path

import httpx

from .serving import COMMAND, eventually, serving
from .test_serve import CASE


def _user(served, user_id: str) -> str:
    with served.client(served.admin_token) as admin:
        assert admin.post("/v1/users", json={"id": user_id, "name": user_id, "roles": ["receiver"]}).status_code == 201
        return str(admin.post("/v1/tokens", json={"user": user_id}).json()["token"])


def test_kill_9_during_a_burst_keeps_every_acknowledged_case_and_action(tmp_path):
    acknowledged: list[tuple[str, int]] = []  # (case id, revision the service answered with)
    lock = threading.Lock()
    with serving(tmp_path) as served:
        token = _user(served, "burst")
        stop = threading.Event()

        def client(n: int) -> None:
            with served.client(token) as http:
                for i in range(200):
                    if stop.is_set():
                        return
                    try:
                        opened = http.post("/v1/cases", json=CASE, headers={"Idempotency-Key": f"{n}-{i}"})
                        if opened.status_code != 201:
                            continue
                        case = opened.json()
                        with lock:
                            acknowledged.append((case["id"], 1))
                        acted = http.post(
                            f"/v1/cases/{case['id']}/actions/notify_department",
                            json={"role": "receiver"},
                            headers={"If-Match": '"1"'},
                        )
                        if acted.status_code == 200:
                            with lock:
                                acknowledged.append((case["id"], 2))
                    except httpx.HTTPError:
                        return  # the service is gone

        workers = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for w in workers:
            w.start()
        eventually(lambda: len(acknowledged) >= 40, "40 acknowledged writes")
        served.stop(signal.SIGKILL)
        stop.set()
        for w in workers:
            w.join()
        db = served.db
    assert acknowledged
    (tmp_path / "again").mkdir()
    with serving(tmp_path / "again", db=db) as again:
        with again.client(token) as http:
            for case_id, revision in acknowledged:
                got = http.get(f"/v1/cases/{case_id}")
                assert got.status_code == 200, case_id
                assert got.json()["revision"] >= revision
        again.stop()
    verified = subprocess.run([*COMMAND, "verify", "--db", str(db)], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_two_services_on_one_store_fire_each_deadline_once(tmp_path):
    db = tmp_path / "shared.db"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    config = "scheduler: {poll_seconds: 0.05, batch: 4}\n"
    with serving(tmp_path / "a", db=db, config=config) as first:
        token = _user(first, "two")
        with first.client(token) as http:
            ids = [http.post("/v1/cases", json=CASE).json()["id"] for _ in range(12)]
        with serving(tmp_path / "b", db=db, config=config) as second:
            for served in (first, second):
                served.set_clock("2025-09-29 11:00")  # past the 3-minute notice and its whole chain

            def histories() -> dict[str, list[dict]] | None:
                with first.client(token) as http:
                    got = {i: http.get(f"/v1/cases/{i}/history").json() for i in ids}
                done = all(sum(e["kind"] == "escalated" for e in h) >= 3 for h in got.values())
                return got if done else None

            got = eventually(histories, "every escalation chain to climb")
            second.stop()
        first.stop()
    for case_id, events in got.items():
        fired = [
            (e["kind"], e["payload"].get("deadline"), e["payload"].get("step")) for e in events if e["actor"] != "two"
        ]
        assert len(fired) == len(set(fired)), (case_id, fired)
        seqs = [e["seq"] for e in events]
        assert seqs == list(range(1, len(seqs) + 1)) or seqs == list(range(len(seqs)))
    assert Path(db).exists()
