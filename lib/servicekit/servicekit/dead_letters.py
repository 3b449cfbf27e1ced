"""What operators do with parked messages: see them, replay them, discard them."""

import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from offramp_contracts import EventEnvelope
from servicekit.inbox import Delivered, InboxConsumer


@dataclass(frozen=True)
class DeadLetter:
    id: int
    consumer: str
    subject: str
    event_id: UUID | None
    error: str
    deliveries: int
    parked_at: datetime
    status: str


async def parked(pool: asyncpg.Pool) -> list[DeadLetter]:
    rows = await pool.fetch(
        """SELECT id, consumer, subject, event_id, error, deliveries, parked_at, status
           FROM dead_letters WHERE status = 'parked' ORDER BY id"""
    )
    return [DeadLetter(**dict(row)) for row in rows]


async def replay(pool: asyncpg.Pool, dead_letter_id: int, consumer: InboxConsumer) -> bool:
    """Hand the parked message to its consumer again (through the inbox, so still once);
    it stays parked if it still fails or cannot be read."""
    row = await pool.fetchrow(
        "SELECT subject, body, headers FROM dead_letters "
        "WHERE id = $1 AND status = 'parked' AND consumer = $2",
        dead_letter_id,
        consumer.name,
    )
    if row is None:
        raise LookupError(f"no parked dead letter {dead_letter_id} for consumer {consumer.name}")
    event = EventEnvelope.from_wire(row["body"])
    # A replay is believed no more than the first delivery was: parked for its provenance, it
    # stays parked until its producer's key is in the keyring.
    headers = json.loads(row["headers"]) if row["headers"] else None
    consumer.check_provenance(row["subject"], event, headers)
    await consumer.handle(Delivered(event, row["subject"]))
    await _resolve(pool, dead_letter_id, "replayed")
    return True


async def discard(pool: asyncpg.Pool, dead_letter_id: int) -> None:
    if not await _resolve(pool, dead_letter_id, "discarded"):
        raise LookupError(f"no parked dead letter {dead_letter_id}")


async def _resolve(pool: asyncpg.Pool, dead_letter_id: int, status: str) -> bool:
    result = await pool.execute(
        "UPDATE dead_letters SET status = $2, resolved_at = now() WHERE id = $1 AND status = 'parked'",
        dead_letter_id,
        status,
    )
    return bool(result.endswith(" 1"))
