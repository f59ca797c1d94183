"""Who is calling: passwords, API tokens and login sessions, and the roles a caller may use.

Passwords are hashed with Argon2id (memory-hard, the ``argon2-cffi`` package). Tokens look like
``cft_<30 random base62><6 base62 checksum>`` (sessions ``cfs_``): the prefix makes a leaked token
recognisable to secret scanners and the CRC32 checksum lets a typo be told from a forgery without a
database look-up. Only a token's SHA-256 digest is stored (a token is random enough that a fast hash is
safe), so a copy of the database lets no one in. A credential is its user's, and so is its tenant: a
token or session sees that one tenant. Time is an argument.
"""

from __future__ import annotations

import hashlib
import secrets
import zlib
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..store.directory import Credential, Directory, User

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TOKEN_PREFIX = "cft_"
SESSION_PREFIX = "cfs_"
SESSION_SECONDS = 12 * 3600
# A directory role no process declares: its holder reads every case and the report, and acts on none.
MANAGER_ROLE = "manager"
_hasher = PasswordHasher()


class AuthError(Exception):
    """The caller is not who it says (401): a missing, malformed, unknown, expired or revoked credential."""


def _base62(number: int, width: int) -> str:
    out = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        out.append(_ALPHABET[digit])
    return "".join(reversed(out))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), 6)


def new_secret(prefix: str) -> str:
    body = prefix + "".join(secrets.choice(_ALPHABET) for _ in range(30))
    return body + _checksum(body)


def well_formed(token: str) -> bool:
    if not token.startswith((TOKEN_PREFIX, SESSION_PREFIX)) or len(token) != 40:
        return False
    return all(c in _ALPHABET for c in token[4:]) and _checksum(token[:-6]) == token[-6:]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class Caller:
    user: User
    credential: Credential

    @property
    def tenant(self) -> str:
        """The one tenant the caller works in: its user's (a token cannot name another)."""
        return self.user.tenant

    def roles_in(self, process_id: str) -> tuple[str, ...]:
        held = self.user.roles_in(process_id)
        scope = self.credential.roles
        return held if scope is None else tuple(r for r in held if r in scope)

    def may_use(self, process_id: str, role: str) -> bool:
        return role in self.roles_in(process_id)

    @property
    def manager(self) -> bool:
        """Holds the manager role (for every process) and the credential's scope allows it."""
        scope = self.credential.roles
        return MANAGER_ROLE in self.user.roles and (scope is None or MANAGER_ROLE in scope)


def issue(
    directory: Directory, user_id: str, kind: str, at: int, *, label: str = "", roles: tuple[str, ...] | None = None
) -> tuple[str, Credential]:
    """A new token (kind "token") or session (kind "session"); the secret is returned once, never stored."""
    secret = new_secret(TOKEN_PREFIX if kind == "token" else SESSION_PREFIX)
    expires = at + SESSION_SECONDS if kind == "session" else None
    credential = Credential(secret[4:12], kind, user_id, roles, label, at, expires, None)
    directory.add_credential(digest(secret), credential)
    return secret, credential


def authenticate(directory: Directory, token: str, now: int) -> Caller:
    if not well_formed(token):
        raise AuthError("the token is malformed (expected cft_... or cfs_..., 40 characters)")
    credential = directory.credential(digest(token))
    if credential is None:
        raise AuthError("unknown token")
    if credential.revoked_at is not None:
        raise AuthError("this token was revoked")
    if credential.expires_at is not None and now >= credential.expires_at:
        raise AuthError("this session has expired; log in again")
    user = directory.user(credential.user_id)
    if user is None:
        raise AuthError("the token's user was disabled or no longer exists")
    return Caller(user, credential)


def login(directory: Directory, user_id: str, password: str, at: int) -> tuple[str, Credential]:
    user = directory.user(user_id)
    # Verify against a real hash even for an unknown user, so timing does not tell which users exist.
    stored = user.password_hash if user else _DUMMY_HASH
    if not password_matches(stored, password) or user is None:
        raise AuthError("wrong user or password")
    return issue(directory, user.id, "session", at, label="login")


_DUMMY_HASH = _hasher.hash("not a password of anyone")
