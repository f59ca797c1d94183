"""Stores of older formats, built for tests from a store the engine wrote: the same histories, hashed and
laid out as that release did, so the upgrade is tested on the real thing without binary fixtures."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from complaintflow.runtime.events import GENESIS, event_hash


def as_format_3(path: Path) -> None:
    """Turn a format-4 store into the format-3 store the previous release would have written: every event
    hashed under rule 1 (chained anew from the first), no upgrades table, no rule-2 position."""
    db = sqlite3.connect(path)
    with db:
        rows = db.execute("SELECT pos, case_id, seq, at, actor, role, kind, payload FROM events ORDER BY pos")
        heads: dict[str, str] = {}
        for pos, case_id, seq, at, actor, role, kind, payload in rows.fetchall():
            prev = heads.get(case_id, GENESIS)
            heads[case_id] = event_hash(case_id, seq, at, actor, role, kind, payload, prev, rule=1)
            db.execute("UPDATE events SET prev_hash=?, hash=? WHERE pos=?", (prev, heads[case_id], pos))
        db.executemany("UPDATE cases SET last_hash=? WHERE id=?", [(h, c) for c, h in heads.items()])
        db.execute("DROP TABLE upgrades")
        db.execute("DELETE FROM meta WHERE key='rule2_from_pos'")
        db.execute("UPDATE meta SET value='3' WHERE key='format_version'")
    db.close()
