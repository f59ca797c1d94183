"""Tenants on one store: each sees its own processes and cases only, the scheduler serves them all, the
tenant is under the hash chain, and a store from before tenants upgrades to them (engine/tenants.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from helpers import MINI, at, ids
from oldstores import as_format_5

from complaintflow import Actor, Engine, RefusedError, StoreError
from complaintflow.audit.upgrade import upgrade_store
from complaintflow.audit.verify import verify_store
from complaintflow.errors import BadArgumentError
from complaintflow.store.base import CaseQuery
from complaintflow.store.sqlite import FORMAT_VERSION, SQLiteStore
from complaintflow.tenants import DEFAULT_TENANT, check_tenant

DESK = Actor("wang", ("desk",))
DATA = {"customer_name": "张三", "severity": "general"}
# The same process id and version with other rules: another company's copy of it.
OTHER_MINI = MINI.replace("within: 3m", "within: 10m")


def _two_tenants(store) -> tuple[Engine, Engine]:
    acme = Engine(store, tenant="acme", new_case_id=ids("a"))
    bigco = acme.for_tenant("bigco")
    bigco._new_case_id = ids("b")
    return acme, bigco


def test_each_tenant_sees_its_own_processes_and_cases_only(any_store):
    acme, bigco = _two_tenants(any_store)
    mine = acme.load_process(MINI.encode())
    theirs = bigco.load_process(OTHER_MINI.encode())  # same id and version, other text: no conflict across tenants
    assert mine.content_hash != theirs.content_hash
    assert [(p.tenant, p.content_hash) for p in acme.processes()] == [("acme", mine.content_hash)]
    assert [(p.tenant, p.content_hash) for p in bigco.processes()] == [("bigco", theirs.content_hash)]

    a = acme.start(mine, DATA, DESK, at("2025-11-03 10:00"))
    b = bigco.start(theirs, DATA, DESK, at("2025-11-03 10:00"))
    assert (a.tenant, b.tenant) == ("acme", "bigco")
    assert [c.id for c in acme.cases()] == [a.id] and [c.id for c in bigco.cases()] == [b.id]
    assert [c.id for c in acme.cases(CaseQuery(tenant="bigco"))] == [a.id]  # a view cannot widen its query

    unknown = f"no case '{a.id}' in this store"
    for call in (
        lambda: bigco.case(a.id),
        lambda: bigco.history(a.id),
        lambda: bigco.timers(a.id),
        lambda: bigco.available_actions(a.id, DESK),
        lambda: bigco.act(a.id, "dispatch", DESK, at=at("2025-11-03 10:01")),
        lambda: bigco.verify(a.id),
        lambda: bigco.erase(a.id, DESK, at=at("2025-11-03 10:01"), reason="asked"),
    ):
        with pytest.raises(RefusedError) as refused:
            call()
        assert str(refused.value) == unknown  # exactly what a missing case says: nothing tells it exists
    assert acme.case(a.id).revision == 1  # nothing bigco tried changed it
    with pytest.raises(RefusedError, match="was not loaded by this engine"):
        bigco.start(mine, DATA, DESK, at("2025-11-03 10:05"))  # acme's process is not bigco's to open cases on


def test_the_scheduler_fires_every_tenants_deadlines_and_messages_name_the_tenant(any_store):
    acme, bigco = _two_tenants(any_store)
    a = acme.start(acme.load_process(MINI.encode()), DATA, DESK, at("2025-11-03 10:00"))
    b = bigco.start(bigco.load_process(OTHER_MINI.encode()), DATA, DESK, at("2025-11-03 10:00"))
    fired = acme.tick(at("2025-11-03 10:20"))  # any view's tick serves the whole store
    breached = {e.case_id for e in fired if e.kind == "deadline_breached"}
    assert breached == {a.id, b.id}
    tenants = {m.case_id: m.message["tenant"] for m in any_store.outbox(None, 100)}
    assert tenants == {a.id: "acme", b.id: "bigco"}
    assert acme.verify() == []  # the whole store: both tenants' histories


def test_a_case_of_the_default_tenant_hashes_as_before_tenants(any_store):
    engine = Engine(any_store, new_case_id=ids())
    case = engine.start(engine.load_process(MINI.encode()), DATA, DESK, at("2025-11-03 10:00"))
    started = engine.history(case.id)[0]
    assert case.tenant == DEFAULT_TENANT and "tenant" not in started.payload
    other = engine.for_tenant("acme")
    b = other.start(other.load_process(MINI.encode()), DATA, DESK, at("2025-11-03 10:00"))
    assert other.history(b.id)[0].payload["tenant"] == "acme"


def test_a_case_row_moved_to_another_tenant_in_the_database_no_longer_verifies(tmp_path):
    acme = Engine(tmp_path / "t.db", tenant="acme", new_case_id=ids())
    case = acme.start(acme.load_process(MINI.encode()), DATA, DESK, at("2025-11-03 10:00"))
    acme.close()
    db = sqlite3.connect(tmp_path / "t.db")
    db.execute("UPDATE cases SET tenant='bigco' WHERE id=?", (case.id,))
    db.commit()
    db.close()
    engine = Engine(tmp_path / "t.db")
    problems = [str(p) for p in engine.verify()]
    assert problems == [f"case {case.id}: event {case.last_seq}: the stored case row does not match its history"]


@pytest.mark.parametrize("name", ["", "Acme", "a b", "-x", "x" * 64, "租户", None, 7])
def test_a_bad_tenant_name_is_refused_in_one_line(name, tmp_path):
    with pytest.raises(BadArgumentError, match="tenant must be 1-63 characters"):
        check_tenant(name)
    with pytest.raises(BadArgumentError):
        Engine(tmp_path / "t.db", tenant=name)
    assert not (tmp_path / "t.db").exists()  # refused before the store was opened


def test_a_format_5_store_is_read_as_the_default_tenants_and_upgraded_to_tenants(tmp_path):
    path = tmp_path / "old.db"
    engine = Engine(path, new_case_id=ids())
    spec = engine.load_process(MINI.encode())
    case = engine.start(spec, DATA, DESK, at("2025-11-03 10:00"))
    engine.act(case.id, "dispatch", DESK, at=at("2025-11-03 10:01"))
    engine.close()
    as_format_5(path)

    old = Engine(path)  # read as it is: every case the default tenant's
    assert [c.tenant for c in old.cases()] == [DEFAULT_TENANT]
    assert [p.tenant for p in old.processes()] == [DEFAULT_TENANT]
    assert old.for_tenant("acme").cases() == []
    with pytest.raises(StoreError, match="has store format 5, made before tenants; run 'complaintflow upgrade"):
        old.act(case.id, "finish", DESK, {"result": "ok"}, at=at("2025-11-03 10:30"))
    old.close()

    done = upgrade_store(Engine(SQLiteStore(path, for_upgrade=True)), at("2025-11-03 12:30"))
    assert done is not None and (done.from_format, done.to_format, done.cases) == (5, FORMAT_VERSION, 1)
    engine = Engine(path)
    assert engine.store.format_version == FORMAT_VERSION  # type: ignore[attr-defined]
    engine.act(case.id, "finish", Actor("li", ("head",)), {"result": "ok"}, at=at("2025-11-03 10:30"))
    acme = engine.for_tenant("acme")
    acme.start(acme.load_process(MINI.encode()), DATA, DESK, at("2025-11-03 11:00"))
    assert [c.tenant for c in engine.store.cases(CaseQuery())] == [DEFAULT_TENANT, "acme"]
    assert verify_store(engine) == []


def test_processes_are_kept_once_and_listed_per_tenant(tmp_path):
    store = SQLiteStore(tmp_path / "t.db")
    acme, bigco = _two_tenants(store)
    acme.load_process(MINI.encode())
    bigco.load_process(MINI.encode())  # the very same text
    assert store.db.execute("SELECT count(*) FROM processes").fetchone()[0] == 1
    assert [p.tenant for p in store.processes()] == ["acme", "bigco"]
    with pytest.raises(RefusedError, match="already in this store with different content"):
        acme.load_process(OTHER_MINI.encode())  # within one tenant, a version is one text
    store.close()


def test_an_export_carries_every_tenant_and_an_import_keeps_them_apart(tmp_path):
    from complaintflow.store.transfer import export_store, import_export

    acme, bigco = _two_tenants(SQLiteStore(tmp_path / "a.db"))
    a = acme.start(acme.load_process(MINI.encode()), DATA, DESK, at("2025-11-03 10:00"))
    bigco.load_process(MINI.encode())
    b = bigco.start(bigco.load_process(OTHER_MINI.encode().replace(b"version: 1", b"version: 2")), DATA, DESK, 1)
    out = tmp_path / "all.jsonl"
    with open(out, "wb") as handle:
        export_store(acme.store, handle.write, at("2025-11-03 12:00"))
    target = Engine(tmp_path / "b.db")
    import_export(target, out)
    assert {c.id: c.tenant for c in target.store.cases(CaseQuery())} == {a.id: "acme", b.id: "bigco"}
    assert [(p.tenant, p.version) for p in target.store.processes()] == [("acme", 1), ("bigco", 1), ("bigco", 2)]
    assert [c.id for c in target.for_tenant("bigco").cases()] == [b.id]
    assert verify_store(target) == []


def test_an_export_of_a_store_without_tenant_lists_is_refused_naming_the_line(tmp_path):
    from complaintflow import canonical
    from complaintflow.store.transfer import ExportFileError, check_export, export_store

    engine = Engine(tmp_path / "a.db")
    engine.load_process(MINI.encode())
    out = tmp_path / "x.jsonl"
    with open(out, "wb") as handle:
        export_store(engine.store, handle.write, 0)
    lines = out.read_bytes().splitlines(keepends=True)
    process = canonical.loads(lines[1])
    process["tenants"] = ["Not A Tenant"]
    lines[1] = (canonical.dumps(process) + "\n").encode()
    out.write_bytes(b"".join(lines))
    with pytest.raises(ExportFileError, match="line 2: 'Not A Tenant' is not a tenant name"):
        check_export(out)


def test_old_exports_of_format_5_are_read_as_the_default_tenants(tmp_path: Path):
    from complaintflow import canonical
    from complaintflow.store.transfer import check_export

    engine = Engine(tmp_path / "a.db", new_case_id=ids())
    engine.start(engine.load_process(MINI.encode()), DATA, DESK, at("2025-11-03 10:00"))
    from complaintflow.store.transfer import export_store

    out = tmp_path / "x.jsonl"
    with open(out, "wb") as handle:
        export_store(engine.store, handle.write, 0)
    lines = [canonical.loads(raw) for raw in out.read_bytes().splitlines()]
    lines[0]["store_format"] = 5
    del lines[1]["tenants"]
    assert check_export(_rewritten(out, lines)).cases == 1


def _rewritten(path: Path, lines: list[dict]) -> Path:
    """The export with its lines replaced and its end line's digest made anew (as an older release wrote it)."""
    import hashlib

    from complaintflow import canonical

    body = b"".join((canonical.dumps(line) + "\n").encode() for line in lines[:-1])
    end = dict(lines[-1], digest="sha256:" + hashlib.sha256(body).hexdigest())
    path.write_bytes(body + (canonical.dumps(end) + "\n").encode())
    return path


