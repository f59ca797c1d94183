"""Seals and ``verify --against``: a store edited behind the engine's back after a seal is caught, with
the case and event named; the checkpoint refuses to be read when malformed or altered; the independent
checker in docs/audit.md recomputes the sealed root."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import MINI, at, edit_store
from hypothesis import given
from hypothesis import strategies as st

import cli
from complaintflow import Actor, Engine
from complaintflow.audit.merkle import merkle_root
from complaintflow.runtime.events import event_hash

ROOT = Path(__file__).resolve().parent.parent
NOW = "2025-11-10 09:00"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    # In its own process, which closes the store on exit: the copies below then need no WAL beside them.
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    subprocess.run([sys.executable, str(ROOT / "cli.py"), "demo", "--db", str(path)], capture_output=True, check=True)
    return path


@pytest.fixture
def store(demo_store, tmp_path) -> Path:
    path = tmp_path / "store.db"
    shutil.copy(demo_store, path)
    return path


def _seal(store: Path, *extra: str) -> Path:
    out = store.parent / "seal.json"
    code, _, err = run("seal", "--db", str(store), "--now", NOW, "--out", str(out), *extra)
    assert code == 0, err
    return out


def _against(store: Path, checkpoint: Path) -> tuple[int, list[str], str]:
    code, out, err = run("verify", "--db", str(store), "--against", str(checkpoint))
    return code, out.splitlines(), err


def _cases(store: Path) -> list[tuple[str, int]]:
    db = sqlite3.connect(store)
    rows = db.execute("SELECT id, last_seq FROM cases ORDER BY id").fetchall()
    db.close()
    return rows


# -- the tree -----------------------------------------------------------------------------


def _rfc6962(leaves: list[bytes]) -> bytes:
    """The recursive definition, section 2.1, to hold the iterative one to."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _rfc6962(leaves[:k]) + _rfc6962(leaves[k:])).digest()


@given(st.lists(st.binary(max_size=8), max_size=40))
def test_the_root_is_rfc6962s_merkle_tree_hash(leaves):
    assert merkle_root(leaves) == _rfc6962(leaves).hex()


