"""The ledger in Postgres: appending events once each, and walking the chain to verify it."""

import json
from dataclasses import dataclass

import asyncpg

from audit.domain.chain import (
    GENESIS_HASH,
    ChainVerifier,
    StoredEntry,
    Verification,
    canonical,
    chain_hash,
    ledger_entry,
)
from offramp_contracts import EventEnvelope


@dataclass(frozen=True)
class Appended:
    seq: int
    hash: str


async def append(conn: asyncpg.Connection, subject: str, event: EventEnvelope) -> Appended | None:
    """Append `event` unless it is already in the ledger. Runs in the caller's transaction.

    Writers are serialised by a transaction-scoped advisory lock, so the sequence is gapless
    and each entry hashes onto the committed head, however many replicas consume.
    """
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('audit-ledger-writer'))")
    if await conn.fetchval("SELECT 1 FROM ledger WHERE event_id = $1", event.event_id):
        return None
    head = await conn.fetchrow("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1")
    seq = (head["seq"] if head else 0) + 1
    previous = head["hash"] if head else GENESIS_HASH
    body = canonical(ledger_entry(seq, subject, json.loads(event.model_dump_json())))
    digest = chain_hash(previous, body)
    await conn.execute(
        """INSERT INTO ledger (seq, event_id, subject, entry, previous_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        seq,
        event.event_id,
        subject,
        body.decode(),
        previous,
        digest,
    )
    return Appended(seq, digest)


async def verify(pool: asyncpg.Pool, *, batch_size: int = 5000) -> Verification:
    verifier = ChainVerifier()
    after = 0
    while True:
        rows = await pool.fetch(
            """SELECT seq, entry, previous_hash, hash FROM ledger
               WHERE seq > $1 ORDER BY seq LIMIT $2""",
            after,
            batch_size,
        )
        if not rows:
            return verifier.result()
        if not verifier.feed(StoredEntry(**dict(row)) for row in rows):
            return verifier.result()
        after = rows[-1]["seq"]