# -- the command line: --tenant (or COMPLAINTFLOW_TENANT) names whose cases a command works on ------------


def _cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    from click.testing import CliRunner

    import cli

    result = CliRunner().invoke(cli.main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


MALL_DATA = [
    f"--data={pair}"
    for pair in (
        "customer_name=张三",
        "phone=138",
        "channel=phone_call",
        "content=x",
        "category=tenant",
        "severity=general",
    )
]


def test_the_command_line_works_on_the_tenant_it_is_told(tmp_path):
    db = str(tmp_path / "cf.db")
    opened = ["start", "shopping_mall", "--db", db, "--as", "wang", "--role", "cs_centre", "--now", "2025-11-03 10:00"]
    code, out, err = _cli("--tenant", "acme", *opened, *MALL_DATA)
    assert code == 0, err
    case_id = out.strip()
    assert _cli("cases", "--db", db, "--format", "json")[1].count(case_id) == 0  # the default tenant's: none
    code, out, _ = _cli("cases", "--db", db, "--format", "json", env={"COMPLAINTFLOW_TENANT": "acme"})
    assert code == 0 and case_id in out
    code, _, err = _cli("history", case_id, "--db", db)
    assert code == 1 and f"no case '{case_id}'" in err
    assert _cli("--tenant", "acme", "history", case_id, "--db", db)[0] == 0
    assert _cli("verify", "--db", db)[:2] == (0, "history intact\n")  # the whole store, every tenant


def test_a_bad_tenant_on_the_command_line_is_one_line_and_exit_2(tmp_path):
    code, out, err = _cli("--tenant", "Acme Corp", "cases", "--db", str(tmp_path / "cf.db"))
    assert (code, out) == (2, "") and err.startswith("error: --tenant: tenant must be") and err.count("\n") == 1
    assert not (tmp_path / "cf.db").exists()


def _two_desks(path: Path) -> dict[str, str]:
    """A store of two tenants, each with a case, a user holding a token and the case, and a delivery:
    tenant -> its case id."""
    from complaintflow.service import auth
    from complaintflow.store.directory import Delivery, User
    from complaintflow.store.sqlite_directory import SQLiteDirectory

    acme, bigco = _two_tenants(SQLiteStore(path))
    cases = {}
    for engine, text in ((acme, MINI), (bigco, OTHER_MINI)):
        cases[engine.tenant] = engine.start(engine.load_process(text.encode()), DATA, DESK, at("2025-11-03 10:00")).id
    acme.close()
    directory = SQLiteDirectory(path)
    for tenant, case_id in cases.items():
        directory.add_user(User(f"{tenant}-wang", "王芳", ("desk",), {}, False, None, tenant), 1)
        auth.issue(directory, f"{tenant}-wang", "token", 2, label="laptop")
        directory.assign(case_id, f"{tenant}-wang", f"{tenant}-wang", 3)
        note = {"subject": "逾期", "case": case_id}
        directory.queue(
            [Delivery(f"d-{tenant}", f"{case_id}:2", "hook", note, "pending", 0, 4, None, tenant=tenant)], 4
        )
    directory.close()
    return cases


def test_a_tenants_export_holds_its_part_only_and_moves_it_to_a_store_of_its_own(tmp_path):
    import json

    from click.testing import CliRunner

    import cli
    from complaintflow.store.sqlite_directory import SQLiteDirectory

    source, out, target = tmp_path / "both.db", tmp_path / "acme.jsonl", tmp_path / "acme.db"
    cases = _two_desks(source)
    done = CliRunner().invoke(cli.main, ["--tenant", "acme", "export", "--db", str(source), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "of tenant acme" in done.stderr
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["tenant"] == "acme" and lines[0]["counts"]["cases"] == 1
    assert [line["tenants"] for line in lines if line.get("type") == "process"] == [["acme"]]
    assert {line["case_id"] for line in lines if line.get("type") == "event"} == {cases["acme"]}
    kept = {line["type"]: line for line in lines[1:-1] if line["type"] not in ("process", "event")}
    assert {k: (v.get("tenant"), v.get("user_id")) for k, v in kept.items()} == {
        "user": ("acme", None),
        "credential": (None, "acme-wang"),
        "assignment": ("acme", "acme-wang"),
        "assignment_log": ("acme", "acme-wang"),
        "delivery": ("acme", None),
    }
    assert "bigco" not in out.read_text(encoding="utf-8")

    done = CliRunner().invoke(cli.main, ["import", str(out), "--db", str(target)])
    assert done.exit_code == 0, done.output
    moved = Engine(target)
    assert [(c.id, c.tenant) for c in moved.store.cases(CaseQuery())] == [(cases["acme"], "acme")]
    assert verify_store(moved) == []
    moved.close()
    directory = SQLiteDirectory(target)
    assert [u.id for u in directory.users()] == ["acme-wang"]
    assert directory.assignee(cases["acme"]) == "acme-wang"
    assert [d.id for d in directory.deliveries()] == ["d-acme"]
    directory.close()

    everything = CliRunner().invoke(cli.main, ["export", "--db", str(source), "--out", str(tmp_path / "all.jsonl")])
    assert everything.exit_code == 0 and "of tenant" not in everything.stderr  # no --tenant: the whole store
    assert "bigco" in (tmp_path / "all.jsonl").read_text(encoding="utf-8")


def test_a_tenant_with_nothing_in_the_store_is_refused_and_no_file_is_left(tmp_path):
    from click.testing import CliRunner

    import cli

    source, out = tmp_path / "both.db", tmp_path / "typo.jsonl"
    _two_desks(source)
    done = CliRunner().invoke(cli.main, ["--tenant", "acne", "export", "--db", str(source), "--out", str(out)])
    assert done.exit_code == 2
    assert (
        done.stderr.strip()
        == "error: tenant 'acne' has no processes, cases or users in this store; nothing was exported"
    )
    assert not out.exists() and not out.with_name("typo.jsonl.tmp").exists()
