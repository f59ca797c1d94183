"""Store format 4 and the upgrade to it: a format-3 store (built by ``oldstores.as_format_3`` from a
store the engine wrote, hashed under rule 1 as that release did) is read as it is by read-only
commands, refused by writing ones, and upgraded only by ``complaintflow upgrade``: verified under the
old rule, sealed inside the store, nothing rehashed; the independent checker of docs/audit.md agrees."""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import MINI, at, edit_store
from oldstores import as_format_3

import cli
from complaintflow import Actor, Engine
from complaintflow.runtime.events import GENESIS, event_hash

ROOT = Path(__file__).resolve().parent.parent
NOW = "2025-11-10 09:00"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    subprocess.run([sys.executable, str(ROOT / "cli.py"), "demo", "--db", str(path)], capture_output=True, check=True)
    return path


@pytest.fixture
def store(demo_store, tmp_path) -> Path:
    path = tmp_path / "store.db"
    shutil.copy(demo_store, path)
    return path


@pytest.fixture
def old_store(store) -> Path:
    as_format_3(store)
    return store


def _meta(path: Path) -> dict[str, str]:
    db = sqlite3.connect(path)
    found = dict(db.execute("SELECT key, value FROM meta").fetchall())
    db.close()
    return found


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _case_ids(path: Path) -> list[tuple[str, int]]:
    db = sqlite3.connect(path)
    rows = db.execute("SELECT id, last_seq FROM cases ORDER BY id").fetchall()
    db.close()
    return rows


def _checker(tmp_path: Path) -> Path:
    text = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")
    code = re.search(r"### A checker of every event's hash.*?```python\n(.*?)```", text, re.S).group(1)
    assert len([line for line in code.splitlines() if line.strip()]) <= 30  # "a 30-line checker"
    path = tmp_path / "checkevents.py"
    path.write_text(code, encoding="utf-8")
    return path


def _check(checker: Path, store: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(checker), str(store)], capture_output=True, text=True)


# -- a format-3 store is read as it is --------------------------------------------------------


def test_read_only_commands_read_an_old_store_without_upgrading_it(old_store):
    before = _digest(old_store)
    code, out, _ = run("verify", "--db", str(old_store))
    assert code == 0
    assert out.splitlines() == [
        "history intact",
        "store format 3: every event is hashed under rule 1; 'complaintflow upgrade' brings it to format 6 "
        "(docs/audit.md)",
    ]
    case_id, seq = _case_ids(old_store)[0]
    code, out, _ = run("history", case_id, "--db", str(old_store), "--format", "json")
    assert code == 0 and out.count('"seq"') == seq
    assert run("cases", "--db", str(old_store))[0] == 0
    assert _meta(old_store)["format_version"] == "3"
    assert _digest(old_store) == before  # not a byte changed


def test_writing_commands_refuse_an_old_store_and_name_the_upgrade(old_store, tmp_path):
    before = _digest(old_store)
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    data = ("--data", "customer_name=张三", "--data", "severity=general")
    code, _, err = run(
        "start", str(tmp_path / "mini.yaml"), "--as", "w", "--role", "desk", *data, "--db", str(old_store)
    )
    assert code == 1
    assert err == (
        f"error: {old_store} has store format 3, whose events were hashed under an older rule; run "
        f"'complaintflow upgrade --db {old_store}' to verify and seal it before changing it\n"
    )
    case_id, _ = _case_ids(old_store)[0]
    code, _, err = run("act", case_id, "anything", "--as", "wang", "--role", "desk", "--db", str(old_store))
    assert code == 1 and "complaintflow upgrade" in err
    assert _digest(old_store) == before


def test_an_edited_old_store_is_named_under_the_old_rule(old_store):
    case_id, _ = _case_ids(old_store)[0]
    edit_store(old_store, ("UPDATE events SET actor='mallory' WHERE case_id=? AND seq=1", (case_id,)))
    code, out, _ = run("verify", "--db", str(old_store))
    assert code == 1
    assert out.splitlines()[0].startswith(f"case {case_id}: event 1: started at ")


# -- the upgrade ------------------------------------------------------------------------------