def test_the_root_of_known_trees():
    # Certificate Transparency's vectors: the empty tree and one empty leaf.
    assert merkle_root([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle_root([b""]) == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"


# -- seal and verify --against on an intact store ----------------------------------------


def test_an_untouched_store_is_intact_against_its_seal(store):
    checkpoint = _seal(store)
    document = json.loads(checkpoint.read_text(encoding="utf-8"))
    cases = _cases(store)
    assert document["store"]["cases"] == len(cases) > 5
    assert document["store"]["events"] == sum(seq for _, seq in cases)
    assert document["sealed_at"] == at(NOW)
    heads = json.loads(gzip.decompress(base64.b64decode(document["heads"]["data"])))
    assert [(c, s) for c, s, _ in heads] == cases
    code, out, _ = _against(store, checkpoint)
    assert code == 0
    assert out == [
        f"history intact: the {len(cases)} cases and {document['store']['events']} events sealed at "
        "2025-11-10 01:00:00Z (unsigned) are unchanged; 0 cases opened since verify clean"
    ]


def test_work_after_the_seal_keeps_the_store_intact_against_it(store, tmp_path):
    checkpoint = _seal(store)
    engine = Engine(store)
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    spec = engine.load_process(tmp_path / "mini.yaml")
    engine.start(
        spec, {"customer_name": "张三", "severity": "general"}, Actor("wang", ("desk",)), at("2025-11-10 10:00")
    )
    fired = engine.tick(at("2025-12-31 10:00"))
    engine.close()
    assert fired  # sealed cases moved on past their sealed heads
    code, out, _ = _against(store, checkpoint)
    assert code == 0, out
    assert out[0].endswith("1 cases opened since verify clean")


def test_seal_refuses_a_store_that_does_not_verify(store):
    case_id, _ = _cases(store)[0]
    edit_store(store, ("UPDATE events SET actor='mallory' WHERE case_id=? AND seq=1", (case_id,)))
    out = store.parent / "seal.json"
    code, _, err = run("seal", "--db", str(store), "--now", NOW, "--out", str(out))
    assert code == 1
    assert f"refused to seal a store that does not verify: case {case_id}: event 1:" in err
    assert not out.exists()


def test_seal_never_replaces_a_checkpoint(store):
    checkpoint = _seal(store)
    before = checkpoint.read_bytes()
    code, _, err = run("seal", "--db", str(store), "--now", "2025-11-11 09:00", "--out", str(checkpoint))
    assert code == 2 and "already exists" in err
    assert checkpoint.read_bytes() == before


# -- a store edited behind the engine's back after the seal -------------------------------


def test_a_deleted_case_is_named(store):
    checkpoint = _seal(store)
    # Not the case holding the newest event: deleting that one also shortens the log (tested below).
    db = sqlite3.connect(store)
    (newest,) = db.execute("SELECT case_id FROM events ORDER BY pos DESC LIMIT 1").fetchone()
    db.close()
    case_id, seq = next((c, s) for c, s in _cases(store) if c != newest)
    edit_store(store, ("DELETE FROM events WHERE case_id=?", (case_id,)), ("DELETE FROM cases WHERE id=?", (case_id,)))
    assert run("verify", "--db", str(store))[0] == 0  # what is left is consistent
    code, out, _ = _against(store, checkpoint)
    assert code == 1
    assert out == [f"case {case_id}: event 1: missing: the case is gone (sealed with {seq} events)"]


def test_a_truncated_events_table_names_every_case(store):
    checkpoint = _seal(store)
    cases = _cases(store)
    edit_store(store, ("DELETE FROM events", ()))
    code, out, _ = _against(store, checkpoint)
    assert code == 1
    for case_id, seq in cases:
        assert f"case {case_id}: event 1: missing: the history now ends at event 0 (sealed with {seq} events)" in out
    assert out[-1].startswith("store: the event log now ends at position 0, before the sealed ")


def test_an_older_copy_of_the_file_restored_after_the_seal_is_caught(store, tmp_path):
    desk, data = Actor("wang", ("desk",)), {"customer_name": "张三", "severity": "general"}
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    engine = Engine(store)
    spec = engine.load_process(tmp_path / "mini.yaml")
    moved = engine.start(spec, data, desk, at("2025-11-10 10:00"))
    engine.close()
    older = tmp_path / "older.db"
    shutil.copy(store, older)  # the copy someone keeps, with the case at its first event
    engine = Engine(store)
    dispatched = engine.act(moved.id, "dispatch", desk, at=at("2025-11-10 10:01"))
    new = engine.start(spec, data, desk, at("2025-11-10 10:02"))
    engine.close()
    checkpoint = _seal(store)
    shutil.copy(older, store)
    assert run("verify", "--db", str(store))[0] == 0  # the older copy is consistent in itself
    code, out, _ = _against(store, checkpoint)
    assert code == 1
    assert sorted(out) == sorted(
        [
            f"case {moved.id}: event 2: missing: the history now ends at event 1 "
            f"(sealed with {dispatched.last_seq} events)",
            f"case {new.id}: event 1: missing: the case is gone (sealed with 1 events)",
            f"store: the event log now ends at position {_last_pos(older)}, before the sealed "
            f"{_last_pos(older) + dispatched.last_seq} "
            "(events were removed from its end)",
        ]
    )


def _last_pos(store: Path) -> int:
    db = sqlite3.connect(store)
    (pos,) = db.execute("SELECT max(pos) FROM events").fetchone()
    db.close()
    return pos


def _recompute_chain(store: Path, case_id: str, from_seq: int, actor: str) -> None:
    """The attack of issue 13: change an event, then rehash it and every event after it with the
    project's own hash function, and point the case row at the new head."""
    db = sqlite3.connect(store)
    rows = db.execute(
        "SELECT pos, seq, at, actor, role, kind, payload, prev_hash FROM events WHERE case_id=? ORDER BY seq",
        (case_id,),
    ).fetchall()
    prev = None
    with db:
        for pos, seq, when, who, role, kind, payload, prev_hash in rows:
            if seq < from_seq:
                prev = db.execute("SELECT hash FROM events WHERE pos=?", (pos,)).fetchone()[0]
                continue
            who = actor if seq == from_seq else who
            prev_hash = prev if prev is not None else prev_hash
            new_hash = event_hash(case_id, seq, when, who, role, kind, payload, prev_hash)
            db.execute("UPDATE events SET actor=?, prev_hash=?, hash=? WHERE pos=?", (who, prev_hash, new_hash, pos))
            prev = new_hash
        db.execute("UPDATE cases SET last_hash=? WHERE id=?", (prev, case_id))
    db.close()


def test_a_chain_recomputed_with_the_projects_own_hash_is_named(store):
    checkpoint = _seal(store)
    case_id, seq = next((c, s) for c, s in _cases(store) if s >= 3)
    _recompute_chain(store, case_id, 2, "someone else")
    code, out, _ = run("verify", "--db", str(store))
    assert (code, out.strip()) == (0, "history intact")  # plain verify is fooled
    code, out, _ = _against(store, checkpoint)
    assert code == 1
    assert len(out) == 1
    assert out[0].startswith(f"case {case_id}: event {seq}: not the event that was sealed (hash ")
    assert out[0].endswith(f"the history up to event {seq} was rewritten after the seal")


def test_an_altered_root_in_an_unsigned_checkpoint_is_a_difference(store):
    checkpoint = _seal(store)
    document = json.loads(checkpoint.read_text(encoding="utf-8"))
    document["root"] = "0" * 64
    checkpoint.write_text(json.dumps(document), encoding="utf-8")
    code, out, _ = _against(store, checkpoint)
    assert code == 1
    assert out == ["store: the root differs from the sealed one although every head matches"]


# -- signatures -----------------------------------------------------------------------------


def test_a_signed_checkpoint_names_its_key_and_refuses_an_edit(store, tmp_path):
    key = tmp_path / "auditor.pem"
    code, _, err = run("seal", "--new-key", str(key))
    fingerprint = re.search(r"fingerprint ([0-9a-f]{16})", err).group(1)
    assert code == 0 and key.stat().st_mode & 0o077 == 0
    checkpoint = _seal(store, "--key", str(key))
    code, out, _ = _against(store, checkpoint)
    assert code == 0 and f"(signed by key {fingerprint})" in out[0]
    text = checkpoint.read_text(encoding="utf-8")
    checkpoint.write_text(text.replace(f'"sealed_at": {at(NOW)}', f'"sealed_at": {at(NOW) + 86400}'), encoding="utf-8")
    assert checkpoint.read_text(encoding="utf-8") != text
    code, out, err = _against(store, checkpoint)
    assert code == 1 and out == []
    assert err == f"error: {checkpoint}: the signature does not match the content; the checkpoint was altered\n"


def test_a_key_that_is_not_ed25519_pem_is_refused(store, tmp_path):
    key = tmp_path / "key.pem"
    key.write_text("not a key", encoding="utf-8")
    code, _, err = run("seal", "--db", str(store), "--key", str(key), "--out", str(tmp_path / "c.json"))
    assert code == 2 and err.startswith(f"error: {key}: not an unencrypted PEM private key")
    assert not (tmp_path / "c.json").exists()


# -- malformed checkpoints: exit 2, one line ------------------------------------------------


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: "{", "is not a checkpoint (not JSON"),
        (lambda d: json.dumps({**d, "format": "other"}), "not a complaintflow checkpoint"),
        (lambda d: json.dumps({**d, "root": "xyz"}), "'root' is not 64 hex digits"),
        (lambda d: json.dumps({**d, "heads": {"data": "!!!"}}), "is not a well-formed checkpoint"),
        (lambda d: json.dumps({**d, "store": {**d["store"], "cases": 1}}), "do not add up to the counts"),
        (lambda d: json.dumps({k: v for k, v in d.items() if k != "store"}), "is not a well-formed checkpoint"),
        (lambda d: json.dumps({**d, "signature": "yes"}), "is not a well-formed checkpoint"),
        (lambda d: json.dumps({**d, "store": []}), "is not a well-formed checkpoint"),
        (lambda d: json.dumps({**d, "sealed_at": 10**20}), "'sealed_at' lies after the year 9999"),
        (lambda d: json.dumps({**d, "sealed_at": True}), "must be whole numbers"),
    ],
)
def test_a_malformed_checkpoint_exits_2_with_one_line(store, edit, message):
    checkpoint = _seal(store)
    checkpoint.write_text(edit(json.loads(checkpoint.read_text(encoding="utf-8"))), encoding="utf-8")
    code, out, err = _against(store, checkpoint)
    assert code == 2 and out == []
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err


