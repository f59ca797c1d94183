"""The serve configuration file: YAML, checked like a process file, every problem at its line and column.

Command-line options override the file. Secrets are named (an environment variable or a file), never
written in the file and never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UnusableInputError
from ..language.check import load_checked_file
from ..language.diagnostics import Diagnostic, Severity

SCHEMA = "serve.schema.json"


class ConfigError(UnusableInputError):
    """A serve configuration with problems; ``str()`` lists each at its line and column."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


@dataclass
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    base_url: str | None = None
    db: str | None = None
    processes: str | None = None
    batch: int = 256
    poll_seconds: float = 1.0
    lease_seconds: float = 15.0  # a notifier's leases run out this long after its last heartbeat
    head_timeout: float = 10.0  # seconds a client has to send a request head
    body_timeout: float = (
        30.0  # seconds a request body may stall  # how long a send in flight is held from other notifiers (real time)
    )
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Not a file key: ``serve --workers``. With more than one, the processes' SQLite writers take turns on a
    # lock file and their metrics are counted together.
    workers: int = 1


def load_config(path: str | Path | None) -> ServeConfig:
    if path is None:
        return ServeConfig()
    doc = load_checked_file(path, SCHEMA, "serve config", empty={})
    if any(d.severity is Severity.ERROR for d in doc.diagnostics):
        raise ConfigError(doc.diagnostics)
    data: dict[str, Any] = doc.data
    sched = data.get("scheduler", {})
    return ServeConfig(
        host=data.get("host", "127.0.0.1"),
        port=data.get("port", 8080),
        base_url=data.get("base_url"),
        db=data.get("db"),
        processes=data.get("processes"),
        batch=sched.get("batch", 256),
        poll_seconds=float(sched.get("poll_seconds", 1.0)),
        lease_seconds=float(data.get("notifier", {}).get("lease_seconds", 15)),
        head_timeout=float(data.get("http", {}).get("head_timeout_seconds", 10)),
        body_timeout=float(data.get("http", {}).get("body_timeout_seconds", 30)),
        channels=data.get("channels", {}),
    )
