"""Runs the service: the HTTP API on uvicorn, the scheduler and the notifier, in one process (or, for
``complaintflow worker``, the scheduler and the notifier alone).

The only home of uvicorn. SIGTERM or SIGINT: uvicorn stops accepting and finishes the requests in
flight, then the scheduler and notifier are stopped between steps and the store is closed; exit 0.
The clock is passed in by cli.py; the web server only starts after the scheduler and notifier run.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import uvicorn

from ..errors import UnusableInputError
from .app import create_app
from .desk import Desk
from .metrics import Metrics
from .notifier import Notifier
from .scheduler import Scheduler
from .slow_clients import with_head_timeout

log = logging.getLogger("complaintflow.serve")


@dataclass
class Service:
    desk: Desk
    metrics: Metrics
    scheduler: Scheduler
    notifier: Notifier | None
    host: str
    port: int
    head_timeout: float = 10.0  # seconds a client has to send a request's line and headers
    body_timeout: float = 30.0  # seconds a request body may stall between two parts

    def _loops(self, stop: threading.Event) -> list[threading.Thread]:
        loops = [
            threading.Thread(target=self.scheduler.run, args=(stop.is_set, stop.wait), name="scheduler", daemon=True)
        ]
        if self.notifier is not None:
            loops.append(
                threading.Thread(target=self.notifier.run, args=(stop.is_set, stop.wait), name="notifier", daemon=True)
            )
        return loops

    def work(self, announce: Callable[[str], None]) -> int:
        """The scheduler and the notifier without the HTTP API (``complaintflow worker``) until SIGTERM or
        SIGINT: each stops between steps, the store is closed, exit 0. Exit 1 if a loop ended by itself."""
        stop = threading.Event()
        loops = self._loops(stop)
        previous = {}
        if threading.current_thread() is threading.main_thread():
            previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        for t in loops:
            t.start()
        announce("complaintflow worker: running the scheduler" + (" and the notifier" if self.notifier else ""))
        try:
            while not stop.wait(1.0) and all(t.is_alive() for t in loops):
                pass
        finally:
            asked = stop.is_set()
            stop.set()
            for t in loops:
                t.join(timeout=15)
            self.desk.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            announce("complaintflow worker: stopped")
        return 0 if asked else 1

    def serve(self, announce: Callable[[str], None], sock: socket.socket | None = None) -> int:
        """Until SIGTERM or SIGINT, on ``sock`` when given (a worker of ``serve --workers``: the parent bound it
        and said where it listens), else on a socket bound here to the service's host and port."""
        stop = threading.Event()
        loops = self._loops(stop)
        app = create_app(
            self.desk, self.metrics, ready=lambda: all(t.is_alive() for t in loops), body_timeout=self.body_timeout
        )
        config = uvicorn.Config(
            app,
            http=with_head_timeout(self.head_timeout),
            log_level="warning",
            access_log=False,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=10,
            limit_concurrency=200,
        )
        server = _Server(config)
        inherited = sock is not None
        if sock is None:
            sock = listen(self.host, self.port, config.backlog)
        for t in loops:
            t.start()
        if not inherited:
            announce(f"complaintflow serve: listening on {address(sock)}")
        try:
            server.run(sockets=[sock])
        finally:
            stop.set()
            for t in loops:
                t.join(timeout=15)
            self.desk.close()
            sock.close()
            announce("complaintflow serve: stopped")
        return 0


def listen(host: str, port: int, backlog: int = 2048, *, shared: bool = False) -> socket.socket:
    """The service's listening socket. Bound before anything else starts, so the address printed is the one
    listening (port 0 picks a free one). ``shared``: one of the sockets of ``serve --workers`` on the one port
    (SO_REUSEPORT), each worker accepting on its own, so the kernel spreads new connections evenly over them;
    on one shared socket the worker that wakes first takes most of a burst."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say they are TCP;
    # with Nagle on, every keep-alive answer written in two parts waited 40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared and hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(backlog)  # connections wait in the backlog until uvicorn accepts them
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


class _Server(uvicorn.Server):
    """uvicorn's server, except that a SIGTERM or SIGINT it handled is not raised again once it has
    shut down: a stop asked for is a clean exit (0), which is what systemd and a supervisor expect."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class ServeError(UnusableInputError):
    """The service cannot start (the address is taken, the store cannot be opened)."""
