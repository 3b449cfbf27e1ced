"""What operators do with parked messages: see them, replay them, discard them.

A replay runs the consumer's own handler, so only a running service can do it: over HTTP
(`POST /dead-letters/{id}/replay`) it replays at once; a command on the server marks the letter
`replay_requested`, and the service's `ReplayRequests` loop replays it within a second or two.
"""

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from offramp_contracts import EventEnvelope
from servicekit.inbox import Delivered, InboxConsumer
from servicekit.log import get_logger
from servicekit.outages import is_outage

log = get_logger(__name__)

# Still waiting for an operator's decision: parked, or parked with a replay asked for.
WAITING = ("parked", "replay_requested")


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


_COLUMNS = "id, consumer, subject, event_id, error, deliveries, parked_at, status"


async def parked(pool: asyncpg.Pool, *, jurisdiction: str | None = None) -> list[DeadLetter]:
    """The letters waiting for a decision; with `jurisdiction`, those whose subject is its."""
    rows = await pool.fetch(
        f"""SELECT {_COLUMNS} FROM dead_letters
            WHERE status = ANY($1::text[])
              AND ($2::text IS NULL OR split_part(subject, '.', 2) = $2)
            ORDER BY id""",
        list(WAITING),
        jurisdiction,
    )
    return [DeadLetter(**dict(row)) for row in rows]


async def find(pool: asyncpg.Pool, dead_letter_id: int) -> DeadLetter | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM dead_letters WHERE id = $1", dead_letter_id)
    return DeadLetter(**dict(row)) if row is not None else None


async def replay(pool: asyncpg.Pool, dead_letter_id: int, consumer: InboxConsumer) -> bool:
    """Hand the parked message to its consumer again (through the inbox, so still once);
    it stays parked, with the new error, if it still fails or cannot be read."""
    row = await pool.fetchrow(
        """SELECT subject, body, headers FROM dead_letters
           WHERE id = $1 AND status = ANY($3::text[]) AND consumer = $2""",
        dead_letter_id,
        consumer.name,
        list(WAITING),
    )
    if row is None:
        raise LookupError(f"no parked dead letter {dead_letter_id} for consumer {consumer.name}")
    try:
        event = EventEnvelope.from_wire(row["body"])
        # A replay is believed no more than the first delivery was: parked for its provenance,
        # it stays parked until its producer's key is in the keyring.
        headers = json.loads(row["headers"]) if row["headers"] else None
        consumer.check_provenance(row["subject"], event, headers)
        await consumer.handle(Delivered(event, row["subject"]))
    except Exception as error:
        if not is_outage(error):
            await pool.execute(
                "UPDATE dead_letters SET status = 'parked', error = $2 "
                "WHERE id = $1 AND status = ANY($3::text[])",
                dead_letter_id,
                f"replay failed: {error!r}"[:4000],
                list(WAITING),
            )
            log.error(
                "dead letter replay failed; still parked",
                dead_letter=dead_letter_id,
                consumer=consumer.name,
                error=repr(error)[:500],
            )
        raise
    await _resolve(pool, dead_letter_id, "replayed")
    log.info("dead letter replayed", dead_letter=dead_letter_id, consumer=consumer.name)
    return True


async def request_replay(pool: asyncpg.Pool, dead_letter_id: int) -> None:
    """Ask the running service to replay a letter (what a command on the server can do)."""
    result = await pool.execute(
        "UPDATE dead_letters SET status = 'replay_requested' WHERE id = $1 AND status = 'parked'",
        dead_letter_id,
    )
    if not result.endswith(" 1"):
        raise LookupError(
            f"no parked dead letter {dead_letter_id}; list them with `dead-letters list`"
        )


async def discard(pool: asyncpg.Pool, dead_letter_id: int) -> None:
    if not await _resolve(pool, dead_letter_id, "discarded"):
        raise LookupError(f"no parked dead letter {dead_letter_id}")
    log.info("dead letter discarded", dead_letter=dead_letter_id)


async def _resolve(pool: asyncpg.Pool, dead_letter_id: int, status: str) -> bool:
    result = await pool.execute(
        """UPDATE dead_letters SET status = $2, resolved_at = now()
           WHERE id = $1 AND status = ANY($3::text[])""",
        dead_letter_id,
        status,
        list(WAITING),
    )
    return bool(result.endswith(" 1"))


def one_line(text: str) -> str:
    """An error as one line without tabs: pydantic's span lines, and a listing keeps one letter
    per line with tab-separated columns."""
    return " ".join(text.split())


class ReplayRequests:
    """Replays the letters a command asked to replay, for the consumers this process runs.
    Several replicas may pick the same letter: the inbox keeps it to one effect."""

    def __init__(
        self, pool: asyncpg.Pool, consumers: dict[str, InboxConsumer], poll_seconds: float = 1.0
    ) -> None:
        self._pool = pool
        self._consumers = consumers
        self._poll_seconds = poll_seconds

    async def run(self) -> None:
        while True:
            try:
                await self.replay_requested()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not is_outage(error):
                    raise
                log.warning("dead letter replays waiting for the database", error=repr(error)[:300])
            await asyncio.sleep(self._poll_seconds)

    async def replay_requested(self) -> int:
        if not self._consumers:
            return 0
        ids = await self._pool.fetch(
            """SELECT id, consumer FROM dead_letters
               WHERE status = 'replay_requested' AND consumer = ANY($1::text[]) ORDER BY id""",
            list(self._consumers),
        )
        replayed = 0
        for row in ids:
            try:
                await replay(self._pool, row["id"], self._consumers[row["consumer"]])
                replayed += 1
            except LookupError:
                continue  # another replica got there first, or an operator discarded it
            except Exception as error:
                if is_outage(error):
                    raise
                # Logged and put back to parked by replay(); the next request may try again.
                continue
        return replayed
