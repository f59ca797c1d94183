"""Size limits: cut a text to a byte budget on a character boundary and say that it was cut.

Every channel measures what it sends in UTF-8 bytes (the unit the services count in) and never sends
more than its limit; what is cut is replaced by a visible marker so a reader knows to open the link.
"""

from __future__ import annotations

MARKER = "…（已截断 truncated）"


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def truncate_utf8(text: str, max_bytes: int, marker: str = MARKER) -> str:
    """``text`` if it fits in ``max_bytes``, else its longest prefix that fits with ``marker`` after it."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    room = max_bytes - utf8_len(marker)
    if room <= 0:
        return marker.encode("utf-8")[: max(max_bytes, 0)].decode("utf-8", "ignore")
    return data[:room].decode("utf-8", "ignore") + marker
