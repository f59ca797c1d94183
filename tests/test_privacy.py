"""``complaintflow export CASE``: a case's personal data and every place the store keeps it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import MINI, at, ids

import cli
from complaintflow import Actor, Engine

DESK = Actor("wang", ("desk",))


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def store(tmp_path) -> Path:
    path = tmp_path / "t.db"
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    engine = Engine(path, new_case_id=ids())
    spec = engine.load_process(tmp_path / "mini.yaml")
    engine.start(spec, {"customer_name": "张三", "severity": "general"}, DESK, at=at("2025-11-03 10:00"))
    engine.act("c1", "dispatch", DESK, at=at("2025-11-03 10:01"))
    engine.close()
    return path


def test_export_names_the_personal_data_and_where_it_is_kept(store):
    code, out, _ = run("export", "c1", "--db", str(store))
    assert code == 0
    exported = json.loads(out)
    assert exported["personal_data"] == {"customer_name": "张三"}
    assert exported["other_data"] == {"severity": "general"}
    assert exported["stored_in"] == [
        {"place": "case row", "ref": "c1", "fields": ["customer_name"]},
        {"place": "event", "ref": "seq 1 (started)", "fields": ["customer_name"]},
    ]
    engine = Engine(store)
    (message,) = [m for m in engine.store.outbox(None, 100) if m.id == "c1:1"]
    assert "张三" not in json.dumps(message.message, ensure_ascii=False)  # the outbox carries a commitment
    engine.close()
    code, out, _ = run("export", "c1", "--db", str(store), "--format", "text")
    assert code == 0
    assert out.splitlines() == [
        "case c1 (mini v1)",
        "personal data:",
        "  customer_name: 张三",
        "other data of the case:",
        "  severity: general",
        "kept in:",
        "  case row c1: customer_name",
        "  event seq 1 (started): customer_name",
    ]


def test_export_of_an_unknown_case_is_one_line(store):
    assert run("export", "nope", "--db", str(store)) == (1, "", "error: no case 'nope' in this store\n")
