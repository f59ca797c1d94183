"""`complaintflow users`, `tokens` and `deliveries`: the directory managed from the command line."""

from __future__ import annotations

import json

from click.testing import CliRunner

import cli
from complaintflow.service import auth
from complaintflow.store.directory import Delivery
from complaintflow.store.sqlite_directory import SQLiteDirectory as Directory


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(cli.main, list(args), input=stdin)


def _store(tmp_path) -> str:
    db = str(tmp_path / "desk.db")
    made = run(
        "start",
        "property_management",
        "--db",
        db,
        "--as",
        "x",
        "--role",
        "receiver",
        "--now",
        "2025-09-29 10:00",
        "--data",
        "customer_name=李雷",
        "--data",
        "subject=电梯",
    )
    assert made.exit_code == 0, made.output
    return db


def test_users_are_added_listed_and_a_token_authenticates_them(tmp_path):
    db = _store(tmp_path)
    added = run(
        "users",
        "add",
        "wang",
        "--name",
        "王芳",
        "--role",
        "receiver",
        "--role",
        "shopping_mall:cs_centre",
        "--contact",
        "mobile=13800000000",
        "--password-stdin",
        "--db",
        db,
        stdin="s3cret-pass\n",
    )
    assert added.exit_code == 0, added.output
    listed = json.loads(run("users", "list", "--format", "json", "--db", db).stdout)
    assert listed == [
        {
            "id": "wang",
            "name": "王芳",
            "roles": ["receiver", "shopping_mall:cs_centre"],
            "contacts": {"mobile": "13800000000"},
            "admin": False,
            "tenant": "default",
        }
    ]
    made = run("tokens", "create", "wang", "--db", db)
    token = made.stdout.strip()
    assert made.exit_code == 0 and auth.well_formed(token)
    directory = Directory(db)
    caller = auth.authenticate(directory, token, 0)
    assert caller.roles_in("shopping_mall") == ("receiver", "cs_centre")
    assert caller.roles_in("property_management") == ("receiver",)
    assert auth.login(directory, "wang", "s3cret-pass", 0)[0].startswith("cfs_")
    directory.close()
    assert run("tokens", "revoke", token[4:12], "--db", db).exit_code == 0
    assert run("tokens", "revoke", token[4:12], "--db", db).exit_code == 1


def test_bad_input_is_one_line_and_a_non_zero_exit(tmp_path):
    db = _store(tmp_path)
    missing = run("users", "list", "--db", str(tmp_path / "typo.db"))
    assert missing.exit_code == 2 and "no store" in missing.output and not (tmp_path / "typo.db").exists()
    assert run("users", "add", "a", "--name", "A", "--contact", "nope", "--db", db).exit_code == 2
    assert run("users", "add", "a", "--name", "A", "--db", db).exit_code == 0
    twice = run("users", "add", "a", "--name", "A", "--db", db)
    assert twice.exit_code == 1 and "already exists" in twice.output and "Traceback" not in twice.output
    short = run("users", "add", "b", "--name", "B", "--password-stdin", "--db", db, stdin="short\n")
    assert short.exit_code == 2
    assert run("tokens", "create", "nobody", "--db", db).exit_code == 1


def test_a_dead_delivery_is_listed_and_redriven(tmp_path):
    db = _store(tmp_path)
    directory = Directory(db)
    directory.queue([Delivery("c:1@wecom", "c:1", "wecom", {"x": 1}, "pending", 0, 0, None)], 0)
    directory.record_attempt("c:1@wecom", "dead", 0, "93000 invalid webhook key", 0)
    directory.close()
    dead = json.loads(run("deliveries", "list", "--status", "dead", "--format", "json", "--db", db).stdout)
    assert [(d["id"], d["last_error"]) for d in dead] == [("c:1@wecom", "93000 invalid webhook key")]
    assert run("deliveries", "redrive", "c:1@wecom", "--db", db).exit_code == 0
    assert run("deliveries", "redrive", "c:1@wecom", "--db", db).exit_code == 1
    assert json.loads(run("deliveries", "list", "--status", "pending", "--format", "json", "--db", db).stdout)


