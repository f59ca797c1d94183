"""Quiet hours in the service: a step with deliver: business_hours is fired at its true time by the
engine, and the notifier queues its delivery for the calendar's next opening, not before."""

from __future__ import annotations

from pathlib import Path

from test_sla import SLA

from complaintflow import Actor
from complaintflow.calendar import parse_local
from complaintflow.service.build import build_desk
from complaintflow.service.config import load_config
from complaintflow.service.delivery_wiring import build_notifier
from complaintflow.service.metrics import Metrics
from complaintflow.store.directory import User


def at(text: str) -> int:
    return parse_local(text, "Asia/Shanghai")


def test_the_message_of_a_business_hours_step_waits_for_the_opening(tmp_path: Path) -> None:
    processes = tmp_path / "processes"
    processes.mkdir()
    quiet = SLA.replace(
        "      - {role: head, do: notify, set: {severity: major}}",
        "      - {role: head, do: notify, set: {severity: major}, deliver: business_hours}",
    ).replace("within: 1h\n    guard", "within: 2d\n    guard")
    (processes / "sla.yaml").write_text(quiet, encoding="utf-8")
    now = [float(at("2026-11-06 02:00"))]
    desk = build_desk(str(tmp_path / "desk.db"), processes, lambda: now[0])
    try:
        desk.directory.add_user(User("li", "李", ("head",), {}, False), int(now[0]))
        (tmp_path / "serve.yaml").write_text(
            'channels:\n  erp: {kind: webhook, url: "https://erp.example.com/h", secret_env: CF_S}\n', encoding="utf-8"
        )
        channels = load_config(tmp_path / "serve.yaml").channels
        notifier = build_notifier(
            desk, Metrics(), channels, base_url="https://x", wall_clock=lambda: 0.0, env={"CF_S": "s"}
        )
        assert notifier is not None
        engine = desk.engine
        spec = engine.load_process(quiet.encode())
        case = engine.start(spec, {"severity": "major"}, Actor("wang", ("desk",)), at=at("2026-11-06 02:00"))
        engine.act(case.id, "dispatch", Actor("wang", ("desk",)), at=at("2026-11-06 02:00"))
        now[0] = float(at("2026-11-08 03:00"))
        step = next(e for e in engine.tick(at("2026-11-08 03:00")) if e.kind == "escalated")
        assert step.at == at("2026-11-08 02:00")  # the step keeps its true time
        notifier.drain()
        queued = {d.message_id: d for d in desk.directory.deliveries()}
        held = queued[f"{case.id}:{step.seq}"]
        assert held.next_at == at("2026-11-09 09:00")
        others = [d for mid, d in queued.items() if mid != held.message_id]
        assert others and all(d.next_at == at("2026-11-08 03:00") for d in others)  # breaches, warnings: at once
        due_now = {d.message_id for d in desk.directory.due_deliveries(at("2026-11-08 03:00"), 100)}
        assert held.message_id not in due_now
        assert held.message_id in {d.message_id for d in desk.directory.due_deliveries(at("2026-11-09 09:00"), 100)}
    finally:
        desk.close()
