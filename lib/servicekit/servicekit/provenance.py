"""Signed events: who published an event, proven.

Each service signs every event it publishes with its own Ed25519 key, over the RFC 8785 bytes of
the envelope (after a domain-separation prefix, so the signature can never pass for one over
anything else). The key id and the signature travel in NATS headers, so the envelope, and the
ledger entry that hashes it, stay as they were. A consumer believes an event only if a key of
its keyring signed exactly this envelope, and the key's producer owns the subject's context
(`offramp_contracts.provenance`). Pure: the keys on disk are `servicekit.event_keys`.
"""

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from offramp_contracts import EventEnvelope
from offramp_contracts.provenance import ownership_problem

SIGNATURE_CONTEXT = b"offramp-event/v1\n"
KEY_ID_HEADER = "Offramp-Key-Id"
SIGNATURE_HEADER = "Offramp-Signature"


def signed_bytes_of(event_json: Mapping[str, Any]) -> bytes:
    """What is signed, from the envelope as JSON (as the ledger keeps it in each entry)."""
    return SIGNATURE_CONTEXT + rfc8785.dumps(dict(event_json))


def signed_bytes(event: EventEnvelope) -> bytes:
    return signed_bytes_of(json.loads(event.model_dump_json()))


def key_id_for(producer: str, key: Ed25519PublicKey) -> str:
    """`<producer>-<start of the SHA-256 of the raw key>`: readable in a header, and unique per
    key, so a producer's old and new keys live side by side in a keyring after a rotation."""
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return f"{producer}-{hashlib.sha256(raw).hexdigest()[:16]}"


@dataclass(frozen=True)
class ProducerKey:
    """A public key a keyring trusts, and the producer it speaks for."""

    key_id: str
    producer: str
    public_key: Ed25519PublicKey

    def to_json(self) -> dict[str, str]:
        raw = self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {"key_id": self.key_id, "producer": self.producer, "public_key": raw.hex()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ProducerKey":
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(str(data["public_key"])))
        producer = str(data["producer"])
        key_id = str(data["key_id"])
        if key_id != key_id_for(producer, key):
            raise ValueError(f"key id {key_id} does not name {producer}'s key it comes with")
        return cls(key_id, producer, key)


@dataclass(frozen=True)
class EventSigner:
    """A producer's private key: what its event store signs every event with."""

    producer: str
    key: Ed25519PrivateKey

    @property
    def key_id(self) -> str:
        return key_id_for(self.producer, self.key.public_key())

    @property
    def public(self) -> ProducerKey:
        return ProducerKey(self.key_id, self.producer, self.key.public_key())

    def headers(self, event: EventEnvelope) -> dict[str, str]:
        signature = self.key.sign(signed_bytes(event))
        return {KEY_ID_HEADER: self.key_id, SIGNATURE_HEADER: base64.b64encode(signature).decode()}


class Keys(Protocol):
    def get(self, key_id: str) -> ProducerKey | None: ...

    def keys(self) -> list[ProducerKey]: ...


@dataclass(frozen=True)
class KeySet:
    """Keys given all at once: a pinned file of them (`offramp-audit check --producer-keys`),
    or those a bundle carries."""

    by_id: Mapping[str, ProducerKey]

    @classmethod
    def from_json(cls, items: Sequence[Mapping[str, Any]]) -> "KeySet":
        keys = [ProducerKey.from_json(item) for item in items]
        return cls({k.key_id: k for k in keys})

    def get(self, key_id: str) -> ProducerKey | None:
        return self.by_id.get(key_id)

    def keys(self) -> list[ProducerKey]:
        return sorted(self.by_id.values(), key=lambda k: k.key_id)


@dataclass(frozen=True)
class Provenance:
    """Who published an event, as its signature proves."""

    producer: str
    key_id: str
    signature: str


class ProvenanceError(ValueError):
    """An event whose producer is not proven: unsigned, signed by an unknown key, badly signed,
    or signed by a producer that does not own its subject. Never applied; parked."""


def event_signature_problem(
    event_json: Mapping[str, Any], key_id: str | None, signature: str | None, keys: Keys
) -> tuple[ProducerKey | None, str | None]:
    """The key that signed this envelope, or why none did."""
    if not key_id or not signature:
        return None, "unsigned: the event carries no producer signature"
    key = keys.get(key_id)
    if key is None:
        return None, f"signed by key {key_id}, which is not in the keyring"
    try:
        key.public_key.verify(
            base64.b64decode(signature, validate=True), signed_bytes_of(event_json)
        )
    except (InvalidSignature, ValueError):
        return key, (
            f"bad signature: key {key_id} of {key.producer} did not sign this event as it "
            "stands (altered or forged)"
        )
    return key, None


def check_provenance(
    keys: Keys, subject: str, event: EventEnvelope, headers: Mapping[str, str] | None
) -> Provenance:
    """The event's proven producer; raises ProvenanceError saying why if it is not proven."""
    headers = headers or {}
    key_id, signature = headers.get(KEY_ID_HEADER), headers.get(SIGNATURE_HEADER)
    key, problem = event_signature_problem(
        json.loads(event.model_dump_json()), key_id, signature, keys
    )
    if problem is not None or key is None or key_id is None or signature is None:
        raise ProvenanceError(problem or "unsigned")
    not_owner = ownership_problem(key.producer, subject, event)
    if not_owner is not None:
        raise ProvenanceError(f"wrong producer: {not_owner}")
    return Provenance(key.producer, key_id, signature)
