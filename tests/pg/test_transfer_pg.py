"""Moving a store through PostgreSQL: the demo's SQLite store into a PostgreSQL database and back, and an
upgraded format-3 store (rule-1 events and their seal) into PostgreSQL; ``verify`` clean on every side,
payload texts, hashes and positions unchanged, and ``cases`` and ``history`` printing the same."""

from __future__ import annotations

import json
import re
import shlex
import sqlite3
from pathlib import Path

import test_transfer
import test_upgrade
from helpers import MINI, at
from oldstores import as_format_3
from test_transfer import EVENT_ROWS, NOW, lines_of, resealed, rows

from complaintflow import Actor, Engine

demo_store, store, run, demo_export = (
    test_upgrade.demo_store,
    test_upgrade.store,
    test_upgrade.run,
    test_transfer.demo_export,
)


def same_views(one: str, other: str, case_ids: list[str]) -> None:
    assert run("cases", "--db", one) == run("cases", "--db", other)
    for case_id in case_ids:
        for fmt in ("text", "json"):
            assert run("history", case_id, "--db", one, "--format", fmt) == run(
                "history", case_id, "--db", other, "--format", fmt
            )


def test_the_demo_store_goes_to_postgresql_and_back_unchanged(demo_store, demo_export, postgres_url, tmp_path):
    code, _, err = run("import", str(demo_export), "--db", postgres_url)
    assert code == 0 and err.endswith("; every history verifies\n"), err
    assert run("verify", "--db", postgres_url)[:2] == (0, "history intact\n")
    case_ids = [r[0] for r in rows(demo_store, "SELECT id FROM cases ORDER BY id")]
    same_views(str(demo_store), postgres_url, case_ids)
    # out of PostgreSQL: the very same file (positions, outbox state, texts), and into SQLite again
    from_pg = tmp_path / "from-pg.jsonl"
    assert run("export", "--db", postgres_url, "--out", str(from_pg), "--now", NOW)[0] == 0
    assert from_pg.read_bytes() == demo_export.read_bytes()
    back = tmp_path / "back.db"
    assert run("import", str(from_pg), "--db", str(back))[0] == 0
    assert rows(back, EVENT_ROWS) == rows(demo_store, EVENT_ROWS)
    assert run("verify", "--db", str(back))[:2] == (0, "history intact\n")
    same_views(str(back), postgres_url, case_ids)


def test_an_imported_store_takes_new_work_after_the_imported_positions(demo_export, postgres_url):
    assert run("import", str(demo_export), "--db", postgres_url)[0] == 0
    last = max(v["pos"] for v in lines_of(demo_export) if v.get("type") == "event")
    engine = Engine(postgres_url)
    spec = engine.load_process(MINI.encode())
    engine.start(
        spec, {"customer_name": "赵六", "severity": "general"}, Actor("w", ("desk",)), at=at(NOW), case_id="n1"
    )
    placed = engine.store.placed_events(last, 10)  # type: ignore[attr-defined]
    assert [(p.event.case_id, p.event.hash_rule) for p in placed] == [("n1", 2)] and placed[0].pos > last
    engine.close()
    assert run("verify", "--db", postgres_url)[:2] == (0, "history intact\n")


def test_an_upgraded_format_3_store_verifies_on_postgresql(store, postgres_url, tmp_path):
    as_format_3(store)
    assert run("upgrade", "--db", str(store), "--now", NOW)[0] == 0
    out = tmp_path / "out.jsonl"
    assert run("export", "--db", str(store), "--out", str(out))[0] == 0
    assert {v["hash_rule"] for v in lines_of(out) if v.get("type") == "event"} == {1}
    assert run("import", str(out), "--db", postgres_url)[0] == 0
    verified = run("verify", "--db", postgres_url)
    assert verified[0] == 0 and verified == run("verify", "--db", str(store))
    assert "store upgraded from format 3 to 6" in verified[1]
    same_views(str(store), postgres_url, [r[0] for r in rows(store, "SELECT id FROM cases ORDER BY id")])
    # a new case on PostgreSQL is hashed under rule 2 and the rule-1 history still verifies
    engine = Engine(postgres_url)
    spec = engine.load_process(MINI.encode())
    engine.start(spec, {"customer_name": "钱七", "severity": "major"}, Actor("w", ("desk",)), at=at(NOW), case_id="n1")
    assert engine.store.events("n1")[0].hash_rule == 2
    engine.close()
    assert run("verify", "--db", postgres_url)[0] == 0


def test_a_refused_import_leaves_the_database_empty(demo_export, postgres_url, tmp_path):
    values = lines_of(demo_export)
    event = next(v for v in values if v.get("personal"))
    key = next(iter(event["personal"]))
    event["personal"][key]["value"] = "edited"  # outside every hash: only the verify inside the import sees it
    edited = resealed(values, tmp_path / "edited.jsonl")
    code, _, err = run("import", str(edited), "--db", postgres_url)
    assert code == 2 and "the imported store would not verify" in err and len(err.splitlines()) == 1
    engine = Engine(postgres_url)
    assert not engine.store.holds_anything() and engine.store.rule2_from_pos == 1  # type: ignore[attr-defined]
    engine.close()
    assert run("import", str(demo_export), "--db", postgres_url)[0] == 0  # and it takes the good file after
    code, _, err = run("import", str(demo_export), "--db", postgres_url)
    assert code == 2 and "already holds processes or cases" in err


def test_rule_1_positions_survive_on_postgresql(store, postgres_url, tmp_path):
    """rule2_from_pos is kept in PostgreSQL's meta, so a store opened again reads the same hash rules."""
    as_format_3(store)
    assert run("upgrade", "--db", str(store), "--now", NOW)[0] == 0
    out = tmp_path / "out.jsonl"
    assert run("export", "--db", str(store), "--out", str(out))[0] == 0
    assert run("import", str(out), "--db", postgres_url)[0] == 0
    expected = json.loads(out.read_text(encoding="utf-8").splitlines()[0])["rule2_from_pos"]
    engine = Engine(postgres_url)
    assert engine.store.rule2_from_pos == expected  # type: ignore[attr-defined]
    engine.close()
    db = sqlite3.connect(store)
    assert db.execute("SELECT value FROM meta WHERE key = 'rule2_from_pos'").fetchone() == (str(expected),)
    db.close()


def test_the_commands_of_moving_a_store_in_docs_postgres_md_run_as_written(postgres_url, tmp_path, monkeypatch):
    text = (Path(__file__).resolve().parents[2] / "docs" / "postgres.md").read_text(encoding="utf-8")
    section = text.split("## Moving a store", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    monkeypatch.chdir(tmp_path)
    said = []
    for line in block.group(1).splitlines():
        words = shlex.split(line.replace("postgresql://desk:secret@db.example/complaints", postgres_url))
        assert words[0] == "complaintflow"
        code, _, err = run(*words[1:])
        assert code == 0, (line, err)
        said.append(err)
    summary = re.search(r"\(`(exported [^`]+ to demo\.jsonl)`\)", section)
    assert summary is not None and said[1] == summary.group(1) + "\n"
    assert run("cases", "--db", "back.db") == run("cases", "--db", "demo.db")
