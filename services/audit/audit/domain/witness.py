"""A witness's judgement (issue 18, item 5, the pure core): a partner agency checks each new
checkpoint note of the ledger against the last one it cosigned, and cosigns it in the C2SP
tlog-cosignature Ed25519 format (c2sp.org/tlog-cosignature, `cosignature/v1`) only if the
consistency proof holds. Shown a history that does not extend the one it cosigned, it refuses
with SplitView: two agencies shown different ledgers find out.

`offramp-audit witness` (audit.entrypoints.witness_cli) runs it against the ledger. Not built
yet: the ledger storing and serving cosignatures, and requiring k of n of them.
"""

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.domain.checkpoint import raw_public_key
from audit.domain.merkle import verify_consistency
from audit.domain.note import note_key_id, valid_origin

# tlog-cosignature's signature type byte for timestamped Ed25519 cosignatures.
COSIGNATURE_V1 = b"\x04"


class SplitView(Exception):
    """The checkpoint does not extend the one this witness already cosigned."""


@dataclass(frozen=True)
class TreeHead:
    origin: str
    tree_size: int
    root_hash: bytes


def read_note(note: str, log_key: Ed25519PublicKey) -> tuple[str, TreeHead]:
    """The note's text and tree head, once the log's signature (key name = origin) verifies;
    ValueError otherwise. Other signature lines (cosignatures) are ignored."""
    text, blank, signatures = note.rpartition("\n\n")
    if not blank:
        raise ValueError("not a signed note: no blank line before the signatures")
    text += "\n"
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not all(lines):
        raise ValueError("a checkpoint note's text is at least three non-empty lines")
    origin, size, root = lines[:3]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise ValueError(f"tree size {size!r} is not a decimal without leading zeroes")
    wanted = note_key_id(valid_origin(origin), log_key)
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014" or parts[1] != origin:
            continue
        signature = base64.b64decode(parts[2], validate=True)
        if signature[:4] != wanted:
            continue
        try:
            log_key.verify(signature[4:], text.encode())
        except InvalidSignature as error:
            raise ValueError("the log's signature on the note does not verify") from error
        return text, TreeHead(origin, int(size), base64.b64decode(root, validate=True))
    raise ValueError(f"the note carries no signature of the log's key for {origin}")


def cosignature_key_id(name: str, key: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + COSIGNATURE_V1 + raw_public_key(key)).digest()[:4]


def cosignature_line(text: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> str:
    """`— <name> base64(key ID || u64 timestamp || Ed25519 over cosignature/v1 message)`."""
    if not 0 <= timestamp < 2**63:
        raise ValueError("a cosignature's timestamp is a POSIX time below 2^63")
    message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
    signed = key.sign(message)
    blob = cosignature_key_id(valid_origin(name), key.public_key()) + timestamp.to_bytes(8, "big")
    return f"\u2014 {name} {base64.b64encode(blob + signed).decode()}\n"


def witness(
    last: TreeHead | None,
    note: str,
    consistency: list[bytes],
    *,
    log_key: Ed25519PublicKey,
    name: str,
    key: Ed25519PrivateKey,
    timestamp: int,
) -> tuple[TreeHead, str]:
    """The new head to remember and the cosignature line, if `note` extends `last` (proven by
    `consistency`, RFC 9162); SplitView if it does not, ValueError if the note is not the log's."""
    text, head = read_note(note, log_key)
    if last is not None:
        if head.origin != last.origin:
            raise ValueError(f"a note of {head.origin}, not of {last.origin}")
        if head.tree_size < last.tree_size or not verify_consistency(
            last.tree_size, head.tree_size, last.root_hash, head.root_hash, consistency
        ):
            raise SplitView(
                f"SPLIT VIEW: {head.origin} at size {head.tree_size} (root "
                f"{head.root_hash.hex()}) does not extend the size {last.tree_size} (root "
                f"{last.root_hash.hex()}) this witness cosigned; refusing to cosign"
            )
    return head, cosignature_line(text, name, key, timestamp)
