"""``complaintflow upgrade``: bring an older store to the current format without rehashing anything.

A store of format 3 hashed its events under rule 1 (engine/canonical.py). Upgrading verifies every
history under that rule (chains, replay and the store-wide checks of audit/verify.py), refuses and
changes nothing if any problem is found, and otherwise records, in the same transaction, the upgrade with
a Merkle root over every case's head (the tree of docs/audit.md): the old events keep their hashes, and
``verify`` checks them and that seal ever after. Events written from then on are hashed under rule 2
(RFC 8785). Nothing upgrades a store behind its owner's back: an older store is read as it is by every
command, and only this one changes its format. The time is an argument.
"""

from __future__ import annotations

from ..runtime.engine import Engine
from ..runtime.errors import RefusedError
from ..store.base import Upgrade
from .merkle import leaf_text, merkle_root
from .verify import case_heads, verify_store


def upgrade_store(engine: Engine, at: int) -> Upgrade | None:
    """The upgrade done, or None when the store is current already (or cannot be upgraded: in memory)."""
    upgrade = getattr(engine.store, "upgrade", None)
    if not callable(upgrade):
        return None

    def verify_and_seal() -> tuple[int, int, str]:
        problems = [str(p) for p in verify_store(engine)]
        if problems:
            shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
            raise RefusedError(f"refused to upgrade a store that does not verify under its old hash rule: {shown}")
        heads = case_heads(engine)
        return len(heads), sum(seq for _, seq, _ in heads), merkle_root(leaf_text(*head) for head in heads)

    done = upgrade(verify_and_seal, at)
    return done if isinstance(done, Upgrade) else None
