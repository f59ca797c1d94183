"""The CLI shows personal data only to the roles the process lets see it (``--as-role``, and for start,
act and extend the actor's own ``--role``); without a role every personal value reads ``***`` in text
and JSON alike, and ``export CASE`` stays raw for an access request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from tests.test_masking import CALLBACK, PHONE, PROCESS

NOW = ("--now", "2025-09-29 10:00")


def run(*args: str) -> str:
    result = CliRunner().invoke(cli.main, list(args))
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


@pytest.fixture
def store(tmp_path: Path) -> tuple[str, str]:
    """A store with one case, opened by the front desk with a phone number and dispatched to the engineer
    with a callback number; the case's id."""
    process = tmp_path / "desk.yaml"
    process.write_text(PROCESS, encoding="utf-8")
    db = str(tmp_path / "desk.db")
    opened = run(
        "start", str(process), "--data", f"phone={PHONE}", "--data", "customer_name=张先生", "--data",
        "subject=漏水", "--as", "fang", "--role", "frontdesk", "--db", db, *NOW,
    )  # fmt: skip
    case_id = opened.strip()
    run("act", case_id, "dispatch", "--input", f"callback_phone={CALLBACK}", "--as", "fang", "--role", "frontdesk",
        "--db", db, *NOW)  # fmt: skip
    return db, case_id


def test_json_without_a_role_shows_no_personal_value(store: tuple[str, str]) -> None:
    db, case_id = store
    outputs = {
        "case": run("case", case_id, "--db", db, *NOW, "--format", "json"),
        "cases": run("cases", "--db", db, "--format", "json"),
        "history": run("history", case_id, "--db", db, "--format", "json"),
    }
    for name, out in outputs.items():
        for value in (PHONE, CALLBACK, "张先生"):
            assert value not in out, f"{name} shows {value}"
    shown = json.loads(outputs["case"])["data"]
    assert shown == {"phone": "***", "customer_name": "***", "subject": "漏水", "callback_phone": "***"}
    events = json.loads(outputs["history"])
    assert events[0]["payload"]["data"]["phone"] == "***"
    assert events[1]["payload"]["inputs"] == {"callback_phone": "***"}


def test_text_without_a_role_shows_no_personal_value(store: tuple[str, str]) -> None:
    db, case_id = store
    for out in (run("case", case_id, "--db", db, *NOW), run("history", case_id, "--db", db), run("cases", "--db", db)):
        assert PHONE not in out and CALLBACK not in out and "张先生" not in out
    assert "phone: ***" in run("case", case_id, "--db", db, *NOW)


def test_the_front_desk_sees_the_phone_and_the_engineer_only_the_name(store: tuple[str, str]) -> None:
    db, case_id = store
    desk = json.loads(run("case", case_id, "--db", db, *NOW, "--format", "json", "--as-role", "frontdesk"))
    assert desk["data"]["phone"] == PHONE and desk["data"]["callback_phone"] == CALLBACK
    assert f"phone: {PHONE}" in run("case", case_id, "--db", db, *NOW, "--as-role", "frontdesk")
    history = json.loads(run("history", case_id, "--db", db, "--format", "json", "--as-role", "frontdesk"))
    assert history[1]["payload"]["inputs"] == {"callback_phone": CALLBACK}
    listed = json.loads(run("cases", "--db", db, "--format", "json", "--as-role", "frontdesk"))
    assert listed[0]["data"]["phone"] == PHONE

    engineer = run("case", case_id, "--db", db, *NOW, "--format", "json", "--as-role", "engineer")
    assert PHONE not in engineer and CALLBACK not in engineer
    assert json.loads(engineer)["data"]["customer_name"] == "张先生"  # no visible_to: every role of the process
    for role in ("admin", "stranger"):  # a role the process does not declare sees nothing
        assert "张先生" not in run("case", case_id, "--db", db, *NOW, "--format", "json", "--as-role", role)


def test_the_acting_role_decides_what_act_and_extend_print(store: tuple[str, str]) -> None:
    db, case_id = store
    extended = run("extend", case_id, "fix_2h", "--add", "1h", "--reason", "等零件", "--as", "gong", "--role",
                   "engineer", "--db", db, *NOW, "--format", "json")  # fmt: skip
    assert PHONE not in extended and json.loads(extended)["data"]["phone"] == "***"
    again = run("extend", case_id, "fix_2h", "--add", "1h", "--reason", "等零件", "--as", "fang", "--role",
                "frontdesk", "--db", db, *NOW, "--format", "json")  # fmt: skip
    assert json.loads(again)["data"]["phone"] == PHONE
    closed = run("act", case_id, "close", "--as", "gong", "--role", "engineer", "--db", db, *NOW, "--format", "json")
    assert PHONE not in closed and CALLBACK not in closed
    assert json.loads(closed)["data"]["customer_name"] == "张先生"


def test_start_prints_what_the_recording_role_may_see(tmp_path: Path) -> None:
    process = tmp_path / "desk.yaml"
    process.write_text(PROCESS, encoding="utf-8")
    db = str(tmp_path / "desk.db")
    out = run("start", str(process), "--data", f"phone={PHONE}", "--as", "gong", "--role", "engineer",
              "--db", db, *NOW, "--format", "json")  # fmt: skip
    assert PHONE not in out and json.loads(out)["data"]["phone"] == "***"


def test_export_stays_raw_for_an_access_request(store: tuple[str, str]) -> None:
    db, case_id = store
    exported = json.loads(run("export", case_id, "--db", db))
    assert exported["personal_data"]["phone"] == PHONE


def test_history_reveals_kept_values_only_to_allowed_roles_and_erased_ones_as_null(store: tuple[str, str]) -> None:
    db, case_id = store
    for roles in ((), ("--as-role", "engineer"), ("--as-role", "frontdesk")):
        out = run("history", case_id, "--db", db, "--format", "json", *roles)
        assert "sha256:" not in out  # a commitment is never shown in place of the value
    run("erase", case_id, "--reason", "客户要求删除", "--as", "dpo", "--db", db, *NOW)
    desk = json.loads(run("history", case_id, "--db", db, "--format", "json", "--as-role", "frontdesk"))
    assert desk[0]["payload"]["data"]["phone"] is None and desk[1]["payload"]["inputs"] == {"callback_phone": None}
    case = json.loads(run("case", case_id, "--db", db, *NOW, "--format", "json", "--as-role", "frontdesk"))
    assert case["data"]["phone"] is None and case["data"]["subject"] == "漏水"
