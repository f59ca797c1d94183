"""A fake SMTP server on 127.0.0.1 (stdlib socketserver), enough of RFC 5321 for ``smtplib``.

EHLO advertises ``AUTH PLAIN``; a wrong user or password gets 535; ``throttle_first`` answers the first
N ``MAIL FROM`` with 451 (try again later); addresses in ``refuse`` get 550. Each accepted message is
parsed and kept in ``messages``; ``count(delivery_id)`` counts them by ``X-Complaintflow-Delivery``.
Given a server ``tls`` context it speaks TLS as real relays do: ``STARTTLS`` on a plain connection
(advertised, and required before ``AUTH`` and ``MAIL``, port 587 style), or, with ``implicit_tls``, TLS
from the first byte (port 465 style). ``tls_sessions`` counts the connections that completed a handshake.
"""

from __future__ import annotations

import base64
import socketserver
import ssl
import threading
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any


class FakeSmtp:
    def __init__(self, *, username: str | None = None, password: str | None = None, throttle_first: int = 0,
                 refuse: frozenset[str] = frozenset(), tls: ssl.SSLContext | None = None,
                 implicit_tls: bool = False) -> None:  # fmt: skip
        self.username, self.password = username, password
        self.tls, self.implicit_tls = tls, implicit_tls
        self.tls_sessions = 0
        self.throttle_first, self.refuse = throttle_first, refuse
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.delivered: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server: socketserver.ThreadingTCPServer | None = None

    def count(self, delivery_id: str) -> int:
        with self._lock:
            return self.delivered[delivery_id]

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def _throttled(self) -> bool:
        with self._lock:
            if self.throttle_first > 0:
                self.throttle_first -= 1
                return True
            return False

    def _accept(self, sender: str, rcpts: list[str], data: bytes) -> None:
        message = message_from_bytes(data, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((sender, rcpts))
            self.delivered[str(message.get("X-Complaintflow-Delivery", ""))] += 1

    def start(self) -> FakeSmtp:
        fake = self

        class Session(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def start_tls(self) -> bool:
                assert fake.tls is not None
                try:
                    self.connection = fake.tls.wrap_socket(self.connection, server_side=True)
                except (ssl.SSLError, OSError):
                    return False  # the client did not trust the certificate, or hung up
                self.rfile = self.connection.makefile("rb")
                self.wfile = self.connection.makefile("wb", buffering=0)
                with fake._lock:
                    fake.tls_sessions += 1
                return True

            def handle(self) -> None:
                secure = False
                if fake.tls is not None and fake.implicit_tls:
                    if not self.start_tls():
                        return
                    secure = True
                self.reply("220 fake.smtp ESMTP")
                authed = fake.username is None
                sender: str | None = None
                rcpts: list[str] = []
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    verb = line.split(" ", 1)[0].upper()
                    arg = line[len(verb) :].strip()
                    must_secure = fake.tls is not None and not secure
                    if verb in ("EHLO", "HELO"):
                        offer = b"250-STARTTLS\r\n" if must_secure else b""
                        self.wfile.write(
                            b"250-fake.smtp\r\n" + offer + b"250-8BITMIME\r\n250-SMTPUTF8\r\n250 AUTH PLAIN\r\n"
                        )
                    elif verb == "STARTTLS" and must_secure:
                        self.reply("220 2.0.0 Ready to start TLS")
                        if not self.start_tls():
                            return
                        secure, authed, sender, rcpts = True, fake.username is None, None, []
                    elif verb in ("AUTH", "MAIL") and must_secure:
                        self.reply("530 5.7.0 Must issue a STARTTLS command first")
                    elif verb == "AUTH":
                        mechanism, _, initial = arg.partition(" ")
                        parts = base64.b64decode(initial or "").split(b"\0") if mechanism.upper() == "PLAIN" else []
                        good = len(parts) == 3 and parts[1].decode() == fake.username
                        if good and parts[2].decode() == fake.password:
                            authed = True
                            self.reply("235 2.7.0 Authentication successful")
                        else:
                            self.reply("535 5.7.8 Authentication credentials invalid")
                    elif verb == "MAIL":
                        if not authed:
                            self.reply("530 5.7.0 Authentication required")
                        elif fake._throttled():
                            self.reply("451 4.7.1 Try again later: rate limited")
                        else:
                            sender, rcpts = arg.partition(":")[2].split(" ")[0].strip("<>"), []
                            self.reply("250 OK")
                    elif verb == "RCPT":
                        address = arg.partition(":")[2].strip().strip("<>")
                        if address in fake.refuse:
                            self.reply("550 5.1.1 No such user")
                        else:
                            rcpts.append(address)
                            self.reply("250 OK")
                    elif verb == "DATA":
                        if sender is None or not rcpts:
                            self.reply("503 5.5.1 Bad sequence of commands")
                            continue
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        lines = []
                        while True:
                            data_line = self.rfile.readline()
                            if data_line in (b".\r\n", b".\n", b""):
                                break
                            lines.append(data_line[1:] if data_line.startswith(b"..") else data_line)
                        fake._accept(sender, rcpts, b"".join(lines))
                        sender, rcpts = None, []
                        self.reply("250 OK queued")
                    elif verb == "RSET":
                        sender, rcpts = None, []
                        self.reply("250 OK")
                    elif verb == "NOOP":
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("502 5.5.2 Command not recognized")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Session)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSmtp:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
