"""Email over TLS as a real relay speaks it: STARTTLS on 587 and implicit TLS on 465, against a fake relay
with a certificate made here (a company's own authority, given to the channel as ``ca_file``)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fakes.smtp import FakeSmtp

from complaintflow.service.notify.config import ConfigError
from complaintflow.service.notify.outcome import Delivered, Permanent
from complaintflow.service.notify.smtp import SmtpChannel, SmtpConfig


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own authority), as PEM files: (certificate, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake relay")])
    now = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "relay.pem", folder / "relay.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def _server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def _channel(fake: FakeSmtp, security: str, ca_file: Path | None) -> SmtpChannel:
    raw = {"host": "127.0.0.1", "port": fake.port, "sender": "desk@example.cn", "security": security}
    raw |= {"username": "desk@example.cn", "password_env": "PW", "timeout": 5}
    if ca_file is not None:
        raw["ca_file"] = str(ca_file)
    return SmtpChannel(SmtpConfig.from_dict("mail", raw, {"PW": "smtp-pass"}))


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_mail_goes_over_tls_to_a_relay_whose_certificate_the_channel_trusts(certificate, security, breach) -> None:
    relay = FakeSmtp(username="desk@example.cn", password="smtp-pass", tls=_server_tls(certificate),
                     implicit_tls=security == "ssl")  # fmt: skip
    with relay:
        assert _channel(relay, security, certificate[0]).send(breach) == Delivered()
    assert relay.tls_sessions == 1 and relay.count(breach.delivery_id) == 1
    assert relay.messages[0]["Subject"] == breach.title_zh


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_certificate_the_channel_cannot_check_is_a_permanent_failure(certificate, security, breach) -> None:
    relay = FakeSmtp(username="desk@example.cn", password="smtp-pass", tls=_server_tls(certificate),
                     implicit_tls=security == "ssl")  # fmt: skip
    with relay:
        outcome = _channel(relay, security, None).send(breach)  # the system's authorities do not know it
    assert isinstance(outcome, Permanent) and "certificate" in outcome.reason
    assert relay.tls_sessions == 0 and not relay.messages


def test_a_relay_that_wants_starttls_refuses_a_plain_login(certificate, breach) -> None:
    with FakeSmtp(username="desk@example.cn", password="smtp-pass", tls=_server_tls(certificate)) as relay:
        outcome = _channel(relay, "plain", None).send(breach)
    assert isinstance(outcome, Permanent) and "530" in outcome.reason and not relay.messages


def test_an_unreadable_ca_file_is_refused_when_the_config_is_read(tmp_path) -> None:
    raw = {"host": "127.0.0.1", "sender": "desk@example.cn", "ca_file": str(tmp_path / "missing.pem")}
    with pytest.raises(ConfigError, match="ca_file"):
        SmtpConfig.from_dict("mail", raw, {})
