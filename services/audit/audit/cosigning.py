"""Use cases of the ledger's witnesses (issue 18, item 5): a partner agency's witness posts its
cosignature of a checkpoint; the ledger checks it against the witnesses it trusts, stores it,
serves it beneath the checkpoint's signed note, and says whether a checkpoint carries the
quorum (k of n) its settings require."""

from dataclasses import dataclass

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.adapters import checkpoint_store, cosignature_store
from audit.domain.note import NoteSigner, note_text
from audit.domain.refusals import CosignatureRefused
from audit.domain.witness import Cosignature, cosigned_by, quorum_met
from audit.proofs import NotFound as NotFound
from audit.proofs import note
from audit.settings import AuditSettings


@dataclass(frozen=True)
class Witnesses:
    """Who the ledger trusts to cosign, and how many of them a checkpoint needs."""

    keys: dict[str, Ed25519PublicKey]
    quorum: int


def witnesses_from(settings: AuditSettings) -> Witnesses:
    return Witnesses(settings.witnesses(), settings.ledger_witness_quorum)


@dataclass(frozen=True)
class Witnessing:
    checkpoint: int
    quorum: int
    trusted: int
    cosigned_by: list[str]
    quorum_met: bool


async def _text(pool: asyncpg.Pool, notes: NoteSigner, number: int) -> str:
    found = await checkpoint_store.checkpoint(pool, number)
    if found is None:
        raise NotFound(f"no checkpoint {number}")
    return note_text(notes.origin, found)


async def cosign(
    pool: asyncpg.Pool, notes: NoteSigner, witnesses: Witnesses, number: int, line: str
) -> Cosignature:
    """Store `line` if it is a valid cosignature of checkpoint `number` by a trusted witness;
    NotFound for no such checkpoint, CosignatureRefused saying why the line is not accepted."""
    try:
        cosignature = cosigned_by(await _text(pool, notes, number), line, witnesses.keys)
        return await cosignature_store.add(pool, number, cosignature)
    except ValueError as error:
        # Storing it refuses a time no date can hold (ValueError) the same way.
        raise CosignatureRefused(str(error)) from error


async def cosigned_note(pool: asyncpg.Pool, notes: NoteSigner, number: int) -> str:
    """The checkpoint's signed note with every stored cosignature line after the ledger's own:
    a cosigned note any signed-note verifier reads, each line checkable on its own."""
    return await note(pool, notes, number) + "".join(await cosignature_store.lines(pool, number))


async def witnessing(
    pool: asyncpg.Pool, notes: NoteSigner, witnesses: Witnesses, number: int
) -> Witnessing:
    text = await _text(pool, notes, number)
    met, names = quorum_met(
        text, await cosignature_store.lines(pool, number), witnesses.keys, witnesses.quorum
    )
    return Witnessing(number, witnesses.quorum, len(witnesses.keys), names, met)


async def witnessed_through(
    pool: asyncpg.Pool, notes: NoteSigner, witnesses: Witnesses
) -> int | None:
    """The latest checkpoint that carries the quorum. Witnesses checked that each checkpoint
    they cosign extends the last they saw, so it vouches for every checkpoint before it."""
    stored = await cosignature_store.by_checkpoint(pool)
    for checkpoint in reversed(await checkpoint_store.all_checkpoints(pool)):
        number = checkpoint.body.number
        text = note_text(notes.origin, checkpoint)
        if quorum_met(text, stored.get(number, []), witnesses.keys, max(1, witnesses.quorum))[0]:
            return number
    return None
