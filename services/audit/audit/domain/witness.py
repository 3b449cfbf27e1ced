"""A witness's judgement (issue 18, item 5, the pure core): a partner agency checks each new
checkpoint note of the ledger against the last one it cosigned, and cosigns it in the C2SP
tlog-cosignature Ed25519 format (c2sp.org/tlog-cosignature, `cosignature/v1`) only if the
consistency proof holds. Shown a history that does not extend the one it cosigned, it refuses
with SplitView: two agencies shown different ledgers find out.

`offramp-audit witness` (audit.entrypoints.witness_cli) runs it against the ledger and posts its
cosignature back; the ledger checks each one against the witnesses it trusts
(`cosigned_by`), stores it, serves it under the checkpoint's note, and says whether a checkpoint
carries the quorum its settings require (k of the n trusted witnesses).
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


@dataclass(frozen=True)
class Cosignature:
    witness: str
    timestamp: int
    line: str


def cosigned_by(text: str, line: str, witnesses: dict[str, Ed25519PublicKey]) -> Cosignature:
    """The cosignature `line` makes over the note `text`, if one of `witnesses` (by name) made it
    in the cosignature/v1 format; ValueError saying why not otherwise."""
    parts = line.rstrip("\n").split(" ")
    if len(parts) != 3 or parts[0] != "\u2014":
        raise ValueError("not a signature line: '\u2014 <name> <base64>'")
    name = parts[1]
    key = witnesses.get(name)
    if key is None:
        raise ValueError(f"{name!r} is not a witness this ledger trusts")
    try:
        blob = base64.b64decode(parts[2], validate=True)
    except ValueError as error:
        raise ValueError("the signature is not base64") from error
    if len(blob) != 4 + 8 + 64 or blob[:4] != cosignature_key_id(name, key):
        raise ValueError(f"the line is not a cosignature/v1 by {name}'s key")
    timestamp = int.from_bytes(blob[4:12], "big")
    message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
    try:
        key.verify(blob[12:], message)
    except InvalidSignature as error:
        raise ValueError(f"{name}'s cosignature does not verify over this checkpoint") from error
    return Cosignature(name, timestamp, f"\u2014 {name} {parts[2]}\n")


def quorum_met(
    text: str, lines: list[str], witnesses: dict[str, Ed25519PublicKey], quorum: int
) -> tuple[bool, list[str]]:
    """Whether at least `quorum` distinct trusted witnesses validly cosigned `text`, and who."""
    names: set[str] = set()
    for line in lines:
        try:
            names.add(cosigned_by(text, line, witnesses).witness)
        except ValueError:
            continue  # a stored line no trusted key vouches for counts for nothing
    return len(names) >= quorum, sorted(names)


def witness_vkey(name: str, key: Ed25519PublicKey) -> str:
    """The witness's verifier key, as the signed-note ecosystem writes it:
    `<name>+<hex key ID>+<base64(0x04 || public key)>`; what an agency gives the ledger."""
    key_hash = cosignature_key_id(valid_origin(name), key).hex()
    return f"{name}+{key_hash}+{base64.b64encode(COSIGNATURE_V1 + raw_public_key(key)).decode()}"


def parse_witness_vkey(vkey: str) -> tuple[str, Ed25519PublicKey]:
    """A witness's name and key from its verifier key; ValueError if it is not a
    cosignature/v1 Ed25519 key or its key ID does not match."""
    name, plus, rest = vkey.partition("+")
    key_hash, plus2, encoded = rest.partition("+")
    if not (plus and plus2):
        raise ValueError(f"{vkey!r} is not '<name>+<key ID>+<key>'")
    blob = base64.b64decode(encoded, validate=True)
    if len(blob) != 33 or blob[:1] != COSIGNATURE_V1:
        raise ValueError(f"{name}'s verifier key is not a cosignature/v1 Ed25519 key")
    key = Ed25519PublicKey.from_public_bytes(blob[1:])
    if cosignature_key_id(valid_origin(name), key).hex() != key_hash:
        raise ValueError(f"{name}'s verifier key does not match its key ID")
    return name, key
