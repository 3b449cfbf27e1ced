"""Events as their producers sign them, for tests that append to a ledger or feed a consumer
without the producing service running: a key per producer, and the keyring of all of them."""

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.adapters import ledger_store
from offramp_contracts import EventEnvelope
from offramp_contracts.provenance import PRODUCERS
from servicekit.event_keys import add_to_keyring
from servicekit.provenance import EventSigner, KeySet, check_provenance

# Each producer's event key in these tests, and the keyring of all of them: the ledger's own
# tests append what the writer would, each entry with its producer's signature.
SIGNERS = {p: EventSigner(p, Ed25519PrivateKey.generate()) for p in PRODUCERS}
PRODUCER_KEYS = KeySet({s.key_id: s.public for s in SIGNERS.values()})


def arrival(subject: str, event: EventEnvelope) -> ledger_store.Arrival:
    """`event` as it arrives from the service owning `subject`'s context, signed by it."""
    producer = subject.split(".")[2]
    headers = SIGNERS[producer].headers(event)
    return ledger_store.Arrival(
        subject, event, check_provenance(PRODUCER_KEYS, subject, event, headers)
    )


def write_keyring(directory: Path) -> Path:
    """The producers' public keys as a keyring directory (what OFFRAMP_EVENT_KEYRING_DIR names)."""
    for signer in SIGNERS.values():
        add_to_keyring(directory, signer.public)
    return directory


def private_key_file(directory: Path, producer: str) -> Path:
    """`producer`'s private event key as a PEM file (what OFFRAMP_EVENT_SIGNING_KEY_PATH names)."""
    path = directory / f"{producer}-events.pem"
    path.write_bytes(
        SIGNERS[producer].key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path
