"""Proof bundles: self-contained JSON documents that anyone can check without the database.

- `inclusion`: one entry, the signed checkpoint, and the entry's audit path to its root.
- `export`: a range of entries, each with its audit path, against one signed checkpoint; the
  entries' hash chain is checked across the range too.
- `consistency`: two signed checkpoints and the proof that the first is a prefix of the second.

The bundle carries the signer's public key for convenience, but a careful auditor pins the key
they obtained separately (`offramp-audit check --public-key`): a bundle is only as trustworthy
as the key its checkpoint is checked with.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.domain.chain import StoredEntry, canonical, chain_hash
from audit.domain.checkpoint import (
    SignedCheckpoint,
    key_id,
    public_key_from_hex,
    raw_public_key,
    signature_problem,
)
from audit.domain.merkle import leaf_hash, verify_consistency, verify_inclusion
from audit.domain.note import note_problem
from audit.domain.verification import entry_provenance_problem, predates_signing
from servicekit.provenance import Keys, KeySet, ProducerKey

FORMAT = "offramp-ledger-proof/v1"


@dataclass(frozen=True)
class ProvenEntry:
    seq: int
    entry: str  # the exact canonical JSON that was hashed
    previous_hash: str
    hash: str
    inclusion_proof: list[str]
    producer: str | None = None
    key_id: str | None = None
    signature: str | None = None


def entries_bundle(
    kind: str,
    checkpoint: SignedCheckpoint,
    public_key: Ed25519PublicKey,
    entries: Sequence[ProvenEntry],
    producer_keys: Sequence[ProducerKey] = (),
    signing_cutover: int = 0,
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "kind": kind,
        "public_key": raw_public_key(public_key).hex(),
        # For convenience, like `public_key`: pin the keys obtained separately to be sure.
        "producer_keys": [key.to_json() for key in producer_keys],
        # Entries up to here were appended before events were signed (absent: none were).
        "signing_cutover": signing_cutover,
        "checkpoint": checkpoint.to_json(),
        "entries": [
            {
                "seq": e.seq,
                "entry": e.entry,
                "previous_hash": e.previous_hash,
                "hash": e.hash,
                "inclusion_proof": e.inclusion_proof,
                "producer": e.producer,
                "key_id": e.key_id,
                "signature": e.signature,
            }
            for e in entries
        ],
    }


def consistency_bundle(
    first: SignedCheckpoint,
    second: SignedCheckpoint,
    public_key: Ed25519PublicKey,
    proof: Sequence[bytes],
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "kind": "consistency",
        "public_key": raw_public_key(public_key).hex(),
        "first": first.to_json(),
        "second": second.to_json(),
        "consistency_proof": [p.hex() for p in proof],
    }


@dataclass
class BundleCheck:
    kind: str
    key_pinned: bool
    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_bundle(
    document: dict[str, Any],
    pinned_key: Ed25519PublicKey | None,
    pinned_producer_keys: Keys | None = None,
) -> BundleCheck:
    """Everything a bundle claims, checked, who wrote each entry included; `problems` says
    what does not hold."""
    kind = str(document.get("kind"))
    result = BundleCheck(kind=kind, key_pinned=pinned_key is not None)
    if document.get("format") != FORMAT:
        result.problems.append(f"not a {FORMAT} document (format is {document.get('format')!r})")
        return result
    try:
        key = pinned_key or public_key_from_hex(str(document["public_key"]))
        trusted = {key_id(key): key}
        if kind in ("inclusion", "export"):
            producers = pinned_producer_keys or KeySet.from_json(document.get("producer_keys", []))
            _check_entries(document, trusted, producers, result)
        elif kind == "consistency":
            _check_consistency(document, trusted, result)
        else:
            result.problems.append(f"unknown bundle kind {kind!r}")
    except (KeyError, TypeError, ValueError) as error:
        result.problems.append(f"the document is malformed: {error!r}")
    return result


def _checkpoint(
    data: Any, trusted: dict[str, Ed25519PublicKey], result: BundleCheck
) -> SignedCheckpoint:
    checkpoint = SignedCheckpoint.from_json(data)
    problem = signature_problem(checkpoint, trusted)
    if problem:
        result.problems.append(problem)
    else:
        body = checkpoint.body
        result.facts.append(
            f"checkpoint {body.number} of {body.origin} is signed by key {body.key_id}: "
            f"{body.tree_size} entries, root {body.root_hash}"
        )
    return checkpoint


def _check_entries(
    document: dict[str, Any],
    trusted: dict[str, Ed25519PublicKey],
    producers: Keys,
    result: BundleCheck,
) -> None:
    checkpoint = _checkpoint(document["checkpoint"], trusted, result)
    if "checkpoint_note" in document:  # exports before C2SP notes have none
        (key,) = trusted.values()
        wrong = note_problem(str(document["checkpoint_note"]), checkpoint, key)
        if wrong:
            result.problems.append(wrong)
        else:
            result.facts.append("its C2SP signed note restates it, signed by the same key")
    size, root = checkpoint.body.tree_size, bytes.fromhex(checkpoint.body.root_hash)
    previous: dict[str, Any] | None = None
    entries = document["entries"]
    # The cut-over is the length of the ledger's unsigned first entries. Every entry here is
    # proven inside the signed checkpoint, so in an export from entry 1 an unsigned prefix was in
    # the ledger when it was signed, and a cut-over stretched past a signed entry shows itself.
    cutover = int(document.get("signing_cutover", 0))
    if not entries:
        result.problems.append("the bundle holds no entries")
    for item in entries:
        seq, text = int(item["seq"]), str(item["entry"])
        body = text.encode()
        if canonical(json.loads(text)) != body:
            result.problems.append(f"entry {seq} is not in RFC 8785 canonical form")
        content = json.loads(text)
        if not isinstance(content, dict):
            result.problems.append(
                f"entry {seq} is not a ledger entry (not a JSON object): it was altered"
            )
        elif content.get("seq") != seq:
            result.problems.append(f"entry {seq} holds the content of another position")
        if chain_hash(item["previous_hash"], body) != item["hash"]:
            result.problems.append(f"entry {seq} does not match its hash: it was altered")
        if previous is not None:
            if seq != int(previous["seq"]) + 1:
                result.problems.append(
                    f"entry {int(previous['seq']) + 1} is missing from the range"
                )
            elif item["previous_hash"] != previous["hash"]:
                result.problems.append(f"entry {seq} does not point at the hash of entry {seq - 1}")
        if seq == size and item["hash"] != checkpoint.body.chain_head:
            result.problems.append(
                f"entry {seq} is not the chain head checkpoint {checkpoint.body.number} signed"
            )
        stored = StoredEntry(
            seq,
            text,
            item["previous_hash"],
            item["hash"],
            item.get("producer"),
            item.get("key_id"),
            item.get("signature"),
        )
        if predates_signing(stored, cutover):
            if int(entries[0]["seq"]) != 1:
                result.problems.append(
                    f"entry {seq} carries no signature; only an export from entry 1 shows "
                    "whether it predates signing"
                )
        elif seq <= cutover:
            result.problems.append(
                f"entry {seq} is signed, yet the export's cut-over ({cutover}) says signing "
                "began after it: the cut-over was altered"
            )
        elif (written_by := entry_provenance_problem(stored, producers)) is not None:
            result.problems.append(written_by[1])
        proof = [bytes.fromhex(p) for p in item["inclusion_proof"]]
        if not verify_inclusion(leaf_hash(body), seq - 1, size, proof, root):
            result.problems.append(
                f"entry {seq} is not proven to be in checkpoint {checkpoint.body.number}"
            )
        previous = item
    if entries and result.ok:
        first, last = entries[0]["seq"], entries[-1]["seq"]
        result.facts.append(f"entries {first} to {last} are in that checkpoint, unaltered")
        for item in entries:
            result.facts.append(
                f"entry {item['seq']} was written by {item['producer']} (key {item['key_id']})"
                if item.get("signature")
                else f"entry {item['seq']} predates signing (the ledger's cut-over: {cutover})"
            )


def _check_consistency(
    document: dict[str, Any], trusted: dict[str, Ed25519PublicKey], result: BundleCheck
) -> None:
    first = _checkpoint(document["first"], trusted, result)
    second = _checkpoint(document["second"], trusted, result)
    if first.body.origin != second.body.origin:
        result.problems.append("the two checkpoints come from different ledgers")
    proof = [bytes.fromhex(p) for p in document["consistency_proof"]]
    if not verify_consistency(
        first.body.tree_size,
        second.body.tree_size,
        bytes.fromhex(first.body.root_hash),
        bytes.fromhex(second.body.root_hash),
        proof,
    ):
        result.problems.append(
            f"checkpoint {second.body.number} is not proven to extend checkpoint "
            f"{first.body.number}: the ledger was rewritten between them, or the proof is forged"
        )
    elif result.ok:
        result.facts.append(
            f"checkpoint {second.body.number} extends checkpoint {first.body.number}: "
            f"the first {first.body.tree_size} entries are unchanged"
        )
