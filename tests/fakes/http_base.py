"""The shared machinery of the HTTP fakes: a threaded stdlib server on 127.0.0.1, port 0, that records.

A subclass implements ``handle(request) -> (status, json answer)``; the base parses the request, records
it, answers throttled for the first ``throttle_first`` requests (with the service's own throttle reply)
and counts deliveries by the id the subclass extracts. Use as a context manager or start()/stop().
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any = None
    answer: tuple[int, Any] = (0, None)
    accepted: bool = False  # signature good and delivered (not throttled, not refused)
    extra: dict[str, Any] = field(default_factory=dict)


class FakeHttpServer:
    throttle_answer: tuple[int, Any] = (429, {"error": "throttled"})

    def __init__(self, *, clock: Callable[[], float] = time.time, throttle_first: int = 0) -> None:
        self.clock = clock
        self.throttle_first = throttle_first
        self.received: list[Request] = []
        self.delivered: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- to override -------------------------------------------------------------------------------------
    def handle(self, request: Request) -> tuple[int, Any]:
        raise NotImplementedError

    def delivery_id(self, request: Request) -> str:
        return request.headers.get("x-complaintflow-delivery", "")

    # -- machinery ---------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def count(self, delivery_id: str) -> int:
        with self._lock:
            return self.delivered[delivery_id]

    @property
    def accepted(self) -> list[Request]:
        with self._lock:
            return [r for r in self.received if r.accepted]

    def _answer(self, request: Request) -> tuple[int, Any]:
        with self._lock:
            self.received.append(request)
            throttled = self.throttle_first > 0
            if throttled:
                self.throttle_first -= 1
        if throttled:
            return self.throttle_answer
        status, answer = self.handle(request)
        if request.accepted:
            with self._lock:
                self.delivered[self.delivery_id(request)] += 1
        return status, answer

    def start(self) -> FakeHttpServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                try:
                    parsed = json.loads(body) if body else None
                except ValueError:
                    parsed = None
                request = Request(
                    path=url.path,
                    query={k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    json=parsed,
                )
                status, answer = fake._answer(request)
                request.answer = (status, answer)
                data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                if status == 429:
                    self.send_header("Retry-After", "7")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
