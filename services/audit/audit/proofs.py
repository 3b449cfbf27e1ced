"""Use cases over the stored ledger: proof bundles, exports, and the full verification."""

from typing import Any

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.adapters import checkpoint_store, ledger_store
from audit.domain.bundle import ProvenEntry, consistency_bundle, entries_bundle
from audit.domain.checkpoint import SignedCheckpoint, key_id
from audit.domain.merkle import consistency_proof, inclusion_proof
from audit.domain.note import NoteSigner

# Re-exported: callers and the database suites name the refusals as proofs.NotFound etc.
from audit.domain.refusals import BadRange as BadRange
from audit.domain.refusals import NotFound as NotFound
from audit.domain.refusals import Unvouched as Unvouched
from audit.domain.verification import LedgerReport
from servicekit.provenance import Keys

# An export holds one audit path per entry; past this, ask for several ranges.
MAX_EXPORT_ENTRIES = 10_000


async def _checkpoint(pool: asyncpg.Pool, number: int | None) -> SignedCheckpoint:
    found = await checkpoint_store.checkpoint(pool, number)
    if found is None:
        raise NotFound(f"no checkpoint {number}" if number else "no checkpoint has been signed yet")
    return found


async def inclusion(
    pool: asyncpg.Pool,
    public_key: Ed25519PublicKey,
    producer_keys: Keys,
    *,
    seq: int,
    checkpoint: int | None,
    notes: NoteSigner | None = None,
) -> dict[str, Any]:
    """Entry `seq` with its audit path to the root of `checkpoint` (latest by default)."""
    return await export(
        pool,
        public_key,
        producer_keys,
        first=seq,
        last=seq,
        checkpoint=checkpoint,
        kind="inclusion",
        notes=notes,
    )


async def export(
    pool: asyncpg.Pool,
    public_key: Ed25519PublicKey,
    producer_keys: Keys,
    *,
    first: int,
    last: int,
    checkpoint: int | None,
    kind: str = "export",
    notes: NoteSigner | None = None,
) -> dict[str, Any]:
    """Entries `first`..`last` with their audit paths against one signed checkpoint: a file
    that verifies on any machine with `offramp-audit check`."""
    signed = await _checkpoint(pool, checkpoint)
    size = signed.body.tree_size
    if not 1 <= first <= last:
        raise BadRange(f"entries {first} to {last} is not a range; give 1 ≤ first ≤ last")
    if last > size:
        raise BadRange(
            f"checkpoint {signed.body.number} signs entries 1 to {size} only; export up to "
            f"{size}, or wait for a later checkpoint"
        )
    if last - first + 1 > MAX_EXPORT_ENTRIES:
        raise BadRange(f"export at most {MAX_EXPORT_ENTRIES} entries at a time")
    leaves = await ledger_store.leaf_hashes(pool, size)
    stored = await ledger_store.entries(pool, after_seq=first - 1, limit=last - first + 1)
    proven = [
        ProvenEntry(
            seq=e.seq,
            entry=e.entry,
            previous_hash=e.previous_hash,
            hash=e.hash,
            inclusion_proof=[p.hex() for p in inclusion_proof(e.seq - 1, leaves)],
            producer=e.producer,
            key_id=e.key_id,
            signature=e.signature,
        )
        for e in stored
    ]
    bundle = entries_bundle(
        kind,
        signed,
        public_key,
        proven,
        producer_keys.keys(),
        signing_cutover=await ledger_store.signing_cutover(pool),
    )
    if notes is not None:
        # The same checkpoint as a C2SP signed note, for tools that speak only that; older
        # exports lack it and `offramp-audit check` reads them as before.
        try:
            bundle["checkpoint_note"] = notes.note(signed)
        except ValueError as error:
            raise Unvouched(str(error)) from error
    return bundle


async def note(pool: asyncpg.Pool, notes: NoteSigner, number: int) -> str:
    """Checkpoint `number` as a C2SP signed note (c2sp.org/tlog-checkpoint)."""
    try:
        return notes.note(await _checkpoint(pool, number))
    except ValueError as error:
        raise Unvouched(str(error)) from error


async def consistency(
    pool: asyncpg.Pool, public_key: Ed25519PublicKey, *, first: int, second: int | None
) -> dict[str, Any]:
    """Proof that checkpoint `first` is a prefix of checkpoint `second` (latest by default)."""
    earlier = await _checkpoint(pool, first)
    later = await _checkpoint(pool, second)
    if earlier.body.tree_size > later.body.tree_size:
        raise BadRange(
            f"checkpoint {first} is larger than checkpoint {later.body.number}; give the "
            "earlier one first"
        )
    leaves = await ledger_store.leaf_hashes(pool, later.body.tree_size)
    proof = consistency_proof(earlier.body.tree_size, leaves)
    return consistency_bundle(earlier, later, public_key, proof)


async def verify(
    pool: asyncpg.Pool,
    trusted_keys: list[Ed25519PublicKey],
    producer_keys: Keys,
    progress: ledger_store.Progress | None = None,
) -> LedgerReport:
    checkpoints = await checkpoint_store.all_checkpoints(pool)
    trusted = {key_id(key): key for key in trusted_keys}
    return await ledger_store.walk(pool, checkpoints, trusted, producer_keys, progress=progress)
