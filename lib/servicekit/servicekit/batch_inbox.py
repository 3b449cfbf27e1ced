"""The inbox consumer folding each fetched batch in one transaction, for bulk work where one
transaction an event is what bounds the rate (a read model rebuilt from the ledger's redrive).

What the inbox promises holds as it does one event at a time: the batch's event ids go into
`inbox` in the transaction of the handler's effect, and only the ids not there already (nor met
earlier in the batch) reach the handler, so a redelivered or re-driven event has no second
effect. Whatever is not plain sailing goes through the one-at-a-time path, which retries,
counts attempts, parks and waits out outages: a batch holding a message that is no valid,
proven event, or one delivered before (it may have failed), or whose transaction fails.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import asyncpg
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from offramp_contracts import EventEnvelope, payload_of
from servicekit.inbox import Delivered, InboxConsumer
from servicekit.log import get_logger

log = get_logger(__name__)

BatchHandler = Callable[[asyncpg.Connection, Sequence[Delivered]], Awaitable[None]]


@dataclass
class BatchInboxConsumer(InboxConsumer):
    """`handler` handles one event (the fallback); `batch_handler` a batch of them, in order."""

    batch_handler: BatchHandler | None = field(default=None)
    batches: int = 0

    async def _consume(self, sub: JetStreamContext.PullSubscription) -> None:
        pause = self.policy.outage_pause_seconds
        async for msgs in self._fetches(sub):
            if not await self.deliver_batch(msgs):
                pause = await self._deliver_each(msgs, pause)

    async def deliver_batch(self, msgs: Sequence[Msg]) -> bool:
        """Handle and ack the whole batch in one transaction; False (nothing done, nothing
        settled) if it must go one message at a time."""
        if self.batch_handler is None:
            return False
        delivered: list[Delivered] = []
        for msg in msgs:
            if msg.metadata.num_delivered > 1:
                return False
            try:
                event = EventEnvelope.from_wire(msg.data)
                self.check_provenance(msg.subject, event, msg.headers)
                payload_of(event)
            except Exception:
                return False  # parked, with its reason, by the one-at-a-time path
            delivered.append(Delivered(event, msg.subject))
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                fresh = {
                    row["event_id"]
                    for row in await conn.fetch(
                        "INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::uuid[]) "
                        "ON CONFLICT DO NOTHING RETURNING event_id",
                        self.name,
                        [d.event.event_id for d in delivered],
                    )
                }
                todo = []
                for one in delivered:
                    if one.event.event_id in fresh:
                        fresh.discard(one.event.event_id)
                        todo.append(one)
                if todo:
                    await self.batch_handler(conn, todo)
        except Exception as error:
            log.warning(
                "batch failed; handling its messages one at a time",
                consumer=self.name,
                size=len(msgs),
                error=repr(error)[:300],
            )
            return False
        self.handled += len(todo)
        self.batches += 1
        for msg in msgs:
            await msg.ack()
        return True