def test_a_missing_checkpoint_exits_2(store, tmp_path):
    code, _, err = _against(store, tmp_path / "nope.json")
    assert code == 2 and err == f"error: cannot read {tmp_path / 'nope.json'}: No such file or directory\n"


# -- the independent checker in docs/audit.md ------------------------------------------------


def _checker(tmp_path: Path) -> Path:
    text = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")
    code = re.search(r"## An independent checker.*?```python\n(.*?)```", text, re.S).group(1)
    assert len([line for line in code.splitlines() if line.strip()]) <= 30  # "a 30-line checker"
    path = tmp_path / "checkroot.py"
    path.write_text(code, encoding="utf-8")
    return path


def test_the_documented_checker_recomputes_the_sealed_root_of_the_demo_store(store, tmp_path):
    checkpoint = _seal(store)
    sealed = json.loads(checkpoint.read_text(encoding="utf-8"))
    checker = _checker(tmp_path)
    now = subprocess.run([sys.executable, str(checker), str(store)], capture_output=True, text=True, check=True)
    assert now.stdout.split()[:4] == [
        sealed["root"],
        str(sealed["store"]["cases"]),
        "cases",
        str(sealed["store"]["events"]),
    ]
    against = subprocess.run(
        [sys.executable, str(checker), str(store), str(checkpoint)], capture_output=True, text=True
    )
    assert against.returncode == 0 and against.stdout.split()[0] == sealed["root"]
    case_id, _ = next((c, s) for c, s in _cases(store) if s >= 3)
    _recompute_chain(store, case_id, 2, "someone else")
    tampered = subprocess.run(
        [sys.executable, str(checker), str(store), str(checkpoint)], capture_output=True, text=True
    )
    assert tampered.returncode == 1
    assert tampered.stderr.strip() == f"the root differs from the sealed {sealed['root']}"


