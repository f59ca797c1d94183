"""Two ``complaintflow serve`` and four ``complaintflow worker`` processes on one PostgreSQL database, all
reading one clock file, sending to a signed webhook and a WeCom robot (local fakes that check the
signature and the key and count each message by its delivery id): every deadline fires once and every
message is delivered once. Then, in the middle of a second burst, kill -9 of one serve and two workers:
the others finish the burst, every deadline still fires once and every message is delivered, a repeat
only for a send the kill caught in flight (issue 16, "Done when")."""

from __future__ import annotations

import json
import signal
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import psycopg
from fakes.chat_robots import FakeWecom
from fakes.http_base import FakeHttpServer
from fakes.receivers import FakeWebhookReceiver
from helpers import MINI, at, ids
from service.serving import Served, eventually, serving

from complaintflow import Actor, Engine
from complaintflow.calendar import format_local
from complaintflow.runtime.engine import SYSTEM_ACTOR
from complaintflow.service.desk import Desk
from complaintflow.service.metrics import Metrics
from complaintflow.service.notifier import Notifier, Route
from complaintflow.service.notify.templates import NOTIFIED_KINDS
from complaintflow.store.open import open_directory

from .test_worker import Worker

SECRETS = {"CF_HOOK_SECRET": "whsec-1", "CF_WECOM_KEY": "wecom-key-1"}
WAVE = 40  # cases opened in each burst, on the two serves in turn
DISPATCHED = 10  # first-burst cases dispatched over HTTP before the second jump (their handle clock starts)
DATA = {"customer_name": "张三", "severity": "general"}
DESK = Actor("wang", ("desk",))
# Someone holds each role MINI's warnings, breaches and escalation steps go to, so every message is addressed.
PEOPLE = {"wang": ["desk"], "li": ["head"], "zhao": ["boss"], "qian": ["board"]}
TZ = "Asia/Shanghai"


class Reader:
    """The test's own reads, on one connection (one per poll would cost the server a process each)."""

    def __init__(self, url: str) -> None:
        self.db = psycopg.connect(url, autocommit=True)

    def __call__(self, statement: str) -> list[tuple]:
        return self.db.execute(statement).fetchall()  # type: ignore[arg-type]


class SharedClock:
    """The one clock file every process reads; moved by rewriting it whole."""

    def __init__(self, path: Path, now: int) -> None:
        self.path, self.now = path, now
        self.set(now)

    def set(self, now: int) -> None:
        self.now = now
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(format_local(now, TZ), encoding="utf-8")
        tmp.replace(self.path)


def _config(hook: FakeWebhookReceiver, wecom: FakeWecom) -> str:
    channels = {
        "hook": {"kind": "webhook", "url": hook.url, "secret_env": "CF_HOOK_SECRET"},
        "wecom": {"kind": "wecom", "url": wecom.url, "key_env": "CF_WECOM_KEY"},
    }
    # Small scheduler batches, so six schedulers fire one burst side by side and their commits interleave;
    # short leases, so a killed worker's send in flight is rescued within seconds (the database's clock).
    settings = {"scheduler": {"poll_seconds": 0.2, "batch": 4}, "notifier": {"lease_seconds": 3}, "channels": channels}
    return json.dumps(settings)


def _fired(sql: Reader) -> Counter[tuple[str, str, str, int]]:
    """How often each (case, deadline, kind, due instant) of a timer's event was written."""
    rows = sql(f"SELECT case_id, kind, payload, at FROM events WHERE actor = '{SYSTEM_ACTOR}'")
    return Counter((case, str(json.loads(payload).get("deadline")), kind, at) for case, kind, payload, at in rows)


def _notified(sql: Reader) -> set[str]:
    """The message id of every event the notifier turns into a message."""
    kinds = ", ".join(f"'{k}'" for k in NOTIFIED_KINDS)
    return {f"{case}:{seq}" for case, seq in sql(f"SELECT case_id, seq FROM events WHERE kind IN ({kinds})")}


def _unsettled(sql: Reader, now: int, fakes: dict[str, FakeHttpServer]) -> list[str]:
    """What is not done yet: a deadline due by ``now`` not fired, a message the store's outbox still holds or
    not queued on every channel, a delivery not delivered, or delivered but not seen by its fake server."""
    due = [case for (case,) in sql(f"SELECT id FROM cases WHERE next_due <= {now}")]
    pending = sql("SELECT count(*) FROM outbox")[0][0]
    rows = sql("SELECT message_id, channel, status, attempts, owner, last_error FROM svc_deliveries")
    queued = {(r[0], r[1]) for r in rows}
    missing = sorted((m, c) for m in _notified(sql) for c in fakes if (m, c) not in queued)
    return (
        [f"due, not fired: {case}" for case in due]
        + ([f"outbox not drained: {pending} message(s)"] if pending else [])
        + [f"never queued: {m}@{c}" for m, c in missing]
        + [f"not delivered: {r}" for r in rows if r[2] != "delivered"]
        + [f"not received: {r[0]}@{r[1]}" for r in rows if r[2] == "delivered" and fakes[r[1]].count(r[0]) == 0]
    )


