"""The desk, the scheduler and the API document, in process: a fake clock, no web server, no sleeping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from complaintflow.calendar import parse_local
from complaintflow.service.app import create_app
from complaintflow.service.build import build_desk, first_run
from complaintflow.service.config import ConfigError, load_config
from complaintflow.service.metrics import Metrics
from complaintflow.service.scheduler import Scheduler
from complaintflow.store.directory import User

ROOT = Path(__file__).resolve().parent.parent.parent
OPENAPI = ROOT / "docs" / "openapi.json"


class FakeClock:
    def __init__(self, local: str):
        self.now = float(parse_local(local, "Asia/Shanghai"))

    def __call__(self) -> float:
        return self.now

    def move_to(self, local: str) -> None:
        self.now = float(parse_local(local, "Asia/Shanghai"))


@pytest.fixture
def desk(tmp_path):
    clock = FakeClock("2025-09-29 10:00")
    d = build_desk(str(tmp_path / "desk.db"), ROOT / "processes", clock)
    d.directory.add_user(User("wang", "王芳", ("receiver",), {}, False), int(clock()))
    yield d, clock
    d.close()


def _open(desk, n: int) -> list[str]:
    from complaintflow.service.auth import Caller
    from complaintflow.store.directory import Credential

    caller = Caller(desk.directory.user("wang"), Credential("x", "token", "wang", None, "", 0, None, None))
    data = {"customer_name": "李雷", "subject": "电梯故障", "channel": "phone_call"}
    return [
        desk.run(lambda: desk.start(caller, "property_management", "receiver", data, None))[1]["id"] for _ in range(n)
    ]


def test_after_downtime_the_scheduler_fires_what_was_missed_in_due_order_with_true_due_times(desk):
    d, clock = desk
    ids = _open(d, 3)
    metrics = Metrics()
    scheduler = Scheduler(d, metrics, batch=2, rounds=1)
    clock.move_to("2025-09-29 12:00")  # two hours down: breaches and several escalation steps are overdue
    fired = []
    while step := scheduler.step():
        fired += step
    assert fired, "nothing fired"
    assert [e.at for e in fired] == sorted(e.at for e in fired)  # each batch in due order
    breaches = [e for e in fired if e.kind == "deadline_breached" and e.payload["deadline"] == "notify_3m"]
    assert {e.case_id for e in breaches} == set(ids)
    assert all(e.at == parse_local("2025-09-29 10:03", "Asia/Shanghai") for e in breaches)
    assert scheduler.step() == []  # nothing fires twice
    lateness = metrics.lateness.collect()[0]
    count = next(s.value for s in lateness.samples if s.name.endswith("_count"))
    assert count == sum(1 for e in fired if e.kind in ("deadline_warning", "deadline_breached", "escalated"))
    counted = {s.labels["kind"]: s.value for s in metrics.fired.collect()[0].samples if s.name.endswith("_total")}
    assert counted == {k: sum(1 for e in fired if e.kind == k) for k in {e.kind for e in fired}}


def test_a_bounded_step_leaves_the_rest_for_the_next(desk):
    d, clock = desk
    _open(d, 5)
    clock.move_to("2025-09-29 10:04")
    scheduler = Scheduler(d, Metrics(), batch=2, rounds=1)
    first = scheduler.step()
    assert 0 < len({e.case_id for e in first}) <= 2
    rest = []
    while step := scheduler.step():
        rest += step
    assert len({e.case_id for e in first + rest if e.kind == "deadline_breached"}) == 5


def test_first_run_makes_one_admin_and_only_on_a_new_store(desk):
    d, _ = desk
    made = first_run(d, demo=False)
    assert made.admin_token and made.admin_token.startswith("cft_")
    assert first_run(d, demo=False).admin_token is None
    assert d.directory.count_admins() == 1


def test_a_second_service_starting_at_the_same_moment_makes_no_second_admin(desk, monkeypatch):
    d, _ = desk
    assert first_run(d, demo=True).admin_token
    # the other service counted the admins before this one's commit: none yet, by what it saw
    monkeypatch.setattr(d.directory, "count_admins", lambda: 0)
    again = first_run(d, demo=True)
    assert (again.admin_token, again.demo_token, again.demo_staff) == (None, None, ())
    assert [u.id for u in d.directory.users() if u.admin] == ["admin"]


def test_the_committed_openapi_document_is_the_one_the_service_serves(desk):
    # An API change must be deliberate: regenerate docs/openapi.json with
    #   python -c "from tests.service.test_desk import write_openapi; write_openapi()"
    d, _ = desk
    served = create_app(d, Metrics()).openapi()
    assert served["openapi"].startswith("3.1")
    assert json.loads(OPENAPI.read_text(encoding="utf-8")) == json.loads(json.dumps(served)), (
        "the API changed: run write_openapi() (see this test) and commit docs/openapi.json"
    )


def test_the_api_docs_page_loads_nothing_from_outside(desk):
    from complaintflow.service.docs_page import render_docs

    d, _ = desk
    page = render_docs(create_app(d, Metrics()).openapi())
    assert "/v1/cases/{case_id}/actions/{action}" in page
    assert "<script" not in page and "<link" not in page and "https://" not in page and "http://" not in page


def write_openapi() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        d = build_desk(str(Path(tmp) / "x.db"), ROOT / "processes", lambda: 0.0)
        try:
            document = create_app(d, Metrics()).openapi()
        finally:
            d.close()
    OPENAPI.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def test_a_config_typo_is_reported_at_its_line_and_column(tmp_path):
    path = tmp_path / "serve.yaml"
    path.write_text("port: 8080\nschedular: {batch: 10}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = str(caught.value)
    assert f"{path}:2:1" in text and "schedular" in text


def test_a_channel_takes_the_tenants_it_names_and_a_bad_name_is_reported_at_its_place(desk, tmp_path):
    from complaintflow.service.delivery_wiring import build_notifier

    d, _ = desk
    path = tmp_path / "serve.yaml"
    channel = "channels:\n  hook:\n    kind: webhook\n    url: https://x.example\n    secret_env: CF_X\n"
    path.write_text(channel + "    tenants: [acme, Bolt Corp]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}:6:" in str(caught.value) and "Bolt Corp" in str(caught.value)
    path.write_text(channel + "    tenants: [acme, bolt]\n", encoding="utf-8")
    config = load_config(path)
    notifier = build_notifier(
        d, Metrics(), config.channels, base_url="https://x", wall_clock=lambda: 0.0, env={"CF_X": "s"}
    )
    assert notifier is not None and notifier.routes["hook"].tenants == frozenset({"acme", "bolt"})
    route = notifier.routes["hook"]
    assert route.takes("receiver", "acme") and not route.takes("receiver", "default")


def test_a_config_is_read_into_settings(tmp_path):
    path = tmp_path / "serve.yaml"
    path.write_text("port: 9000\nscheduler: {batch: 10, poll_seconds: 0.5}\n", encoding="utf-8")
    config = load_config(path)
    assert (config.port, config.batch, config.poll_seconds) == (9000, 10, 0.5)


def test_the_calendar_watch_warns_before_the_published_data_ends(desk, caplog):
    from complaintflow.service.calendar_watch import CalendarWatch

    d, clock = desk
    metrics = Metrics()
    watch = CalendarWatch(d, metrics, horizon_days=45)
    from datetime import date, timedelta

    from complaintflow.calendar import BusinessCalendar

    spec = d.latest["default"]["property_management"]
    cal = next(c for c in spec.calendars.values() if c.statutory == "china")
    ends = BusinessCalendar.compile(cal, spec.timezone).published_until(date(2025, 1, 1))
    clock.move_to(f"{ends - timedelta(days=30)} 09:00")  # 30 days before the installed data ends
    with caplog.at_level("WARNING", logger="complaintflow.calendar"):
        left = watch.check()
    assert left and min(left.values()) == 30
    assert "published holiday data ends in 30 day(s)" in caplog.text
    assert metrics.calendar_days_left._value.get() == 30
    assert watch.check() == {}  # once per service hour, not on every step
    clock.move_to("2026-06-01 09:00")
    watch._next_at = 0
    caplog.clear()
    with caplog.at_level("WARNING", logger="complaintflow.calendar"):
        assert min(watch.check().values()) > 45
    assert "ends in" not in caplog.text


def test_the_calendar_watch_tells_the_admins_once_per_step_on_the_admin_channels(desk):
    from datetime import date, timedelta

    from complaintflow.calendar import BusinessCalendar
    from complaintflow.service.calendar_watch import CalendarWatch
    from complaintflow.service.notifier import Notifier, Route
    from complaintflow.service.notify.outcome import Delivered

    d, clock = desk
    d.directory.add_user(User("boss", "管理员", (), {"email": "boss@example.test"}, True), int(clock()))
    sent = []

    class Inbox:
        def send(self, notification):
            sent.append(notification)
            return Delivered()

    routes = {
        "ops": Route("ops", Inbox(), lambda _now: 0, roles=frozenset({"admin"})),
        "staff": Route("staff", Inbox(), lambda _now: 0, roles=frozenset({"receiver"})),
    }
    notifier = Notifier(d, Metrics(), routes)
    watch = CalendarWatch(d, Metrics(), horizon_days=45, announce=notifier.announce)
    spec = d.latest["default"]["property_management"]
    cal = next(c for c in spec.calendars.values() if c.statutory == "china")
    ends = BusinessCalendar.compile(cal, spec.timezone).published_until(date(2025, 1, 1))
    for days_before in (40, 39, 29):  # 40 and 39 are inside the same step (45), 29 inside the next (30)
        clock.move_to(f"{ends - timedelta(days=days_before)} 09:00")
        watch._next_at = 0
        watch.check()
        notifier.deliver()
    assert [n.delivery_id.rsplit(":", 1)[1] for n in sent] == ["45d", "30d"]  # the staff channel got nothing
    first = sent[0]
    assert first.kind == "calendar_data_ending" and [r.user_id for r in first.recipients] == ["boss"]
    assert "还剩 40 天" in first.text_zh and str(ends) in first.text_en
    # a second watch (a restart, or another service on the store) raises the same notice: not sent again
    CalendarWatch(d, Metrics(), horizon_days=45, announce=notifier.announce).check()
    assert notifier.deliver() == 0


def test_the_channels_example_in_docs_service_md_builds_a_notifier(desk, tmp_path):
    import re

    from complaintflow.service.delivery_wiring import build_notifier

    d, _ = desk
    text = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(# serve\.yaml.*?)```", text, re.S).group(1)
    path = tmp_path / "serve.yaml"
    path.write_text(example, encoding="utf-8")
    config = load_config(path)
    env = {name: "x" for name in re.findall(r"_env: (CF_\w+)", example)}
    notifier = build_notifier(d, Metrics(), config.channels, base_url="https://x", wall_clock=lambda: 0.0, env=env)
    assert notifier is not None and set(notifier.routes) == {"wecom", "dingtalk", "feishu", "erp", "mail"}
    assert notifier.routes["mail"].roles == frozenset({"company_leader"})
    assert notifier.routes["erp"].max_attempts == 12


def test_a_channel_whose_secret_is_not_set_stops_the_service_at_start(desk):
    from complaintflow.errors import UnusableInputError
    from complaintflow.service.delivery_wiring import build_notifier

    d, _ = desk
    with pytest.raises(UnusableInputError, match="CF_WECOM_KEY"):
        build_notifier(
            d,
            Metrics(),
            {"wecom": {"kind": "wecom", "key_env": "CF_WECOM_KEY"}},
            base_url="https://x",
            wall_clock=lambda: 0.0,
            env={},
        )


def test_a_store_from_before_leases_gains_the_lease_columns_on_open(tmp_path):
    import sqlite3

    from complaintflow.store.sqlite_directory import SQLiteDirectory

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE svc_deliveries (id TEXT PRIMARY KEY, message_id TEXT NOT NULL, channel TEXT NOT NULL, "
        "notification TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER "
        "NOT NULL, last_error TEXT, created_at INTEGER NOT NULL, done_at INTEGER)"
    )
    db.execute(
        "INSERT INTO svc_deliveries VALUES ('m:1@hook', 'm:1', 'hook', '{}', 'pending', 0, 100, NULL, 100, NULL)"
    )
    db.commit()
    db.close()
    directory = SQLiteDirectory(path)
    assert directory.claim("m:1@hook", 100, owner="w1", wall_now=1.0, lease=60)
    assert directory.delivery("m:1@hook").owner == "w1"
    directory.close()


def test_the_scheduler_logs_a_case_it_cannot_fire_once_and_fires_the_others(desk, caplog):
    import sqlite3

    d, clock = desk
    bad, good = _open(d, 2)
    db = sqlite3.connect(d.engine.store.path)
    db.execute("UPDATE cases SET last_at = last_at - 3600 WHERE id=?", (bad,))  # edited behind the engine's back
    db.commit()
    db.close()
    scheduler = Scheduler(d, Metrics())
    clock.move_to("2025-09-29 12:00")
    with caplog.at_level("ERROR", logger="complaintflow.scheduler"):
        fired = scheduler.step()
        scheduler.step()
    assert {e.case_id for e in fired} == {good}
    lines = [r.getMessage() for r in caplog.records if "was not fired" in r.getMessage()]
    assert len(lines) == 1 and bad in lines[0] and "edited outside complaintflow" in lines[0]


def test_metrics_count_deliveries_per_tenant_and_drop_a_status_no_delivery_holds_any_more(desk):
    from complaintflow.store.directory import Delivery

    d, clock = desk
    now = int(clock())
    d.directory.queue(
        [Delivery(f"m:{n}@hook", f"m:{n}", "hook", {"text": "案件"}, "pending", 0, now, None, None, tenant)
         for n, tenant in ((1, "default"), (2, "acme"), (3, "acme"))],
        now,
    )  # fmt: skip
    metrics = Metrics()

    def scraped() -> str:
        return metrics.exposition(d)[0].decode()

    assert 'complaintflow_deliveries{channel="hook",status="pending",tenant="acme"} 2.0' in scraped()
    assert 'complaintflow_deliveries{channel="hook",status="pending",tenant="default"} 1.0' in scraped()
    d.directory.record_attempt("m:1@hook", "dead", now, "401", now)
    after = scraped()
    assert 'complaintflow_deliveries{channel="hook",status="dead",tenant="default"} 1.0' in after
    assert 'status="pending",tenant="default"' not in after, after  # gone, not stuck at its last count