def test_users_are_edited_and_disabled_from_the_command_line(tmp_path):
    db = _store(tmp_path)
    assert run("users", "add", "boss", "--name", "Boss", "--admin", "--db", db).exit_code == 0
    assert (
        run(
            "users", "add", "wang", "--name", "王芳", "--role", "receiver", "--contact", "mobile=1", "--db", db
        ).exit_code
        == 0
    )
    edited = run(
        "users", "edit", "wang", "--role", "front_desk", "--contact", "email=w@x.cn", "--contact", "mobile=", "--db", db
    )
    assert edited.exit_code == 0, edited.output
    [wang] = [u for u in json.loads(run("users", "list", "--format", "json", "--db", db).output) if u["id"] == "wang"]
    assert wang["roles"] == ["front_desk"] and wang["contacts"] == {"email": "w@x.cn"} and wang["name"] == "王芳"
    directory = Directory(db)
    token, _ = auth.issue(directory, "wang", "token", 0)
    directory.close()
    assert run("users", "disable", "wang", "--db", db).exit_code == 0
    directory = Directory(db)
    try:
        auth.authenticate(directory, token, 1)
        raise AssertionError("a disabled user's token still works")
    except auth.AuthError as exc:
        assert "revoked" in str(exc)
    finally:
        directory.close()
    last = run("users", "disable", "boss", "--db", db)
    assert last.exit_code == 1 and "last admin" in last.output
    unknown = run("users", "edit", "nobody", "--name", "x", "--db", db)
    assert unknown.exit_code == 1 and "no user 'nobody'" in unknown.output


def test_users_tokens_and_deliveries_are_listed_per_tenant(tmp_path):
    db = _store(tmp_path)
    added = run("users", "add", "a-wang", "--name", "王芳", "--tenant", "acme", "--db", db)
    assert added.exit_code == 0 and "tenant acme" in added.output, added.output
    assert run("users", "add", "li", "--name", "李雷", "--db", db).exit_code == 0
    assert run("--tenant", "bolt", "users", "add", "b-li", "--name", "李", "--db", db).exit_code == 0
    assert [
        u["tenant"] for u in json.loads(run("users", "list", "--tenant", "bolt", "--format", "json", "--db", db).stdout)
    ] == ["bolt"]
    assert run("users", "disable", "b-li", "--db", db).exit_code == 0
    everyone = run("users", "list", "--db", db).stdout.splitlines()
    assert everyone == ["a-wang\t王芳\tacme\t", "li\t李雷\tdefault\t"]
    acme = json.loads(run("users", "list", "--tenant", "acme", "--format", "json", "--db", db).stdout)
    assert [(u["id"], u["tenant"]) for u in acme] == [("a-wang", "acme")]
    made = run("tokens", "create", "a-wang", "--db", db)
    assert made.exit_code == 0 and "(tenant acme)" in made.stderr, made.output
    directory = Directory(db)
    assert auth.authenticate(directory, made.stdout.strip(), 0).tenant == "acme"  # the user's tenant
    directory.queue([Delivery("c:1@hook", "c:1", "hook", {}, "pending", 0, 0, None, None, "acme")], 0)
    directory.queue([Delivery("c:2@hook", "c:2", "hook", {}, "pending", 0, 0, None)], 0)
    directory.close()
    listed = json.loads(run("deliveries", "list", "--tenant", "acme", "--format", "json", "--db", db).stdout)
    assert [(d["id"], d["tenant"]) for d in listed] == [("c:1@hook", "acme")]
    assert len(json.loads(run("deliveries", "list", "--format", "json", "--db", db).stdout)) == 2


def test_a_bad_tenant_name_is_one_line_exit_2_and_adds_nobody(tmp_path):
    db = _store(tmp_path)
    for args in (
        ("users", "add", "x", "--name", "X", "--tenant", "Acme Corp"),
        ("users", "list", "--tenant", "-acme"),
        ("deliveries", "list", "--tenant", ""),
    ):
        bad = run(*args, "--db", db)
        assert bad.exit_code == 2 and len(bad.output.strip().splitlines()) == 1, bad.output
        assert "Traceback" not in bad.output and "tenant" in bad.output
    assert json.loads(run("users", "list", "--format", "json", "--db", db).stdout) == []