def _settle(sql: Reader, clock: SharedClock, fakes: dict[str, FakeHttpServer], what: str) -> None:
    """Wait until nothing is left to do. Meanwhile the clock moves on a minute a poll: the channels' rate
    limits count on the services' clock, and nothing more falls due in these minutes."""

    def settled() -> bool:
        if not _unsettled(sql, clock.now, fakes):
            return True
        clock.set(clock.now + 60)
        return False

    try:
        eventually(settled, what, 60)
    except AssertionError as timed_out:
        left = _unsettled(sql, clock.now, fakes)
        raise AssertionError(f"{timed_out}: {len(left)} left, " + "; ".join(left[:20])) from None


def _received(fakes: dict[str, FakeHttpServer]) -> int:
    """How many messages the fake servers accepted, repeats included."""
    return sum(sum(fake.delivered.values()) for fake in fakes.values())


def _delivered_once_but_for_the_kill(sql: Reader, fakes: dict[str, FakeHttpServer], killed: int) -> None:
    """Every delivery reached its channel's receiver, which counts it once by its delivery id. "Once" after
    a kill -9: a send in flight when its worker died may have arrived before the worker could record it;
    its lease then runs out and another worker sends it again. A notifier sends one delivery at a time, so
    each killed process leaves at most one such repeat, and the repeat is the same message (same id, same
    body) that a receiver de-duplicating by delivery id drops."""
    repeats = 0
    for name, fake in fakes.items():
        assert all(r.accepted for r in fake.received), name  # every request correctly signed and well formed
        wanted = {m for (m,) in sql(f"SELECT message_id FROM svc_deliveries WHERE channel = '{name}'")}
        assert set(fake.delivered) == wanted, name
        for message_id, count in fake.delivered.items():
            if count > 1:
                bodies = {r.body for r in fake.accepted if fake.delivery_id(r) == message_id}
                assert len(bodies) == 1, (name, message_id)
                repeats += count - 1
    assert repeats <= killed, f"{repeats} repeated deliveries after killing {killed} processes"


def _open(serves: list[Served], tokens: list[str], count: int) -> list[str]:
    """``count`` cases opened over HTTP, on each serve in turn."""
    opened = []
    for n in range(count):
        with serves[n % len(serves)].client(tokens[n % len(tokens)]) as http:
            answer = http.post("/v1/cases", json={"process": "mini", "role": "desk", "data": DATA})
            assert answer.status_code == 201, answer.text
            opened.append(answer.json()["id"])
    return opened


def _dispatch(served: Served, token: str, case_id: str) -> None:
    with served.client(token) as http:
        revision = http.get(f"/v1/cases/{case_id}").headers["etag"]
        done = http.post(f"/v1/cases/{case_id}/actions/dispatch", json={"role": "desk"}, headers={"If-Match": revision})
        assert done.status_code == 200, done.text


def _alone(engine: Engine, sql: Reader, alone_url: str, process: Path, until: int) -> Engine:
    """The same cases on a store of their own: each person's start and action replayed at its instant after a
    tick to that instant (a deadline met follows from its action), and a last tick at ``until``: what the
    six processes together must have written."""
    alone = Engine(alone_url)
    spec = alone.load_process(process)
    people = sql("SELECT case_id, seq FROM events WHERE kind IN ('started', 'acted') ORDER BY pos")
    for case_id, seq in people:
        event = next(e for e in engine.history(case_id) if e.seq == seq)
        alone.tick(event.at)
        actor = Actor(event.actor, (event.role,))
        if event.kind == "started":
            alone.start(spec, DATA, actor, at=event.at, case_id=case_id)
        else:
            alone.act(case_id, event.payload["action"], actor, at=event.at)
    alone.tick(until)
    return alone


def _same_histories(engine: Engine, alone: Engine, case_ids: list[str]) -> None:
    for case_id in case_ids:
        history = [(e.seq, e.kind, e.at, e.actor) for e in engine.history(case_id)]
        assert history == [(e.seq, e.kind, e.at, e.actor) for e in alone.history(case_id)], case_id


