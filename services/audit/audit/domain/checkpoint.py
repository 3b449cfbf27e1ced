"""Signed checkpoints: the ledger's size and Merkle root at a moment, signed with Ed25519.

A partner who keeps one checkpoint can later demand proofs that any entry was in it, and that
every later checkpoint extends it; the ledger cannot rewrite what it signed without the partner
noticing. A checkpoint also names the chain head at its size, so it vouches for the hash chain
as well as for the tree.
"""

import base64
import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit.domain.chain import canonical

# Domain separation: a signature over a checkpoint can never be passed off as this key's
# signature over anything else, nor a future checkpoint format's.
SIGNATURE_CONTEXT = b"offramp-ledger-checkpoint/v1\n"


@dataclass(frozen=True)
class CheckpointBody:
    """What is signed. Plain strings and ints, so its RFC 8785 bytes are the same everywhere."""

    origin: str
    number: int
    tree_size: int
    root_hash: str
    chain_head: str
    signed_at: str
    key_id: str

    def signed_bytes(self) -> bytes:
        return SIGNATURE_CONTEXT + canonical(asdict(self))


@dataclass(frozen=True)
class SignedCheckpoint:
    body: CheckpointBody
    signature: str  # base64 of the Ed25519 signature over body.signed_bytes()

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self.body), "signature": self.signature}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SignedCheckpoint":
        fields = {k: data[k] for k in CheckpointBody.__dataclass_fields__}
        return cls(CheckpointBody(**fields), str(data["signature"]))


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_from_hex(value: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(value))


def key_id(key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the start of the SHA-256 of its raw bytes."""
    return hashlib.sha256(raw_public_key(key)).hexdigest()[:16]


def sign_checkpoint(body: CheckpointBody, key: Ed25519PrivateKey) -> SignedCheckpoint:
    if body.key_id != key_id(key.public_key()):
        raise ValueError("the checkpoint names a key other than the one signing it")
    signature = key.sign(body.signed_bytes())
    return SignedCheckpoint(body, base64.b64encode(signature).decode())


def signature_problem(
    checkpoint: SignedCheckpoint, trusted: dict[str, Ed25519PublicKey]
) -> str | None:
    """None if a trusted key signed this checkpoint as it stands; otherwise what is wrong."""
    key = trusted.get(checkpoint.body.key_id)
    if key is None:
        return (
            f"checkpoint {checkpoint.body.number} is signed by key {checkpoint.body.key_id}, "
            f"which is not one of the trusted keys {sorted(trusted)}"
        )
    try:
        key.verify(
            base64.b64decode(checkpoint.signature, validate=True), checkpoint.body.signed_bytes()
        )
    except (InvalidSignature, ValueError):
        return (
            f"checkpoint {checkpoint.body.number} does not carry a valid signature of key "
            f"{checkpoint.body.key_id}: it was altered or forged"
        )
    return None


@dataclass(frozen=True)
class CheckpointPolicy:
    """Sign after `every_entries` new events, or once the oldest unsigned one is
    `every_seconds` old, whichever comes first."""

    every_entries: int
    every_seconds: float


def checkpoint_due(
    policy: CheckpointPolicy, *, unsigned_events: int, oldest_unsigned_age_seconds: float | None
) -> bool:
    """`unsigned_events` counts entries past the last checkpoint other than the ledger's own
    CheckpointSigned announcements: counting those would make every checkpoint due another,
    and an idle ledger would sign forever."""
    if unsigned_events <= 0:
        return False
    if unsigned_events >= policy.every_entries:
        return True
    return (
        oldest_unsigned_age_seconds is not None
        and oldest_unsigned_age_seconds >= policy.every_seconds
    )
