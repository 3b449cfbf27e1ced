"""The witness's judgement: it cosigns a growing ledger and refuses a forked one. The
cosignature is checked here from the text of c2sp.org/tlog-cosignature."""

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.domain.checkpoint import CheckpointBody, key_id, raw_public_key, sign_checkpoint
from audit.domain.merkle import consistency_proof, leaf_hash, root
from audit.domain.note import NoteSigner
from audit.domain.witness import SplitView, TreeHead, witness

LOG = Ed25519PrivateKey.generate()
WITNESS = Ed25519PrivateKey.generate()
ORIGIN = "offramp.county.ledger"
NAME = "prosecutor.county.example/witness"


def leaves(tag: str, n: int) -> list[bytes]:
    return [leaf_hash(f"{tag}-{i}".encode()) for i in range(n)]


def note_of(tree: list[bytes], number: int) -> str:
    body = CheckpointBody(
        origin="offramp-ledger",
        number=number,
        tree_size=len(tree),
        root_hash=root(tree).hex(),
        chain_head="00" * 32,
        signed_at="2026-12-02T18:00:00.000000Z",
        key_id=key_id(LOG.public_key()),
    )
    return NoteSigner(ORIGIN, LOG).note(sign_checkpoint(body, LOG))


def cosign(last: TreeHead | None, note: str, proof: list[bytes]) -> tuple[TreeHead, str]:
    return witness(
        last, note, proof, log_key=LOG.public_key(), name=NAME, key=WITNESS, timestamp=1_796_000_000
    )


def test_the_witness_cosigns_a_growing_ledger_in_the_cosignature_v1_format() -> None:
    history = leaves("a", 9)
    first, _ = cosign(None, note_of(history[:4], 1), [])
    head, line = cosign(first, note_of(history, 2), consistency_proof(4, history))
    assert head == TreeHead(ORIGIN, 9, root(history))

    # From the spec: "— <name> base64(key ID || u64 timestamp || signature)", key ID
    # SHA-256(name || "\n" || 0x04 || key)[:4], signed message "cosignature/v1\ntime <t>\n" || body.
    dash, name, encoded = line.rstrip("\n").split(" ")
    blob = base64.b64decode(encoded)
    raw = raw_public_key(WITNESS.public_key())
    assert (dash, name) == ("\u2014", NAME)
    assert blob[:4] == hashlib.sha256(NAME.encode() + b"\n\x04" + raw).digest()[:4]
    assert int.from_bytes(blob[4:12], "big") == 1_796_000_000
    body = note_of(history, 2).split("\n\n")[0] + "\n"
    WITNESS.public_key().verify(blob[12:], f"cosignature/v1\ntime 1796000000\n{body}".encode())


def test_the_witness_refuses_a_fork_of_what_it_cosigned() -> None:
    history = leaves("a", 9)
    fork = history[:3] + leaves("rewritten", 6)  # entry 4 onwards told differently
    seen, _ = cosign(None, note_of(history[:5], 1), [])
    with pytest.raises(SplitView, match="SPLIT VIEW"):
        cosign(seen, note_of(fork, 2), consistency_proof(5, fork))
    with pytest.raises(SplitView):  # a smaller tree is no extension either
        cosign(seen, note_of(history[:4], 2), [])


def test_the_witness_refuses_a_note_the_log_did_not_sign() -> None:
    note = note_of(leaves("a", 4), 1)
    forged = note.replace("\n4\n", "\n5\n", 1)
    with pytest.raises(ValueError, match="does not verify"):
        cosign(None, forged, [])
