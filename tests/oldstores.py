"""Stores of older formats, built for tests from a store the engine wrote: the same histories, hashed and
laid out as that release did, so the upgrade is tested on the real thing without binary fixtures."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from complaintflow import canonical
from complaintflow.runtime.events import GENESIS, event_hash


def _inline_personal(payload: str, personal: str | None) -> str:
    """The payload as a store before format 5 held it: personal values inside, where commitments are now."""
    if personal is None:
        return payload
    value = canonical.loads(payload)
    for key, kept in canonical.loads(personal).items():
        part, name = key.split(".", 1)
        value[part][name] = kept["value"]
    return canonical.dumps(value)


def _rechain(db: sqlite3.Connection, rule: int) -> None:
    """Every event's payload with its personal values inlined, hashed under ``rule`` and chained anew."""
    rows = db.execute(
        "SELECT pos, case_id, seq, at, actor, role, kind, payload, personal FROM events ORDER BY pos"
    ).fetchall()
    heads: dict[str, str] = {}
    for pos, case_id, seq, at, actor, role, kind, payload, personal in rows:
        payload = _inline_personal(payload, personal)
        prev = heads.get(case_id, GENESIS)
        heads[case_id] = event_hash(case_id, seq, at, actor, role, kind, payload, prev, rule=rule)
        db.execute("UPDATE events SET payload=?, prev_hash=?, hash=? WHERE pos=?", (payload, prev, heads[case_id], pos))
    db.executemany("UPDATE cases SET last_hash=? WHERE id=?", [(h, c) for c, h in heads.items()])
    db.execute("ALTER TABLE events DROP COLUMN personal")


def _without_tenants(db: sqlite3.Connection) -> None:
    """A format-6 store's tables as format 5 had them: no tenant column, no deployments per tenant."""
    tenants = {r[0] for r in db.execute("SELECT DISTINCT tenant FROM cases")}
    assert tenants <= {"default"}, "a store from before tenants holds the default tenant's cases only"
    db.execute("DROP INDEX cases_tenant_opened")
    db.execute("ALTER TABLE cases DROP COLUMN tenant")
    db.execute("DROP TABLE tenant_processes")


def as_format_5(path: Path) -> None:
    """Turn a format-6 store into the format-5 store the release before tenants would have written."""
    db = sqlite3.connect(path)
    with db:
        _without_tenants(db)
        db.execute("UPDATE meta SET value='5' WHERE key='format_version'")
    db.close()


def as_format_4(path: Path) -> None:
    """Turn a format-6 store into the format-4 store the release before that would have written: personal
    values inside the hashed payloads (rule 2), no ``personal`` column, no tenants."""
    db = sqlite3.connect(path)
    with db:
        _without_tenants(db)
        _rechain(db, rule=2)
        db.execute("UPDATE meta SET value='4' WHERE key='format_version'")
    db.close()


def as_format_3(path: Path) -> None:
    """Turn a format-6 store into the format-3 store the releases before format 4 would have written: every
    event hashed under rule 1 (chained anew from the first) with its personal values inside, no upgrades
    table, no rule-2 position, no tenants."""
    db = sqlite3.connect(path)
    with db:
        _without_tenants(db)
        _rechain(db, rule=1)
        db.execute("DROP TABLE upgrades")
        db.execute("DELETE FROM meta WHERE key='rule2_from_pos'")
        db.execute("UPDATE meta SET value='3' WHERE key='format_version'")
    db.close()
