"""A ledger that began before events were signed: its unsigned first entries are reported as
older than signing, not forged; an unsigned entry after the recorded cut-over, or a cut-over no
signed checkpoint covers, is named by verify and by the offline check of an export."""

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import proofs
from audit.adapters import ledger_store
from audit.adapters.checkpoint_store import Checkpointer
from audit.bootstrap import migrations
from audit.domain.bundle import check_bundle
from audit.domain.checkpoint import CheckpointPolicy
from servicekit.database import create_pool
from servicekit.eventstore import EventStore
from servicekit.migrations import migrate
from servicekit.outbox import notify_channel
from tests.producers import PRODUCER_KEYS, arrival

SUBJECT = "lead.pontiac.casework.ClientEngaged"
KEY = Ed25519PrivateKey.generate()
BEFORE_THE_CUTOVER = [m for m in migrations() if not m.id.startswith("audit/0005")]


@pytest.fixture
async def pool(isolation: Any) -> AsyncIterator[asyncpg.Pool]:
    """The audit schema as it stood before migration 0005 recorded the cut-over."""
    pool = await create_pool(isolation.database_url, "audit")
    async with pool.acquire() as conn:
        await migrate(conn, "audit", BEFORE_THE_CUTOVER)
    try:
        yield pool
    finally:
        await pool.close()


async def append(pool: asyncpg.Pool, events: list[Any], *, signed: bool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await ledger_store.append_batch(
            conn,
            [arrival(SUBJECT, e) if signed else ledger_store.Arrival(SUBJECT, e) for e in events],
        )


async def upgrade(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await migrate(conn, "audit", migrations())


async def checkpoint(pool: asyncpg.Pool) -> None:
    signer = Checkpointer(
        key=KEY,
        policy=CheckpointPolicy(1, 3600),
        origin="test-ledger",
        jurisdiction="county",
        store=EventStore(subject_root="lead", notify_channel=notify_channel("audit")),
    )
    async with pool.acquire() as conn:
        assert await signer.sign_if_due(conn, await ledger_store.read_head(conn)) is not None


async def verify(pool: asyncpg.Pool) -> Any:
    return await proofs.verify(pool, [KEY.public_key()], PRODUCER_KEYS)


async def test_entries_before_signing_are_reported_as_such_and_later_unsigned_ones_are_named(
    pool: asyncpg.Pool, event_of: Any
) -> None:
    await append(pool, [event_of(n) for n in range(3)], signed=False)
    await append(pool, [event_of(n) for n in range(3, 5)], signed=True)
    await upgrade(pool)
    assert await ledger_store.signing_cutover(pool) == 3
    await checkpoint(pool)

    report = await verify(pool)
    assert report.intact, report.summary
    assert report.before_signing == 3
    assert report.written_by == {"casework": 2}
    assert "the first 3 predate signing" in report.summary

    await append(pool, [event_of(9)], signed=False)
    report = await verify(pool)
    assert not report.intact
    assert (report.first_bad_seq, report.fault) == (6, "unsigned")


async def test_a_cutover_no_checkpoint_covers_proves_nothing(
    pool: asyncpg.Pool, event_of: Any
) -> None:
    await append(pool, [event_of(n) for n in range(3)], signed=False)
    await upgrade(pool)
    report = await verify(pool)
    assert not report.intact
    assert report.fault == "unsigned"
    assert "no signed checkpoint covers entries 1 to 3" in str(report.explanation)


async def test_a_new_ledger_records_no_cutover_so_every_unsigned_entry_is_named(
    pool: asyncpg.Pool, event_of: Any
) -> None:
    await upgrade(pool)
    assert await ledger_store.signing_cutover(pool) == 0
    await append(pool, [event_of(0)], signed=False)
    await checkpoint(pool)
    report = await verify(pool)
    assert (report.intact, report.fault, report.first_bad_seq) == (False, "unsigned", 1)


async def test_an_export_across_the_cutover_checks_offline_and_cannot_be_stretched(
    pool: asyncpg.Pool, event_of: Any
) -> None:
    await append(pool, [event_of(n) for n in range(2)], signed=False)
    await append(pool, [event_of(2)], signed=True)
    await upgrade(pool)
    await append(pool, [event_of(3)], signed=False)  # unsigned after the cut-over: forged
    await checkpoint(pool)
    bundle = await proofs.export(
        pool, KEY.public_key(), PRODUCER_KEYS, first=1, last=3, checkpoint=None
    )
    checked = check_bundle(bundle, KEY.public_key(), PRODUCER_KEYS)
    assert checked.ok, checked.problems
    assert "entry 1 predates signing (the ledger's cut-over: 2)" in checked.facts

    whole = await proofs.export(
        pool, KEY.public_key(), PRODUCER_KEYS, first=1, last=4, checkpoint=None
    )
    assert not check_bundle(whole, KEY.public_key(), PRODUCER_KEYS).ok
    # Whoever edits the file to stretch the cut-over over the forged entry is found out by the
    # signed entry it then covers; a range that does not start at 1 proves no entry old.
    stretched = check_bundle({**whole, "signing_cutover": 4}, KEY.public_key(), PRODUCER_KEYS)
    assert "entry 3 is signed, yet the export's cut-over (4)" in " ".join(stretched.problems)
    tail = await proofs.export(
        pool, KEY.public_key(), PRODUCER_KEYS, first=2, last=3, checkpoint=None
    )
    partial = check_bundle(tail, KEY.public_key(), PRODUCER_KEYS)
    assert "only an export from entry 1" in " ".join(partial.problems)