def test_signer_pins_the_key_so_a_checkpoint_signed_anew_is_refused(store, tmp_path):
    auditor, mallory = tmp_path / "auditor.pem", tmp_path / "mallory.pem"
    fingerprints = []
    for key in (auditor, mallory):
        _, _, err = run("seal", "--new-key", str(key))
        fingerprints.append(re.search(r"fingerprint ([0-9a-f]{16})", err).group(1))
    assert fingerprints[0] != fingerprints[1]
    checkpoint = _seal(store, "--key", str(auditor))
    code, _, _ = run("verify", "--db", str(store), "--against", str(checkpoint), "--signer", fingerprints[0])
    assert code == 0
    checkpoint.unlink()
    forged = _seal(store, "--key", str(mallory))  # a checkpoint made anew with someone else's key
    code, out, err = run("verify", "--db", str(store), "--against", str(forged), "--signer", fingerprints[0])
    assert (code, out) == (1, "")
    assert (
        err
        == f"error: {forged}: the checkpoint is signed by key {fingerprints[1]}, not signed by key {fingerprints[0]}\n"
    )
    assert run("verify", "--db", str(store), "--signer", fingerprints[0])[0] == 2


def test_events_lost_with_the_wal_after_a_seal_are_reported(store, tmp_path):
    desk, data = Actor("wang", ("desk",)), {"customer_name": "张三", "severity": "general"}
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    engine = Engine(store)
    spec = engine.load_process(tmp_path / "mini.yaml")
    case = engine.start(spec, data, desk, at("2025-11-10 10:00"))
    wal = Path(f"{store}-wal")
    assert wal.exists() and wal.stat().st_size > 0  # acknowledged, and only in the WAL so far
    # Sealed from another process (which sees the WAL, so the new case is sealed) that closes its store.
    checkpoint = tmp_path / "seal.json"
    seal = [sys.executable, str(ROOT / "cli.py"), "seal", "--db", str(store), "--now", NOW, "--out", str(checkpoint)]
    subprocess.run(seal, capture_output=True, check=True)
    without_wal = tmp_path / "main-file-only.db"
    shutil.copy(store, without_wal)  # the main file as it is while the WAL still holds the new case
    engine.close()
    shutil.copy(without_wal, store)
    for suffix in ("-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    assert run("verify", "--db", str(store)) == (0, "history intact\n", "")  # SQLite cannot see the loss
    code, out, _ = _against(store, checkpoint)
    assert code == 1
    assert f"case {case.id}: event 1: missing: the case is gone (sealed with {case.last_seq} events)" in out
