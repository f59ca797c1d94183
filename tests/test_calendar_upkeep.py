"""Calendar upkeep: the estimate from the holiday law, official schedules in YAML (process file or
data file), and their precedence. Real schedules come from chinesecalendar, the estimate from
lunar-python: the test compares the two rather than trusting either's numbers."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from chinese_calendar import constants as real
from helpers import at

from complaintflow import Actor, Engine
from complaintflow.calendar import BusinessCalendar, CalendarError, format_local
from complaintflow.calendar_data import ENV_VAR
from complaintflow.holiday_law import statutory_days
from complaintflow.language.check import check_bytes, load_process_bytes
from complaintflow.language.diagnostics import format_text
from complaintflow.store.memory import MemoryStore

TZ = "Asia/Shanghai"

PROCESS = """\
process: office_flow
version: 1
title: {zh: 办公流程}
calendar: office
calendars:
  office:
    weekdays: [mon, tue, wed, thu, fri]
    hours: ["09:00-12:00", "13:30-18:00"]
    statutory: china
POLICY
roles:
  desk: {title: {zh: 前台}}
states:
  received: {title: {zh: 受理}, initial: true, owner: desk}
  closed: {title: {zh: 结案}, final: true}
actions:
  close: {title: {zh: 结案}, from: received, to: closed, roles: [desk]}
deadlines:
  answer:
    title: {zh: 4工作小时内答复}
    start: received
    within: 4wh
"""

# An official 2027 schedule as a process owner would copy it from a notice (made up for the test:
# 元旦 Fri 01-01 to Sun 01-03 and a make-up Saturday 01-09 is enough to tell it from the estimate).
SCHEDULE_2027 = """\
    schedules:
      - year: 2027
        holidays: ["2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04"]
        workdays: ["2027-01-09"]
