"""Structured logs: one JSON object a line (time, level, logger, message, and the exception if any), so
a log collector can index them without a parsing rule. The time is the record's own creation time."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(fmt: str) -> None:
    """Send the service's logs to standard error, as JSON lines (``json``) or plain text (``text``)."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonLines() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per delivery attempt is noise
