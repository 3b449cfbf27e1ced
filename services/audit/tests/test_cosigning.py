"""Witnesses' cosignatures in the real database: only a trusted witness's valid cosignature of
that very checkpoint is stored, a witness keeps its first word, the note is served with the
cosignatures beneath it, and a checkpoint counts as witnessed only with k of the n trusted."""

from typing import Any

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import cosigning, proofs
from audit.adapters import ledger_store
from audit.adapters.checkpoint_store import Checkpointer
from audit.domain.checkpoint import CheckpointPolicy, SignedCheckpoint
from audit.domain.note import NoteSigner, note_text
from audit.domain.witness import cosignature_line, read_note, witness_vkey
from audit.settings import AuditSettings
from servicekit.eventstore import EventStore
from servicekit.outbox import notify_channel
from tests.producers import arrival

SUBJECT = "lead.pontiac.casework.ClientEngaged"
LEDGER_KEY = Ed25519PrivateKey.generate()
NOTES = NoteSigner("offramp.county.ledger", LEDGER_KEY)
AGENCIES = {
    "prosecutor.county.example/witness": Ed25519PrivateKey.generate(),
    "defender.county.example/witness": Ed25519PrivateKey.generate(),
    "auditor.county.example/witness": Ed25519PrivateKey.generate(),
}
WITNESSES = cosigning.Witnesses({n: k.public_key() for n, k in AGENCIES.items()}, quorum=2)
PROSECUTOR, DEFENDER, AUDITOR = AGENCIES


async def grow(pool: asyncpg.Pool, event_of: Any, n: int) -> SignedCheckpoint:
    """`n` more entries and a checkpoint over them."""
    async with pool.acquire() as conn, conn.transaction():
        await ledger_store.append_batch(conn, [arrival(SUBJECT, event_of(i)) for i in range(n)])
    signer = Checkpointer(
        key=LEDGER_KEY,
        policy=CheckpointPolicy(1, 3600),
        origin="test-ledger",
        jurisdiction="county",
        store=EventStore(subject_root="lead", notify_channel=notify_channel("audit")),
    )
    async with pool.acquire() as conn:
        signed = await signer.sign_if_due(conn, await ledger_store.read_head(conn))
    assert signed is not None
    return signed


def line_of(witness: str, checkpoint: SignedCheckpoint, timestamp: int = 1_790_000_000) -> str:
    return cosignature_line(
        note_text(NOTES.origin, checkpoint), witness, AGENCIES[witness], timestamp
    )


@pytest.fixture
def pool(owner_pool: asyncpg.Pool) -> asyncpg.Pool:
    return owner_pool


async def test_k_of_n_trusted_witnesses_make_a_checkpoint_witnessed(
    pool: asyncpg.Pool, event_of: Any
) -> None:
    first = await grow(pool, event_of, 3)
    number = first.body.number
    assert await cosigning.witnessed_through(pool, NOTES, WITNESSES) is None

    made = await cosigning.cosign(pool, NOTES, WITNESSES, number, line_of(PROSECUTOR, first))
    assert (made.witness, made.timestamp) == (PROSECUTOR, 1_790_000_000)
    one = await cosigning.witnessing(pool, NOTES, WITNESSES, number)
    assert (one.cosigned_by, one.quorum_met) == ([PROSECUTOR], False)

    await cosigning.cosign(pool, NOTES, WITNESSES, number, line_of(DEFENDER, first))
    two = await cosigning.witnessing(pool, NOTES, WITNESSES, number)
    assert (two.cosigned_by, two.quorum_met) == (sorted([PROSECUTOR, DEFENDER]), True)

    later = await grow(pool, event_of, 2)
    await cosigning.cosign(pool, NOTES, WITNESSES, later.body.number, line_of(AUDITOR, later))
    # The later checkpoint has one cosignature: the witnessed history ends at the first.
    assert await cosigning.witnessed_through(pool, NOTES, WITNESSES) == number


async def test_the_note_is_served_with_each_cosignature_beneath_the_ledgers_signature(
    pool: asyncpg.Pool, event_of: Any
) -> None:
    signed = await grow(pool, event_of, 2)
    lines = [line_of(PROSECUTOR, signed), line_of(DEFENDER, signed)]
    for line in lines:
        await cosigning.cosign(pool, NOTES, WITNESSES, signed.body.number, line)
    served = await cosigning.cosigned_note(pool, NOTES, signed.body.number)
    assert served.endswith("".join(lines))
    # Still a note of the ledger's key: the cosignature lines are extra signatures.
    text, head = read_note(served, LEDGER_KEY.public_key())
    assert head.tree_size == signed.body.tree_size
    assert text == note_text(NOTES.origin, signed)


async def test_what_a_trusted_witness_did_not_sign_over_this_checkpoint_is_refused(
    pool: asyncpg.Pool, event_of: Any
) -> None:
    first = await grow(pool, event_of, 2)
    second = await grow(pool, event_of, 2)
    stranger = Ed25519PrivateKey.generate()
    text = note_text(NOTES.origin, second)
    refused = {
        "another checkpoint's": line_of(PROSECUTOR, first),
        "an untrusted witness's": cosignature_line(text, "stranger.example/w", stranger, 1),
        "a trusted name with a stranger's key": cosignature_line(text, PROSECUTOR, stranger, 1),
        "not a signature line": "prosecutor signed it",
    }
    for why, line in refused.items():
        with pytest.raises(ValueError):
            await cosigning.cosign(pool, NOTES, WITNESSES, second.body.number, line)
            pytest.fail(f"{why} cosignature was stored")
    with pytest.raises(proofs.NotFound):
        await cosigning.cosign(pool, NOTES, WITNESSES, 99, line_of(PROSECUTOR, second))
    assert (
        await cosigning.witnessing(pool, NOTES, WITNESSES, second.body.number)
    ).cosigned_by == []


async def test_a_witness_cosigning_again_keeps_its_first_cosignature(
    pool: asyncpg.Pool, event_of: Any
) -> None:
    signed = await grow(pool, event_of, 2)
    number = signed.body.number
    await cosigning.cosign(pool, NOTES, WITNESSES, number, line_of(PROSECUTOR, signed, 100))
    again = await cosigning.cosign(pool, NOTES, WITNESSES, number, line_of(PROSECUTOR, signed, 200))
    assert again.timestamp == 100
    assert await cosigning.cosigned_note(pool, NOTES, number) == (
        await proofs.note(pool, NOTES, number) + line_of(PROSECUTOR, signed, 100)
    )


def test_the_settings_refuse_a_quorum_the_trusted_witnesses_cannot_reach() -> None:
    keys = [witness_vkey(PROSECUTOR, AGENCIES[PROSECUTOR].public_key())]
    assert AuditSettings(ledger_witness_keys=keys, ledger_witness_quorum=1).witnesses() == {
        PROSECUTOR: AGENCIES[PROSECUTOR].public_key()
    }
    with pytest.raises(ValueError, match="more cosignatures"):
        AuditSettings(ledger_witness_keys=keys, ledger_witness_quorum=2)
    with pytest.raises(ValueError, match="key ID"):
        AuditSettings(ledger_witness_keys=[keys[0].replace("+", "+00", 1)])
