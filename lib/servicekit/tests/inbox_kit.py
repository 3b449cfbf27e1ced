"""What the inbox consumer's tests share: a `Kit` of the test's stream, schema and helpers (the
`kit` fixture in conftest.py builds it), a handler that fails on purpose, and a parked event."""

import asyncio
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg
import nats.js.errors
from nats.js import JetStreamContext

from offramp_contracts import EventEnvelope
from servicekit import dead_letters
from servicekit.inbox import ConsumerPolicy, Delivered, Handler, InboxConsumer
from servicekit.settings import ServiceSettings

if TYPE_CHECKING:
    # conftest.py builds the kit from these fixtures and imports this module to do so.
    from lib.servicekit.tests.conftest import Effects, EventFactory, Start, WaitFor

QUICK = ConsumerPolicy(
    max_attempts=3, backoff_seconds=(0.2,), ack_wait_seconds=5, fetch_timeout_seconds=0.5
)
NAME = "kit-consumer"


class Kit:
    """The pieces a consumer test works with, on the test's own stream and schema."""

    def __init__(
        self,
        settings: ServiceSettings,
        pool: asyncpg.Pool,
        js: JetStreamContext,
        events: "EventFactory",
        effects: "Effects",
        background: "Start",
        wait_for: "WaitFor",
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.js = js
        self.events = events
        self.effects = effects
        self.background = background
        self.wait_for = wait_for

    def consumer(self, handler: Handler, name: str = NAME) -> InboxConsumer:
        return InboxConsumer(
            pool=self.pool,
            js=self.js,
            stream=self.settings.stream_name,
            name=name,
            subjects=[f"{self.settings.subject_root}.>"],
            handler=handler,
            policy=QUICK,
        )

    def start(self, consumer: InboxConsumer) -> None:
        self.background(consumer.run())

    async def publish(self, event: EventEnvelope, *, msg_id: str | None = None) -> None:
        await self.js.publish(
            self.events.subject(event),
            event.wire_json(),
            stream=self.settings.stream_name,
            headers={"Nats-Msg-Id": msg_id or str(event.event_id)},
        )

    async def publish_raw(self, body: bytes) -> None:
        subject = f"{self.settings.subject_root}.pontiac.casework.ClientEngaged"
        await self.js.publish(subject, body, stream=self.settings.stream_name)

    async def caught_up(self, consumer: InboxConsumer) -> None:
        """Wait until the server has nothing left to give this consumer: all acked."""
        stream_last = (await self.js.stream_info(self.settings.stream_name)).state.last_seq

        async def done() -> bool:
            try:
                info = await self.js.consumer_info(self.settings.stream_name, consumer.name)
            except nats.js.errors.NotFoundError:
                return False  # the consumer's loop has not created its durable yet
            return bool(
                info.num_pending == 0
                and info.num_ack_pending == 0
                and info.ack_floor.stream_seq == stream_last
            )

        await self.wait_for(done, timeout=10, what=f"{consumer.name} to ack everything")

    async def inbox_rows(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM inbox"))

    async def letters(self) -> list[asyncpg.Record]:
        return list(await self.pool.fetch("SELECT * FROM dead_letters ORDER BY id"))

    async def parked_count(self) -> int:
        return len(await dead_letters.parked(self.pool))


class Faulty:
    """A handler that records its effect and then fails for chosen events, a set number of
    times or until it is fixed; its failed effects must be rolled back with the inbox row."""

    def __init__(self, kit: Kit, fail_times: int | None = None) -> None:
        self.kit = kit
        self.fail_times = fail_times
        self.failing: set[UUID] = set()
        self.calls: dict[UUID, int] = {}
        self.called_at: dict[UUID, list[float]] = {}
        self.broken = True

    async def __call__(self, conn: asyncpg.Connection, delivered: Delivered) -> None:
        event_id = delivered.event.event_id
        self.calls[event_id] = self.calls.get(event_id, 0) + 1
        self.called_at.setdefault(event_id, []).append(asyncio.get_running_loop().time())
        await self.kit.effects.record(conn, delivered)
        if event_id not in self.failing or not self.broken:
            return
        if self.fail_times is None or self.calls[event_id] <= self.fail_times:
            raise RuntimeError(f"handler fault on attempt {self.calls[event_id]}")


async def park_one(kit: Kit, handler: Faulty) -> tuple[InboxConsumer, EventEnvelope, int]:
    """An event the handler fails on, parked: the consumer, the event and its letter's id."""
    event = kit.events.engaged("case-1", 1)
    handler.failing.add(event.event_id)
    await kit.publish(event)
    consumer = kit.consumer(handler)
    kit.start(consumer)
    await kit.wait_for(kit.parked_count, timeout=10, what="the event to be parked")
    await kit.caught_up(consumer)
    [letter] = await dead_letters.parked(kit.pool)
    return consumer, event, letter.id