def test_upgrade_verifies_seals_and_rehashes_nothing(old_store, tmp_path):
    db = sqlite3.connect(old_store)
    hashes = db.execute("SELECT pos, hash FROM events ORDER BY pos").fetchall()
    db.close()
    cases = _case_ids(old_store)
    code, _, err = run("upgrade", "--db", str(old_store), "--now", NOW)
    assert code == 0, err
    total = sum(seq for _, seq in cases)
    assert re.fullmatch(
        rf"upgraded {re.escape(str(old_store))} from store format 3 to 6: {len(cases)} cases and {total} events "
        r"verified under hash rule 1 and sealed, root [0-9a-f]{64}; new events are hashed under rule 2 \(RFC 8785\) "
        r"and keep personal values beside the chain \(docs/privacy.md\); cases and processes are filed by "
        r"tenant, those already there the default tenant.s \(docs/tenants.md\)\n",
        err,
    )
    root = re.search(r"root ([0-9a-f]{64})", err).group(1)
    db = sqlite3.connect(old_store)
    assert db.execute("SELECT pos, hash FROM events ORDER BY pos").fetchall() == hashes  # nothing rehashed
    assert db.execute("SELECT from_format, to_format, at, cases, events, root FROM upgrades").fetchall() == [
        (3, 6, at(NOW), len(cases), total, root)
    ]
    db.close()
    meta = _meta(old_store)
    first_new = hashes[-1][0] + 1
    assert (meta["format_version"], meta["rule2_from_pos"]) == ("6", str(first_new))
    # The same seal a checkpoint would carry: the root over every case's head.
    code, out, _ = run("seal", "--db", str(old_store), "--now", NOW)
    assert f'"root": "{root}"' in out
    code, out, _ = run("verify", "--db", str(old_store))
    assert code == 0
    assert out.splitlines() == [
        "history intact",
        f"store upgraded from format 3 to 6 at 2025-11-10 01:00:00Z: {len(cases)} cases and {total} events "
        f"verified under hash rule 1 and sealed (root {root[:16]}); events from position {first_new} on are "
        "hashed under rule 2 (RFC 8785)",
    ]
    code, _, err = run("upgrade", "--db", str(old_store))
    assert (code, err) == (0, f"{old_store} has store format 6 already; nothing to do\n")


def test_after_the_upgrade_old_cases_go_on_under_the_new_rule(tmp_path):
    path, desk = tmp_path / "mini.db", Actor("wang", ("desk",))
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    engine = Engine(path)
    spec = engine.load_process(tmp_path / "mini.yaml")
    old = engine.start(spec, {"customer_name": "张三", "severity": "general"}, desk, at("2025-11-03 10:00"))
    engine.act(old.id, "dispatch", desk, at=at("2025-11-03 10:01"))
    engine.close()
    as_format_3(path)
    assert run("upgrade", "--db", str(path), "--now", NOW)[0] == 0
    engine = Engine(path)
    engine.act(old.id, "finish", Actor("li", ("head",)), {"result": "修好了"}, at=at("2025-11-03 11:00"))
    new = engine.start(spec, {"customer_name": "李四", "severity": "general"}, desk, at(NOW))
    history = engine.history(old.id)
    assert [e.hash_rule for e in history] == [1, 1, 1, 2, 2]  # then the action and its deadline met
    assert history[3].prev_hash == history[2].hash  # linked across the rules
    assert [e.hash_rule for e in engine.history(new.id)] == [2]
    engine.close()
    assert run("verify", "--db", str(path))[0] == 0
    out = _check(_checker(tmp_path), path)
    assert (out.returncode, out.stdout) == (0, "3 events checked under rule 2, 3 older ones, 0 rows in no history\n")


def test_upgrade_refuses_a_store_that_does_not_verify_and_changes_nothing(old_store):
    case_id, _ = _case_ids(old_store)[0]
    edit_store(old_store, ("UPDATE events SET actor='mallory' WHERE case_id=? AND seq=1", (case_id,)))
    before = _digest(old_store)
    code, _, err = run("upgrade", "--db", str(old_store), "--now", NOW)
    assert code == 1
    assert err.startswith(
        f"error: refused to upgrade a store that does not verify under its old hash rule: case {case_id}: event 1:"
    )
    assert _meta(old_store)["format_version"] == "3" and _digest(old_store) == before


