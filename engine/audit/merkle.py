"""The Merkle tree over case heads, in the form of RFC 6962 section 2.1 with SHA-256.

A leaf is the UTF-8 text ``"<case_id> <seq> <hash>"`` of one case's head; leaves are sorted by case id.
A leaf's hash is SHA-256 of byte 0x00 then the leaf, an inner node's is SHA-256 of byte 0x01 then its two
children, and a tree of n > 1 leaves splits at the largest power of two below n; the empty tree's root is
SHA-256 of nothing. Pairing level by level and carrying an odd last node up unchanged gives that same
root without recursion, which is what ``merkle_root`` does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def leaf_text(case_id: str, seq: int, event_hash: str) -> bytes:
    # Unambiguous although a case id may hold spaces: seq and hash have fixed forms, read from the right.
    return f"{case_id} {seq} {event_hash}".encode()


def merkle_root(leaves: Iterable[bytes]) -> str:
    """The hex root of the tree over ``leaves``, taken in the order given."""
    level = [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        paired = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()
