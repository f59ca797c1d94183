"""Ed25519 signatures over a checkpoint: make a key, sign, check. The only home of ``cryptography``.

Private keys are PEM (PKCS#8, unencrypted), the form ``openssl genpkey -algorithm ed25519`` writes;
public keys travel as the 32 raw bytes in base64, and a key's fingerprint is the first 16 hex digits
of SHA-256 over those bytes, short enough to compare by eye or to pin in a script.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class SigningKeyError(ValueError):
    """A key file that is not an unencrypted Ed25519 private key in PEM."""


def new_private_key_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _private_key(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"an Ed25519 key is needed, this is {type(key).__name__.removesuffix('PrivateKey')}")
    return key


def public_key_of(pem: bytes) -> str:
    """The base64 public key of a PEM private key."""
    raw = _private_key(pem).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign(pem: bytes, message: bytes) -> tuple[str, str]:
    """(base64 public key, base64 signature) of ``message`` under the PEM private key."""
    key = _private_key(pem)
    return public_key_of(pem), base64.b64encode(key.sign(message)).decode()


def signature_holds(public_key_b64: str, signature_b64: str, message: bytes) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64, validate=True))
        key.verify(base64.b64decode(signature_b64, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def fingerprint(public_key_b64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:16]
