"""The editor shows the same hint as the CLI: a real yaml-language-server (the engine of VS Code's YAML
extension) is given a process file whose modeline points at our schema, with a duration written ``3min``.

It runs where yaml-language-server is installed: ``YAML_LANGUAGE_SERVER`` names its launcher (for example
``/tmp/yls/node_modules/.bin/yaml-language-server`` after ``npm install yaml-language-server`` there), or
one is found on PATH. Without it the test is skipped with that instruction: CI does not install Node.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER = os.environ.get("YAML_LANGUAGE_SERVER") or shutil.which("yaml-language-server")
pytestmark = pytest.mark.skipif(
    not LAUNCHER or not shutil.which("node"),
    reason="needs yaml-language-server (npm install yaml-language-server; set YAML_LANGUAGE_SERVER) and node",
)


class LanguageServer:
    """Just enough of an LSP client over stdio: requests, notifications, and the notifications it sends."""

    def __init__(self, launcher: str) -> None:
        self.process = subprocess.Popen(
            [launcher, "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.inbox: Queue[dict[str, Any]] = Queue()
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.process.stdout
        assert out is not None
        while True:
            length = 0
            while (line := out.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            self.inbox.put(json.loads(out.read(length)))

    def send(self, method: str, params: Any, *, request: bool = False) -> int | None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self._next_id += 1
            message["id"] = self._next_id
        body = json.dumps(message).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()
        return message.get("id")

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        while True:
            try:
                message = self.inbox.get(timeout=timeout)
            except Empty:
                raise AssertionError(f"the language server sent no {method}") from None
            if message.get("method") == method:
                return message
            if message.get("method") == "workspace/configuration":  # answer: one settings object per item
                items = message["params"]["items"]
                answer = [{"validate": True, "schemaStore": {"enable": False}} for _ in items]
                body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": answer}).encode()
                assert self.process.stdin is not None
                self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
                self.process.stdin.flush()

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


def test_a_bad_duration_shows_the_accepted_units_in_the_editor(tmp_path):
    assert LAUNCHER is not None
    schema = tmp_path / "process.schema.json"
    schema.write_text((ROOT / "schemas" / "process.schema.json").read_text(encoding="utf-8"), encoding="utf-8")
    text = (ROOT / "processes" / "shopping_mall.yaml").read_text(encoding="utf-8")
    first, rest = text.split("\n", 1)
    assert first.startswith("# yaml-language-server: $schema=")
    text = "# yaml-language-server: $schema=process.schema.json\n" + rest
    bad, edits = re.subn(r"within: \d+[a-z]+", "within: 3min", text, count=1)  # the process owner's mistake
    assert edits == 1
    path = tmp_path / "my_mall.yaml"
    path.write_text(bad, encoding="utf-8")
    server = LanguageServer(LAUNCHER)
    try:
        server.send(
            "initialize",
            {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {"workspace": {"configuration": True}}},
            request=True,
        )
        server.send("initialized", {})
        server.send("workspace/didChangeConfiguration", {"settings": {"yaml": {"validate": True}}})
        uri = path.as_uri()
        server.send(
            "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": bad}}
        )
        while True:
            diagnostics = server.wait_for("textDocument/publishDiagnostics")["params"]
            if diagnostics["uri"] == uri and diagnostics["diagnostics"]:
                break
    finally:
        server.close()
    messages = [d["message"] for d in diagnostics["diagnostics"]]
    line = next(i for i, x in enumerate(bad.split("\n")) if "within: 3min" in x)
    at_line = [d for d in diagnostics["diagnostics"] if d["range"]["start"]["line"] == line]
    assert at_line, messages
    shown = at_line[0]["message"]
    # the schema's own words, not the raw pattern: the units and a fix, in Chinese and English
    assert "wd(工作日)" in shown and "not 3min" in shown and "^" not in shown, shown
