"""Checkpoints as C2SP signed notes (c2sp.org/tlog-checkpoint over c2sp.org/signed-note), so the
verifiers and witnesses of the transparency-log ecosystem can check the ledger without Offramp's
code.

The note text is three lines: the origin, the tree size in decimal, the base64 RFC 9162 root.
It carries one Ed25519 signature line by the ledger's key, named by the origin. The Offramp
checkpoint format stays what the ledger stores and signs first; a note is issued only for a
checkpoint whose Offramp signature still holds, and says nothing that checkpoint did not.
Ed25519 is deterministic, so a checkpoint's note is the same bytes every time it is asked for.

The one key signs both formats without ambiguity: Offramp's signed bytes start with their own
context line and continue as JSON, a note's second line is a bare decimal number.
"""

import base64
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.domain.checkpoint import SignedCheckpoint, key_id, raw_public_key, signature_problem

# The signature type byte signed-note assigns to Ed25519.
ED25519 = b"\x01"
# Key names: non-empty, no Unicode spaces, no plus. The origin is also the key name, so one
# rule serves both; control characters are refused as the note format forbids them anywhere.
_KEY_NAME = re.compile(r"[^\s+\x00-\x1f\x7f]+")


def valid_origin(origin: str) -> str:
    """The origin as given, or ValueError saying why it cannot name a note's key."""
    if not _KEY_NAME.fullmatch(origin):
        raise ValueError(
            f"{origin!r} cannot be a checkpoint note's origin: it must be non-empty, with no "
            "spaces, plus signs or control characters (e.g. offramp.county.ledger)"
        )
    return origin


def note_key_id(name: str, key: Ed25519PublicKey) -> bytes:
    """signed-note's key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + raw_public_key(key)).digest()[:4]


def verifier_key(name: str, key: Ed25519PublicKey) -> str:
    """The key in signed-note's vkey form: name+hex(key ID)+base64(0x01 || public key)."""
    material = base64.b64encode(ED25519 + raw_public_key(key)).decode()
    return f"{valid_origin(name)}+{note_key_id(name, key).hex()}+{material}"


def note_text(origin: str, checkpoint: SignedCheckpoint) -> str:
    root = base64.b64encode(bytes.fromhex(checkpoint.body.root_hash)).decode()
    return f"{valid_origin(origin)}\n{checkpoint.body.tree_size}\n{root}\n"


def checkpoint_note(origin: str, checkpoint: SignedCheckpoint, key: Ed25519PrivateKey) -> str:
    """The checkpoint as a signed note: its text, a blank line, the ledger's signature line."""
    text = note_text(origin, checkpoint)
    signature = note_key_id(origin, key.public_key()) + key.sign(text.encode())
    return f"{text}\n\u2014 {origin} {base64.b64encode(signature).decode()}\n"


@dataclass(frozen=True)
class NoteSigner:
    """The ledger's key and the origin it publishes notes under."""

    origin: str
    key: Ed25519PrivateKey

    def note(self, checkpoint: SignedCheckpoint) -> str:
        """The checkpoint as a signed note; ValueError if its Offramp signature is not this
        key's over what is stored: a note never vouches for an altered or foreign checkpoint."""
        public = self.key.public_key()
        problem = signature_problem(checkpoint, {key_id(public): public})
        if problem is not None:
            raise ValueError(f"no note for checkpoint {checkpoint.body.number}: {problem}")
        return checkpoint_note(self.origin, checkpoint, self.key)

    def verifier_key(self) -> str:
        return verifier_key(self.origin, self.key.public_key())


def note_problem(note: str, checkpoint: SignedCheckpoint, key: Ed25519PublicKey) -> str | None:
    """None if `note` restates `checkpoint` and carries a valid signature of `key` under the
    note's origin; otherwise what is wrong. Signatures by other keys (cosignatures) are ignored."""
    text, _, signatures = note.rpartition("\n\n")
    text += "\n"
    origin = text.split("\n", 1)[0]
    if text != note_text(origin, checkpoint):
        return (
            f"the checkpoint note does not restate checkpoint {checkpoint.body.number}: "
            "its tree size or root differs"
        )
    wanted = note_key_id(origin, key)
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014" or parts[1] != origin:
            continue
        try:
            signature = base64.b64decode(parts[2], validate=True)
            if signature[:4] == wanted:
                key.verify(signature[4:], text.encode())
                return None
        except (InvalidSignature, ValueError):
            return "the checkpoint note's signature does not verify: it was altered or forged"
    return f"the checkpoint note carries no signature of key {wanted.hex()} for {origin}"