def test_two_serves_and_four_workers_fire_each_deadline_once_and_deliver_each_message_once(
    postgres_server, postgres_url, tmp_path
):
    (tmp_path / "processes").mkdir()
    process = tmp_path / "processes" / "mini.yaml"
    process.write_text(MINI, encoding="utf-8")
    clock = SharedClock(tmp_path / "clock.txt", at("2025-11-03 10:00"))
    sql = Reader(postgres_url)
    with ExitStack() as stack:
        hook = stack.enter_context(FakeWebhookReceiver("whsec-1"))
        wecom = stack.enter_context(FakeWecom("wecom-key-1"))
        fakes: dict[str, FakeHttpServer] = {"hook": hook, "wecom": wecom}
        config = _config(hook, wecom)
        (tmp_path / "serve.yaml").write_text(config, encoding="utf-8")
        extra = ["--processes", str(tmp_path / "processes")]

        def serve(name: str) -> Served:
            (tmp_path / name).mkdir()
            return stack.enter_context(
                serving(
                    tmp_path / name, db=postgres_url, config=config, env=SECRETS, extra=extra, clock_file=clock.path
                )
            )

        first = serve("a")  # makes the store and the first admin
        workers = [
            Worker(postgres_url, tmp_path, clock.path, config=tmp_path / "serve.yaml", env=SECRETS) for _ in "1234"
        ]
        stack.callback(lambda: [w.process.kill() for w in workers if w.process.poll() is None])
        second = serve("b")
        serves = [first, second]
        for w in workers:
            eventually(lambda w=w: any("running the scheduler" in line for line in w.lines), "a worker to start", 60)
        with first.client(first.admin_token) as admin:
            for user, roles in PEOPLE.items():
                made = admin.post("/v1/users", json={"id": user, "name": user, "roles": roles})
                assert made.status_code == 201, made.text
            tokens = [admin.post("/v1/tokens", json={"user": "wang"}).json()["token"] for _ in serves]

        # First burst: warnings, breaches and three escalation steps of every case, all due by 10:30.
        opened = _open(serves, tokens, WAVE)
        clock.set(at("2025-11-03 10:30"))
        _settle(sql, clock, fakes, "the first burst to be fired and delivered")
        first_fired = _fired(sql)
        assert first_fired and set(first_fired.values()) == {1}  # no deadline twice
        for name, fake in fakes.items():  # each message once at each receiver
            assert set(fake.delivered.values()) == {1}, name
            assert set(fake.delivered) >= _notified(sql), name

        # Second burst: new cases, and some first-burst cases dispatched (their handle clock starts), then a
        # day later one serve and two workers are killed as the messages start to arrive.
        opened += _open(serves, tokens, WAVE)
        for n, case_id in enumerate(opened[:DISPATCHED]):
            _dispatch(serves[n % 2], tokens[n % 2], case_id)
        before = _received(fakes)
        clock.set(clock.now + 86_400)

        # At a frozen clock the channels' rate limits let through fewer than the burst holds: it is cut midway.
        eventually(lambda: _received(fakes) >= before + 10, "the second burst's messages to arrive", 60)
        killed = [second.process, workers[0].process, workers[1].process]
        for victim in killed:
            victim.send_signal(signal.SIGKILL)
        assert [victim.wait(timeout=30) for victim in killed] == [-signal.SIGKILL] * len(killed)
        at_kill = _received(fakes)
        _settle(sql, clock, fakes, "the rest to fire and deliver the second burst")
        assert [w.stop() for w in workers[2:]] == [0, 0], [w.lines for w in workers[2:]]
    assert at_kill < _received(fakes), "the kill came after the second burst was delivered"
    _delivered_once_but_for_the_kill(sql, fakes, len(killed))

    engine = Engine(postgres_url)
    alone_url = postgres_server.new_store()
    alone = _alone(engine, sql, alone_url, process, clock.now)
    _same_histories(engine, alone, opened)
    fired = _fired(sql)
    alone_sql = Reader(alone_url)
    assert fired == _fired(alone_sql)
    assert set(fired.values()) == {1}  # every deadline once, none lost with the killed processes, none twice
    assert engine.verify() == []
    engine.close()
    alone.close()
    sql.db.close()
    alone_sql.db.close()


class Unsent:
    def send(self, notification: object) -> None:
        raise AssertionError("draining only queues deliveries")


def test_a_message_committed_after_a_newer_one_is_still_queued(postgres_url, tmp_path):
    """Event positions are taken at insert and committed in any order: a notifier that reads while one
    process's tick is still open and a later tick of another has committed must not pass over the first
    tick's messages once they commit."""
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    slow, quick = Engine(postgres_url, new_case_id=ids("s")), Engine(postgres_url, new_case_id=ids("q"))
    slow.start(slow.load_process(tmp_path / "mini.yaml"), DATA, DESK, at=at("2025-11-03 10:00"))
    quick.start(quick.load_process(tmp_path / "mini.yaml"), DATA, DESK, at=at("2025-11-03 10:10"))
    now = at("2025-11-03 10:30")
    desk = Desk(lambda: Engine(postgres_url), lambda: open_directory(postgres_url), lambda: float(now))
    notifier = Notifier(desk, Metrics(), {"hook": Route("hook", Unsent(), lambda now: 0.0)})
    with slow.store.writing():
        early = slow.tick(at("2025-11-03 10:05"))  # s1's warning and breach: lower positions, not committed yet
        late = quick.tick(now)  # q1's, committed first (s1's row is locked: this tick passes it by)
        assert {e.case_id for e in early} == {"s1"} and {e.case_id for e in late} == {"q1"}
        notifier.drain()
    notifier.drain()
    queued = {d.message_id for d in desk.directory.deliveries(limit=1000)}
    assert {f"{e.case_id}:{e.seq}" for e in early + late if e.kind in NOTIFIED_KINDS} <= queued
    for engine in (slow, quick):
        engine.close()
    desk.close()
