"""The inbox consumer folding each fetched batch in one transaction, for bulk work where one
transaction an event is what bounds the rate (a read model rebuilt from the ledger's redrive).

What the inbox promises holds as it does one event at a time: the batch's event ids go into
`inbox` in the transaction of the handler's effect, and only the ids not there already (nor met
earlier in the batch) reach the handler, so a redelivered or re-driven event has no second
effect. Whatever is not plain sailing goes through the one-at-a-time path, which retries,
counts attempts, parks and waits out outages: a batch holding a message that is no valid,
proven event, or one delivered before (it may have failed), or whose transaction fails.
"""

import asyncio
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
        idle_fetches = 0
        while True:
            try:
                msgs = await sub.fetch(
                    self.policy.batch_size, timeout=self.policy.fetch_timeout_seconds
                )
            except TimeoutError:
                idle_fetches += 1
                if idle_fetches % 15 == 0:
                    await self.js.consumer_info(self.stream, self.name)
                continue
            idle_fetches = 0
            if not await self.deliver_batch(msgs):
                await self._deliver_each(msgs)

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

    async def _deliver_each(self, msgs: Sequence[Msg]) -> None:
        """As `InboxConsumer` delivers a batch: one at a time, an outage handing back the rest."""
        pause = self.policy.outage_pause_seconds
        for index, msg in enumerate(msgs):
            if await self.deliver(msg, outage_pause=pause) != "outage":
                continue
            for held in msgs[index + 1 :]:
                await held.nak(delay=pause)
            await asyncio.sleep(pause)
            break
