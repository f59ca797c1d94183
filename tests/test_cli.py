"""The command line: exit codes, messages, and the runtime commands over one store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_bundled_processes_is_clean():
    code, out, err = run("validate", str(ROOT / "processes"))
    assert code == 0, out
    assert "0 error(s)" in err


def test_validate_exit_codes(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("process: x\nversion: 1\ntitle: {zh: x}\nstates: {}\nactions: {}\non: 1\n", encoding="utf-8")
    code, out, _ = run("validate", str(bad))
    assert code == 1
    assert f"{bad}:6:1: error: unknown key 'on' [schema]" in out
    assert run("validate", str(tmp_path / "missing.yaml"))[0] == 2
    assert run("validate")[0] == 2


def test_every_command_has_help():
    for name in cli.main.commands:
        code, out, _ = run(name, "--help")
        assert code == 0 and "Usage:" in out, name


def test_show_graph_and_diff_of_a_bundled_process():
    code, out, _ = run("show", "shopping_mall")
    assert code == 0 and "营运经理" in out
    code, out, _ = run("graph", "shopping_mall")
    assert code == 0 and out.startswith("stateDiagram-v2")
    assert run("diff", "shopping_mall", "shopping_mall")[0] == 0
    code, _, err = run("show", "shoping_mall")
    assert code == 2 and "did you mean 'shopping_mall'" in err


def test_diff_names_a_loosened_deadline(tmp_path):
    old = (ROOT / "processes" / "property_management.yaml").read_text(encoding="utf-8")
    assert "within: 2wd" in old
    new = tmp_path / "new.yaml"
    new.write_text(old.replace("within: 2wd", "within: 5wd"), encoding="utf-8")
    code, out, _ = run("diff", str(ROOT / "processes" / "property_management.yaml"), str(new), "--format", "json")
    assert code == 1
    changes = json.loads(out)
    assert [(c["kind"], c["old"], c["new"]) for c in changes] == [("loosened", "within 2wd", "within 5wd")]


def test_runtime_commands_over_one_store(tmp_path):
    db = str(tmp_path / "cf.db")
    common = ["--db", db]
    code, out, err = run(
        "start",
        "shopping_mall",
        *common,
        "--as",
        "wang",
        "--role",
        "cs_centre",
        "--now",
        "2025-11-03 10:00",
        "--data",
        "customer_name=张三",
        "--data",
        "phone=138",
        "--data",
        "channel=phone_call",
        "--data",
        "content=x",
        "--data",
        "category=tenant",
        "--data",
        "severity=general",
    )
    assert code == 0, err
    case_id = out.strip()
    code, out, err = run(
        "act", case_id, "pass_to_floor", *common, "--as", "wang", "--role", "cs_centre", "--now", "2025-11-03 10:02"
    )
    assert (code, out.strip()) == (0, f"{case_id} received -> floor_handling")
    code, _, err = run(
        "act", case_id, "submit_result", *common, "--as", "li", "--role", "cs_centre", "--now", "2025-11-03 10:03"
    )
    assert code == 1 and "may not take action 'submit_result'" in err
    code, _, err = run(
        "act", case_id, "submit_result", *common, "--as", "li", "--role", "floor_supervisor", "--now", "yesterday"
    )
    assert code == 2 and "--now" in err
    code, out, _ = run("tick", *common, "--now", "2025-11-03 17:30")
    assert code == 0 and "BREACHED" in out and "营运经理" in out
    code, out, _ = run("cases", *common, "--overdue", "--now", "2025-11-03 17:30", "--format", "json")
    assert [c["id"] for c in json.loads(out)] == [case_id]
    code, out, _ = run("history", case_id, *common, "--format", "json")
    assert [e["kind"] for e in json.loads(out)] == ["started", "acted", "deadline_breached", "escalated"]
    code, out, _ = run("case", case_id, *common)
    assert code == 0 and "customer_name: ***" in out  # personal data masked
    assert run("verify", *common)[0] == 0


def test_store_that_is_not_ours_exits_1(tmp_path):
    path = tmp_path / "x.db"
    path.write_text("not a database", encoding="utf-8")
    code, _, err = run("cases", "--db", str(path))
    assert code == 1 and "not a complaintflow store" in err
    assert path.read_text(encoding="utf-8") == "not a database"


def test_demo_shows_met_breached_and_multi_level_escalation(tmp_path):
    code, out, err = run("demo", "--db", str(tmp_path / "demo.db"))
    assert code == 0, err
    assert "✓ met" in out and "BREACHED" in out
    assert "step 2/" in out  # an escalation climbed past its first level
    assert run("verify", "--db", str(tmp_path / "demo.db"))[0] == 0
    assert run("demo", "--db", str(tmp_path / "demo.db"))[0] == 2  # never overwrites a store


def test_report_over_the_demo_store_in_every_format(tmp_path):
    db = str(tmp_path / "demo.db")
    assert run("demo", "--db", db)[0] == 0
    code, out, _ = run("report", "--db", db, "--period", "2025-09", "--households", "200", "--now", "2025-10-13 09:00")
    assert code == 0
    assert "complaint rate = valid complaints / households" in out and "target below 5%" in out
    assert "Review list" in out
    for fmt, marker in (("csv", "# summary"), ("json", '"by_process"'), ("html", "<svg")):
        code, out, _ = run("report", "--db", db, "--period", "2025-09", "--format", fmt, "--now", "2025-10-13 09:00")
        assert code == 0 and marker in out, fmt
    assert run("report", "--db", db, "--period", "2025-13")[0] == 2
    assert run("report", "--db", str(tmp_path / "none.db"), "--period", "2025-09")[0] == 2


def test_simulate_is_deterministic_and_compare_shows_a_loosened_deadline(tmp_path):
    first = run("simulate", "shopping_mall", "--cases", "60", "--seed", "7", "--format", "json")
    again = run("simulate", "shopping_mall", "--cases", "60", "--seed", "7", "--format", "json")
    assert first[0] == 0 and first[1] == again[1]
    loose = tmp_path / "mall48.yaml"
    loose.write_text(
        (ROOT / "processes" / "shopping_mall.yaml").read_text(encoding="utf-8").replace("within: 24h", "within: 48h"),
        encoding="utf-8",
    )
    code, out, _ = run(
        "simulate",
        "--compare",
        str(ROOT / "processes" / "shopping_mall.yaml"),
        str(loose),
        "--cases",
        "100",
        "--format",
        "json",
    )
    assert code == 0
    rows = {row["id"]: row for row in json.loads(out)["changes"]["deadlines"]}
    assert rows["reply_24h"]["new_breaches"] < rows["reply_24h"]["old_breaches"]
    assert rows["results_by_17"]["breach_change"] == 0  # the same cases: only the loosened rule moved
    code, out, _ = run(
        "simulate", "shopping_mall", "--cases", "20", "--format", "html", "--out", str(tmp_path / "r.html")
    )
    assert code == 0 and "<svg" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_simulate_refuses_bad_input(tmp_path):
    assert run("simulate")[0] == 2
    assert run("simulate", "shopping_mall", "--cases", "0")[0] == 2
    bad = tmp_path / "s.yaml"
    bad.write_text("scenario: s\nstart: '2025-11-03 09:00'\ndeadlines: 1\n", encoding="utf-8")
    code, _, err = run("simulate", "shopping_mall", "--scenario", str(bad))
    assert code == 1 and f"{bad}:3:1: error: unknown key 'deadlines'" in err


@pytest.mark.parametrize(
    "command", [["verify"], ["cases"], ["tick", "--now", "2025-11-03 10:00"], ["history", "c1"], ["case", "c1"]]
)
def test_commands_that_read_a_store_refuse_a_missing_one_and_create_nothing(tmp_path, command):
    missing = tmp_path / "typo.db"
    code, out, err = run(*command, "--db", str(missing))
    assert code == 2, out + err
    assert "no store at" in err
    assert not missing.exists()
