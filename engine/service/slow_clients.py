"""Closes connections whose client is too slow to send a request head.

uvicorn closes a keep-alive connection that stays idle after a response, but it sets no limit on the time
a client takes to send its request line and headers: a client that connects and dribbles a byte now and
then (the slowloris attack) holds a connection, and enough of them hold every slot of the service's
concurrency limit. This protocol arms a timer whenever the connection waits for a request head (on connect,
and when the first bytes of a next request arrive) and closes the connection when the head is still not
complete when it fires. Request bodies are timed in the app's limits middleware (``app._Limits``).

The timer sits on whichever HTTP/1.1 parser uvicorn runs: httptools (C, llhttp) when it is installed, which
it is as a dependency, since parsing in C takes a large share of a request's time off the one core the
service's Python runs on; h11 (pure Python) otherwise. Both make a request cycle when a head is complete.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Parser
except ImportError:  # httptools missing (an install without its wheel): the pure-Python parser
    _Parser = H11Protocol  # type: ignore[assignment,misc]


class HeadTimeoutProtocol(_Parser):
    head_timeout: float = 10.0  # seconds; set per service by ``with_head_timeout``

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._waiting_for_head() and self._head_timer is None:
            self._arm_head_timer()  # the first bytes of a next request on a kept-alive connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _waiting_for_head(self) -> bool:
        # uvicorn makes a new request cycle when a request's head is complete
        return self.cycle is None or self.cycle.response_complete

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        cycle = self.cycle
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out, cycle)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self, cycle_when_armed: object) -> None:
        self._head_timer = None
        # a head arrived since (a new cycle), or the connection is going anyway: nothing to do
        if self.cycle is not cycle_when_armed or not self._waiting_for_head() or self.transport.is_closing():
            return
        self.transport.close()


def with_head_timeout(seconds: float) -> type[HeadTimeoutProtocol]:
    """The protocol class for one service, with its own head timeout."""
    return type("HeadTimeoutProtocol", (HeadTimeoutProtocol,), {"head_timeout": seconds})