def test_history_from_before_the_upgrade_rewritten_with_the_old_rule_is_named(old_store):
    assert run("upgrade", "--db", str(old_store), "--now", NOW)[0] == 0
    case_id, _ = next((c, s) for c, s in _case_ids(old_store) if s >= 2)
    db = sqlite3.connect(old_store)
    rows = db.execute(
        "SELECT pos, seq, at, actor, role, kind, payload FROM events WHERE case_id=? ORDER BY seq", (case_id,)
    ).fetchall()
    prev = GENESIS
    with db:  # change event 1 and rechain the case under rule 1, as the old code would
        for pos, seq, when, actor, role, kind, payload in rows:
            actor = "someone else" if seq == 1 else actor
            new_hash = event_hash(case_id, seq, when, actor, role, kind, payload, prev, rule=1)
            db.execute("UPDATE events SET actor=?, prev_hash=?, hash=? WHERE pos=?", (actor, prev, new_hash, pos))
            prev = new_hash
        db.execute("UPDATE cases SET last_hash=? WHERE id=?", (prev, case_id))
    db.close()
    code, out, _ = run("verify", "--db", str(old_store))
    assert code == 1
    n = len(_case_ids(old_store))
    sealed = sqlite3.connect(old_store).execute("SELECT root FROM upgrades").fetchone()[0]
    assert re.fullmatch(
        f"store: the history from before the upgrade to store format 6 no longer matches what it verified and "
        rf"sealed \({n} cases then, {n} now; root {sealed[:12]} then, [0-9a-f]{{12}} now\)\n",
        out,
    )


# -- the independent checker of docs/audit.md --------------------------------------------------


def test_the_documented_event_checker_passes_the_demo_store_and_names_an_edit(store, tmp_path):
    checker = _checker(tmp_path)
    out = _check(checker, store)
    db = sqlite3.connect(store)
    (total,) = db.execute("SELECT count(*) FROM events").fetchone()
    db.close()
    assert (out.returncode, out.stdout) == (
        0,
        f"{total} events checked under rule 2, 0 older ones, 0 rows in no history\n",
    )
    case_id, _ = next((c, s) for c, s in _case_ids(store) if s >= 3)
    edited = tmp_path / "edited.db"
    shutil.copy(store, edited)
    edit_store(edited, ("UPDATE events SET at = at + 3600 WHERE case_id=? AND seq=2", (case_id,)))
    out = _check(checker, edited)
    assert (out.returncode, out.stderr) == (1, f"case {case_id}: event 2: the hash does not match (rule 2)\n")
    forged = tmp_path / "forged.db"
    shutil.copy(store, forged)
    edit_store(
        forged,
        (
            "INSERT INTO events (prev_pos, case_id, seq, at, actor, role, kind, payload, prev_hash, hash) "
            "SELECT pos, case_id, seq + 1, at, actor, role, kind, payload, hash, hash FROM events "
            "WHERE case_id=? ORDER BY seq DESC LIMIT 1",
            (case_id,),
        ),
    )
    out = _check(checker, forged)
    assert out.returncode == 1 and out.stdout.endswith(", 1 rows in no history\n")


def test_the_documented_hash_example_is_what_the_engine_computes():
    text = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")
    example = re.search(r"hashes the bytes\n`(\{.*?\})`", text, re.S).group(1).replace("000…000", "0" * 64)
    assert example.encode() == cli_free_body()


def cli_free_body() -> bytes:
    from complaintflow import canonical

    return canonical.hash_body_v2("c1", 1, 1762135200, "wang", "desk", "started", b'{"state":"received"}', GENESIS)


def test_a_checkpoint_sealed_before_the_upgrade_holds_after_it_with_the_same_root(old_store):
    checkpoint = old_store.parent / "before.json"
    assert run("seal", "--db", str(old_store), "--now", NOW, "--out", str(checkpoint))[0] == 0
    code, _, err = run("upgrade", "--db", str(old_store), "--now", "2025-11-10 10:00")
    assert code == 0
    sealed = re.search(r'"root": "([0-9a-f]{64})"', checkpoint.read_text(encoding="utf-8")).group(1)
    assert f"root {sealed};" in err  # the upgrade sealed the very heads the checkpoint did
    code, out, _ = run("verify", "--db", str(old_store), "--against", str(checkpoint))
    assert code == 0 and out.startswith("history intact: the ")
