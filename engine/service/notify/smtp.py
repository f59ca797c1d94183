"""Email over SMTP with ``smtplib``: STARTTLS (port 587), implicit TLS (465) or plain (tests only).

The server's certificate is checked against the system's trusted authorities, or against ``ca_file``
(a company's own authority, PEM); a certificate that does not check is a permanent failure (retrying
cannot fix it), named as such.

One message per notification to every recipient with an ``email`` contact; subject and body are UTF-8
(the subject Chinese first, the body Chinese then English). A 4xx reply, a dropped connection or a
timeout retry later; a 5xx reply, refused recipients or failed login are permanent. The body is cut to
``max_bytes``.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from .config import ConfigError, Settings
from .limits import truncate_utf8
from .message import Notification
from .outcome import Delivered, Outcome, Permanent, RetryLater

SECURITY = ("starttls", "ssl", "plain")


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    security: str = "starttls"
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0
    max_bytes: int = 100 * 1024
    ca_file: str | None = None

    @classmethod
    def from_dict(cls, name: str, raw: Mapping[str, Any], env: Mapping[str, str]) -> SmtpConfig:
        s = Settings(name, raw, env)
        security = s.choice("security", SECURITY, "starttls")
        username = s.optional("username")
        config = cls(
            host=s.text("host"),
            port=int(s.number("port", 465 if security == "ssl" else 587 if security == "starttls" else 25)),
            sender=s.text("sender"),
            security=security,
            username=username,
            password=s.secret("password", required=bool(username)),
            timeout=s.number("timeout", 10.0),
            max_bytes=int(s.number("max_bytes", 100 * 1024)),
            ca_file=s.optional("ca_file"),
        )
        s.done()
        if config.ca_file is not None:
            try:
                ssl.create_default_context(cafile=config.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"channel {name}: ca_file {config.ca_file}: cannot be read as PEM ({exc})") from None
        return config


def email_message(n: Notification, sender: str, to: list[str], max_bytes: int) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = n.title_zh
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(n.at, usegmt=True)
    message["Message-ID"] = make_msgid(idstring=n.delivery_id.replace(":", "."), domain="complaintflow")
    message["X-Complaintflow-Delivery"] = n.delivery_id
    body = f"{n.text_zh}\n\n——\n{n.title_en}\n{n.text_en}\n"
    message.set_content(truncate_utf8(body, max_bytes), charset="utf-8")
    return message


class SmtpChannel:
    kind = "smtp"

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        if c.security == "ssl":
            return smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=self._tls())
        client = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
        if c.security == "starttls":
            try:
                client.starttls(context=self._tls())
            except BaseException:
                client.close()
                raise
        return client

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.config.ca_file)

    def send(self, notification: Notification) -> Outcome:
        to = notification.contacts("email")
        if not to:
            return Permanent("no recipient has an email address")
        message = email_message(notification, self.config.sender, to, self.config.max_bytes)
        try:
            with self._connect() as client:
                if self.config.username:
                    client.login(self.config.username, self.config.password or "")
                refused = client.send_message(message)
        except smtplib.SMTPAuthenticationError as e:
            return Permanent(f"login refused: {e.smtp_code}")
        except smtplib.SMTPRecipientsRefused as e:
            return Permanent(f"every recipient refused: {sorted(e.recipients)}")
        except smtplib.SMTPResponseException as e:
            said = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
            text = f"{e.smtp_code} {said}"
            return RetryLater(text) if 400 <= e.smtp_code < 500 else Permanent(text)
        except ssl.SSLCertVerificationError as e:
            return Permanent(f"the server's TLS certificate does not check: {e.verify_message}")
        except (smtplib.SMTPException, OSError) as e:  # dropped, refused, timed out, TLS failed
            return RetryLater(f"{type(e).__name__}: {e}")
        if refused:
            return Delivered(f"refused by some: {sorted(refused)}")
        return Delivered()
