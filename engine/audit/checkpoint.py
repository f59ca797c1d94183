"""The checkpoint file: what a seal writes and ``verify --against`` reads back (docs/audit.md).

A checkpoint is one JSON object: the Merkle root over every case's head (audit/merkle.py), the counts of
cases and events, the highest event position when the store has one, the instant of the seal, the heads
themselves (so a later check can name the case that differs) and, when signed, an Ed25519 signature
over the canonical text of everything else. Heads are kept as a gzip'd JSON list of
``[case_id, seq, first 16 hex digits of the head hash]``, sorted by case id: about 24 bytes a case
(2.4 MB for 100,000 cases) where full hashes would cost 60; the root covers the full hashes, so the
prefix only names a difference the root has already proven. ``read`` refuses anything malformed with
``CheckpointError`` and one clear message.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import signing

FORMAT = "complaintflow-checkpoint"
VERSION = 1
TREE = "rfc6962-sha256; leaf 'case_id seq hash' per case head, sorted by case id (docs/audit.md)"
PREFIX = 16  # hex digits of each head hash the checkpoint keeps
_HEX64 = re.compile(r"[0-9a-f]{64}")
_LATEST = 253402300799  # 9999-12-31 23:59:59 UTC, the last instant datetime can show
_PREFIX_HEX = re.compile(rf"[0-9a-f]{{{PREFIX}}}")


class CheckpointError(ValueError):
    """The checkpoint cannot be read: missing, not JSON, not ours, or fields of the wrong form."""


class SignatureError(ValueError):
    """The checkpoint is signed, but the signature does not match its content (it was altered)."""


@dataclass(frozen=True, slots=True)
class Head:
    case_id: str
    seq: int
    hash_prefix: str


@dataclass(frozen=True)
class Checkpoint:
    sealed_at: int
    root: str
    cases: int
    events: int
    heads: tuple[Head, ...]
    last_event_pos: int | None = None
    public_key: str | None = None  # base64 Ed25519 key, when signed
    signature: str | None = None

    @property
    def signer(self) -> str | None:
        return signing.fingerprint(self.public_key) if self.public_key else None


def _unsigned_document(checkpoint: Checkpoint) -> dict[str, Any]:
    heads = [[h.case_id, h.seq, h.hash_prefix] for h in checkpoint.heads]
    packed = gzip.compress(json.dumps(heads, ensure_ascii=False, separators=(",", ":")).encode(), 9, mtime=0)
    store: dict[str, Any] = {"cases": checkpoint.cases, "events": checkpoint.events}
    if checkpoint.last_event_pos is not None:
        store["last_event_pos"] = checkpoint.last_event_pos
    return {
        "format": FORMAT,
        "version": VERSION,
        "sealed_at": checkpoint.sealed_at,
        "sealed_at_utc": datetime.fromtimestamp(checkpoint.sealed_at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tree": TREE,
        "root": checkpoint.root,
        "store": store,
        "heads": {"encoding": "gzip+base64 of JSON [[case_id, seq, hash prefix], ...]", "data": _b64(packed)},
    }


def signed_message(document: dict[str, Any]) -> bytes:
    """The bytes a signature covers: the document without ``signature``, as sorted compact UTF-8 JSON."""
    rest = {k: v for k, v in document.items() if k != "signature"}
    return json.dumps(rest, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def to_json(checkpoint: Checkpoint, private_key_pem: bytes | None = None) -> str:
    document = _unsigned_document(checkpoint)
    if private_key_pem is not None:
        public_key, value = signing.sign(private_key_pem, signed_message(document))
        document["signature"] = {"algorithm": "ed25519", "public_key": public_key, "value": value}
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def write(path: Path, text: str) -> None:
    """Write a new checkpoint file; an existing one is never replaced (an old seal is evidence)."""
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise CheckpointError(f"{path} already exists; a seal never replaces an older checkpoint") from None
    except OSError as exc:
        raise CheckpointError(f"cannot write {path}: {exc.strerror}") from None


def read(path: Path) -> Checkpoint:
    """The checkpoint in ``path``; a signed one must carry a signature that holds (else ``SignatureError``)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CheckpointError(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is not a checkpoint (not JSON: {exc})") from None
    try:
        checkpoint = _parse(document)
    except (AttributeError, KeyError, TypeError, ValueError, binascii.Error, EOFError, gzip.BadGzipFile) as exc:
        if isinstance(exc, CheckpointError):
            raise CheckpointError(f"{path}: {exc}") from None
        raise CheckpointError(f"{path} is not a well-formed checkpoint ({type(exc).__name__}: {exc})") from None
    if checkpoint.signature is not None and checkpoint.public_key is not None:
        if not signing.signature_holds(checkpoint.public_key, checkpoint.signature, signed_message(document)):
            raise SignatureError(f"{path}: the signature does not match the content; the checkpoint was altered")
    return checkpoint


def require_signer(checkpoint: Checkpoint, fingerprint: str) -> None:
    """Refuse a checkpoint not signed by the key with this fingerprint: the checkpoint carries its own
    public key, so whoever alters it can sign it anew with a key of their own."""
    if checkpoint.signer != fingerprint.strip().lower():
        found = f"signed by key {checkpoint.signer}" if checkpoint.signer else "unsigned"
        raise SignatureError(f"the checkpoint is {found}, not signed by key {fingerprint}")


def _parse(document: Any) -> Checkpoint:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError("not a complaintflow checkpoint")
    if document.get("version") != VERSION:
        raise CheckpointError(f"checkpoint version {document.get('version')!r}, this complaintflow reads {VERSION}")
    root, store = document["root"], document["store"]
    if not isinstance(root, str) or not _HEX64.fullmatch(root):
        raise CheckpointError("'root' is not 64 hex digits")
    cases, events, last_pos = store["cases"], store["events"], store.get("last_event_pos")
    if not all(_count(v) for v in (document["sealed_at"], cases, events)) or not (last_pos is None or _count(last_pos)):
        raise CheckpointError("'sealed_at' and the store's counts must be whole numbers")
    if document["sealed_at"] > _LATEST:
        raise CheckpointError("'sealed_at' lies after the year 9999")
    rows = json.loads(gzip.decompress(base64.b64decode(document["heads"]["data"], validate=True)))
    heads = tuple(_head(row) for row in rows)
    if len(heads) != cases or sum(h.seq for h in heads) != events:
        raise CheckpointError(
            f"the heads ({len(heads)} cases) do not add up to the counts ({cases} cases, {events} events)"
        )
    if any(a.case_id >= b.case_id for a, b in zip(heads, heads[1:], strict=False)):
        raise CheckpointError("the heads are not sorted by case id")
    signature = document.get("signature")
    if signature is not None:
        if signature.get("algorithm") != "ed25519":
            raise CheckpointError(f"unknown signature algorithm {signature.get('algorithm')!r}")
        public_key: str | None = str(signature["public_key"])
        value: str | None = str(signature["value"])
    else:
        public_key = value = None
    return Checkpoint(document["sealed_at"], root, cases, events, heads, last_pos, public_key, value)


def _head(row: Any) -> Head:
    case_id, seq, prefix = row
    if not isinstance(case_id, str) or not _count(seq) or seq < 1 or not isinstance(prefix, str):
        raise CheckpointError(f"head {row!r} is not [case id, seq, hash prefix]")
    if not _PREFIX_HEX.fullmatch(prefix):
        raise CheckpointError(f"head {row!r}: the hash prefix is not {PREFIX} hex digits")
    return Head(case_id, seq, prefix)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