"""


@pytest.fixture(autouse=True)
def _no_data_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def _process(policy: str = "", extra: str = ""):
    return load_process_bytes(PROCESS.replace("POLICY\n", policy + extra).encode(), "office_flow.yaml")


def _calendar(policy: str = "", extra: str = "") -> BusinessCalendar:
    return BusinessCalendar.compile(_process(policy, extra).calendars["office"], TZ)


def _due(cal: BusinessCalendar, start: str = "2026-12-31 17:00"):
    return cal.add_working_seconds(at(start), 4 * 3600)


# --------------------------------------------------------------------------- the estimate


@pytest.mark.parametrize("year", [2025, 2026])
def test_estimate_holds_every_statutory_day_of_the_real_schedule(year: int) -> None:
    estimate = set(statutory_days(year))
    off = {d for d in real.holidays if d.year == year}
    makeup = {d for d in real.workdays if d.year == year}
    assert len(estimate) == 13  # 1 + 4 + 1 + 2 + 1 + 1 + 3, no festival on the same day those years
    assert estimate <= off, sorted(estimate - off)
    # What differs is the swaps: each extra weekday off is paid back by a make-up workday, or stands
    # in for a statutory day that fell on a weekend.
    extra_weekdays_off = [d for d in off - estimate if d.weekday() < 5]
    statutory_on_weekends = [d for d in estimate if d.weekday() >= 5]
    assert len(extra_weekdays_off) == len(makeup) + len(statutory_on_weekends)


def test_estimate_names_spring_festival_from_the_eve() -> None:
    days = statutory_days(2027)
    spring = sorted(d for d, name in days.items() if name == "春节")
    assert len(spring) == 4 and spring == [spring[0] + timedelta(days=i) for i in range(4)]
    assert spring[1] == date(2027, 2, 6)  # 正月初一 of 2027 (丁未年)
    assert days[date(2027, 1, 1)] == "元旦" and days[date(2027, 10, 3)] == "国庆节"


def test_the_issue_example_falls_due_monday_and_is_provisional() -> None:
    due = _due(_calendar())  # estimate is the default policy
    assert format_local(due.at, TZ) == "2027-01-04 12:00"  # not on 元旦, not on the weekend after it
    assert due.provisional


def test_weekly_policy_still_works_on_new_year() -> None:
    due = _due(_calendar("    unpublished_year: weekly\n"))
    assert format_local(due.at, TZ) == "2027-01-01 12:00"
    assert due.provisional


def test_refuse_policy_names_the_missing_year() -> None:
    with pytest.raises(CalendarError, match="2027"):
        _due(_calendar("    unpublished_year: refuse\n"))


def test_published_years_are_not_provisional() -> None:
    due = _due(_calendar(), "2025-12-31 17:00")  # 2026 is in chinesecalendar: 01-01 and 01-02 are off
    assert format_local(due.at, TZ) == "2026-01-04 12:00"  # Sunday 01-04 is a make-up workday
    assert not due.provisional


def test_engine_flags_the_clock_provisional() -> None:
    engine = Engine(MemoryStore(), new_case_id=lambda: "c1")
    process = engine.load_process(PROCESS.replace("POLICY\n", "").encode(), "office_flow.yaml")
    case = engine.start(process, {}, Actor("wang", ("desk",)), at=at("2026-12-31 17:00"))
    clock = case.clocks["answer"]
    assert format_local(clock["due"], TZ) == "2027-01-04 12:00"
    assert clock["provisional"] is True


# --------------------------------------------------------------------------- official schedules


def test_process_schedule_beats_the_estimate() -> None:
    due = _due(_calendar("", SCHEDULE_2027))
    assert format_local(due.at, TZ) == "2027-01-05 12:00"  # 01-04 is off in the official schedule
    assert not due.provisional


def test_data_file_beats_the_estimate_and_loses_to_the_process(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "cal.yaml"
    data.write_text(
        "schedules:\n  - year: 2027\n    holidays: ['2027-01-01', '2027-01-04', '2027-01-05']\n", encoding="utf-8"
    )
    monkeypatch.setenv(ENV_VAR, str(data))
    assert format_local(_due(_calendar()).at, TZ) == "2027-01-06 12:00"
    assert not _due(_calendar()).provisional
    assert format_local(_due(_calendar("", SCHEDULE_2027)).at, TZ) == "2027-01-05 12:00"


def test_a_bad_data_file_refuses_with_its_position(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "cal.yaml"
    data.write_text("schedules:\n  - year: 2027\n    holidays: ['2027-02-30']\n", encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(data))
    with pytest.raises(CalendarError, match=r"cal\.yaml:3:16: .*'2027-02-30' is not a calendar date"):
        _calendar()


@pytest.mark.parametrize(
    ("extra", "where", "message"),
    [
        ('    holidays: ["2025-02-30"]\n', ":10:16:", "'2025-02-30' is not a calendar date"),
        (SCHEDULE_2027.replace('"2027-01-04"', '"2026-01-04"'), ":12:62:", "2026-01-04 is not in 2027"),
    ],
)
def test_bad_dates_are_positioned(extra: str, where: str, message: str) -> None:
    process, problems = check_bytes(PROCESS.replace("POLICY\n", extra).encode(), "f.yaml")
    text = format_text(problems)
    assert process is None
    assert f"f.yaml{where} error: {message} [bad-date]" in text, text


# --------------------------------------------------------------------------- the command line


def _cli(*args: str):
    from click.testing import CliRunner

    import cli

    return CliRunner().invoke(cli.main, list(args))


def test_calendars_lists_sources_years_company_days_and_policy(tmp_path: Path, monkeypatch) -> None:
    import json

    data = tmp_path / "cal.yaml"
    data.write_text("schedules:\n  - year: 2027\n    holidays: ['2027-01-01']\n", encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(data))
    path = tmp_path / "p.yaml"
    path.write_text(PROCESS.replace("POLICY\n", '    holidays: ["2026-12-30"]\n' + SCHEDULE_2027), encoding="utf-8")
    result = _cli("calendars", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    (item,) = json.loads(result.stdout)
    assert item["calendar"] == "office" and item["unpublished_year"] == "estimate"
    assert item["data_file"] == str(data) and item["holidays"] == ["2026-12-30"]
    assert item["sources"][0].startswith("chinesecalendar 1.") and "lunar-python 1." in item["sources"][1]
    assert item["years"][-1] == {"from": 2027, "to": 2027, "source": "process file"}  # the process beats the file
    assert item["years"][-2]["to"] == 2026 and item["years"][-2]["source"].startswith("chinesecalendar")
    text = _cli("calendars", str(path)).stdout
    assert "2027 (process file)" in text and "unknown years: estimate" in text and "2026-12-30" in text


def test_calendars_refuses_a_bad_data_file(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "cal.yaml"
    data.write_text("schedules:\n  - year: 2027\n    holiday: ['2027-01-01']\n", encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(data))
    result = _cli("calendars", "general_affairs_dispatch")
    assert result.exit_code == 1
    assert "cal.yaml:3:5: error: unknown key 'holiday'" in result.output


@pytest.mark.parametrize(
    ("now", "horizon", "warned"), [("2090-11-17 09:00", "45", True), ("2090-11-17 09:00", "40", False)]
)
def test_validate_horizon_is_configurable(tmp_path: Path, now: str, horizon: str, warned: bool) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PROCESS.replace("POLICY\n", SCHEDULE_2027.replace("2027", "2090")), encoding="utf-8")
    result = _cli("validate", str(path), "--now", now, "--calendar-horizon", horizon)
    assert result.exit_code == 0
    assert ("[calendar-data-ending]" in result.output) == warned
    assert "[calendar-data-ending]" not in _cli("validate", str(path)).output  # no --now, no check


def _started_case(tmp_path: Path) -> tuple[str, str]:
    import json

    path = tmp_path / "office_flow.yaml"
    path.write_text(PROCESS.replace("POLICY\n", ""), encoding="utf-8")
    db = str(tmp_path / "s.db")
    result = _cli(
        "start",
        str(path),
        "--as",
        "wang",
        "--role",
        "desk",
        "--now",
        "2026-12-31 17:00",
        "--db",
        db,
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["id"], db


def test_case_prints_provisional_beside_the_due_time(tmp_path: Path) -> None:
    case_id, db = _started_case(tmp_path)
    text = _cli("case", case_id, "--db", db).stdout
    assert "due 2027-01-04 12:00 (provisional) (running" in text, text


def test_history_prints_provisional_on_the_breach(tmp_path: Path) -> None:
    case_id, db = _started_case(tmp_path)
    assert _cli("tick", "--now", "2027-01-04 12:01", "--db", db).exit_code == 0
    text = _cli("history", case_id, "--db", db).stdout
    assert "BREACHED 4工作小时内答复 (due 2027-01-04 12:00 (provisional))" in text, text


def test_diff_names_an_added_schedule_and_a_moved_date() -> None:
    from complaintflow.language.diff import diff

    old, new = _process("", SCHEDULE_2027), _process("", SCHEDULE_2027.replace('"2027-01-04"', '"2027-01-05"'))
    texts = [f"{c.detail} {c.old} {c.new}" for c in diff(_process(), old)]
    assert any("2027 off 2027-01-01" in t for t in texts), texts
    moved = [c for c in diff(old, new) if c.what == "calendar"]
    assert len(moved) == 1 and "2027-01-05" in str(moved[0].to_json()), moved


# --------------------------------------------------------------------------- recompute on a new schedule

DATA_2027 = "schedules:\n  - year: 2027\n    holidays: ['2027-01-01', '2027-01-02', '2027-01-03', '2027-01-04']\n"


def test_the_next_tick_recomputes_a_provisional_deadline_when_the_schedule_arrives(tmp_path: Path, monkeypatch) -> None:
    import json

    case_id, db = _started_case(tmp_path)
    assert "nothing due" in _cli("tick", "--now", "2027-01-01 09:00", "--db", db).output  # no data file yet
    data = tmp_path / "cal.yaml"
    data.write_text(DATA_2027, encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(data))
    result = _cli("tick", "--now", "2027-01-01 10:00", "--db", db, "--format", "json")
    assert result.exit_code == 0, result.output
    (event,) = json.loads(result.stdout)
    assert event["kind"] == "deadline_recomputed"
    assert event["payload"]["reason"] == "2027 schedule now known" and event["payload"]["provisional"] is False
    case = json.loads(_cli("case", case_id, "--db", db, "--format", "json").stdout)
    clock = case["clocks"]["answer"]
    assert format_local(clock["due"], TZ) == "2027-01-05 12:00" and clock["provisional"] is False
    history = _cli("history", case_id, "--db", db).stdout
    assert "deadline recomputed: 2027 schedule now known" in history and "→ 2027-01-05 12:00" in history
    assert "nothing due" in _cli("tick", "--now", "2027-01-01 11:00", "--db", db).output  # recorded once
    assert _cli("verify", "--db", db).exit_code == 0  # the new event replays to the stored row


def test_a_clock_paused_since_is_not_recomputed(monkeypatch, tmp_path: Path) -> None:
    from complaintflow.runtime.clocks import recomputed
    from complaintflow.runtime.machine import compile_process

    data = tmp_path / "cal.yaml"
    data.write_text(DATA_2027, encoding="utf-8")
    process = _process()
    clock = {
        **{"started": at("2026-12-31 17:00"), "due": at("2027-01-04 12:00"), "provisional": True, "warn": None},
        **{"warned": False, "breached": False, "misses": 0, "step": 0, "step_due": None, "paused_at": None},
    }
    monkeypatch.setenv(ENV_VAR, str(data))
    cp = compile_process(process)
    deadline = process.deadlines["answer"]
    new, years = recomputed(cp, deadline, clock)
    assert format_local(new["due"], TZ) == "2027-01-05 12:00" and years == [2027]
    shifted = {**clock, "due": at("2027-01-04 15:00")}  # what a pause would have left: not what the start gives
    assert recomputed(cp, deadline, shifted) is None
    assert recomputed(cp, deadline, {**clock, "paused_at": at("2027-01-01 09:00")}) is None


def test_a_running_engine_picks_up_a_new_data_file(tmp_path: Path, monkeypatch) -> None:
    engine = Engine(MemoryStore(), new_case_id=lambda: "c1")
    process = engine.load_process(PROCESS.replace("POLICY\n", "").encode(), "office_flow.yaml")
    engine.start(process, {}, Actor("wang", ("desk",)), at=at("2026-12-31 17:00"))
    assert engine.tick(at("2027-01-01 09:00")) == []
    data = tmp_path / "cal.yaml"
    data.write_text(DATA_2027, encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(data))
    (event,) = engine.tick(at("2027-01-01 10:00"))
    assert event.kind == "deadline_recomputed"
    assert format_local(engine.case("c1").clocks["answer"]["due"], TZ) == "2027-01-05 12:00"
    assert engine.verify() == []
