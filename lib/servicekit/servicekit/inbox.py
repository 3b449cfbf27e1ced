"""The idempotent inbox consumer: a durable JetStream pull consumer with explicit acks, bounded
redeliveries with back-off, and a dead-letter table.

Exactly one effect per event: the handled event id is inserted into `inbox` in the same
transaction as the handler's effect, so a redelivery (after a crash, a late ack, a republished
outbox row) finds it there and does nothing. The ack only stops redelivery; it guarantees nothing.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import asyncpg
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError

from offramp_contracts import EventEnvelope
from servicekit.log import get_logger, log_context

log = get_logger(__name__)


@dataclass(frozen=True)
class Delivered:
    """An event as it arrived: the envelope and the subject it travelled on."""

    event: EventEnvelope
    subject: str


Handler = Callable[[asyncpg.Connection, Delivered], Awaitable[None]]


class Unprocessable(Exception):
    """Raised by a handler for an event it can never act on as things stand (say, a policy
    version this deployment does not hold): retrying cannot help, so the message is parked at
    once for an operator to fix the cause and replay it."""


@dataclass(frozen=True)
class ConsumerPolicy:
    """Written out on purpose: JetStream's and FastStream's defaults (unlimited deliveries,
    terminate on error) are wrong for facts about people."""

    max_attempts: int = 5
    # Delay before attempt 2, 3, ...; the last value repeats.
    backoff_seconds: Sequence[float] = (1.0, 5.0, 30.0, 120.0)
    ack_wait_seconds: float = 30.0
    batch_size: int = 32
    fetch_timeout_seconds: float = 2.0


@dataclass
class InboxConsumer:
    """Consumes `subjects` from `stream` under the durable name `name` (version it when its
    filter or policy changes: JetStream keeps an existing durable's old configuration)."""

    pool: asyncpg.Pool
    js: JetStreamContext
    stream: str
    name: str
    subjects: Sequence[str]
    handler: Handler
    policy: ConsumerPolicy = field(default_factory=ConsumerPolicy)
    handled: int = 0

    def consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.name,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.policy.ack_wait_seconds,
            # The server's own bound sits above ours: attempts past `max_attempts` are parked
            # here, and the spare deliveries let a park that failed (database down) try again.
            max_deliver=self.policy.max_attempts + 3,
            filter_subjects=list(self.subjects),
            max_ack_pending=1000,
        )

    async def run(self) -> None:
        """Consume until cancelled; re-create the subscription whenever it breaks (a NATS
        restart can leave a pull subscription that never delivers again)."""
        while True:
            try:
                await self.js.add_consumer(self.stream, config=self.consumer_config())
                sub = await self.js.pull_subscribe_bind(durable=self.name, stream=self.stream)
                log.info("consumer ready", consumer=self.name, subjects=list(self.subjects))
                try:
                    await self._consume(sub)
                finally:
                    # A pull request's late status reply can sit in the subscription's queue
                    # with nobody left to read it, and the connection's drain would then wait
                    # for it until its own timeout: let the subscription go with the loop.
                    with contextlib.suppress(Exception):
                        await sub.unsubscribe()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning(
                    "consumer interrupted; resubscribing", consumer=self.name, error=repr(error)
                )
                await asyncio.sleep(1.0)

    async def _consume(self, sub: JetStreamContext.PullSubscription) -> None:
        idle_fetches = 0
        while True:
            try:
                msgs = await sub.fetch(
                    self.policy.batch_size, timeout=self.policy.fetch_timeout_seconds
                )
            except nats.errors.TimeoutError:
                idle_fetches += 1
                # A fetch that times out looks the same as one on a dead subscription; check
                # from time to time that the consumer still exists on the server.
                if idle_fetches % 15 == 0:
                    await self.js.consumer_info(self.stream, self.name)
                continue
            idle_fetches = 0
            for msg in msgs:
                await self.deliver(msg)

    async def deliver(self, msg: Msg) -> None:
        attempt = msg.metadata.num_delivered
        try:
            event = EventEnvelope.from_wire(msg.data)
        except ValidationError as error:
            await self._park(msg, None, f"malformed event: {error}", attempt)
            return
        if attempt > self.policy.max_attempts:
            await self._park(msg, event, "gave up after the last attempt", attempt)
            return
        with log_context(
            correlation_id=event.correlation_id,
            causation_id=event.event_id,
            consumer=self.name,
            event_type=event.event_type,
        ):
            try:
                async with _keep_alive(msg, self.policy.ack_wait_seconds):
                    await self.handle(Delivered(event, msg.subject))
            except Unprocessable as error:
                await self._park(msg, event, f"unprocessable: {error}", attempt)
                return
            except Exception as error:
                if attempt >= self.policy.max_attempts:
                    await self._park(msg, event, repr(error), attempt)
                    return
                delay = self._delay_after(attempt)
                log.warning(
                    "handler failed; will retry", attempt=attempt, delay=delay, error=repr(error)
                )
                await msg.nak(delay=delay)
                return
        await msg.ack()

    async def handle(self, delivered: Delivered) -> bool:
        """Run the handler once per event id; returns False if it had already been handled."""
        event = delivered.event
        async with self.pool.acquire() as conn, conn.transaction():
            first = await conn.fetchval(
                "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING RETURNING true",
                self.name,
                event.event_id,
            )
            if not first:
                log.info("already handled; skipping", event_id=str(event.event_id))
                return False
            await self.handler(conn, delivered)
        self.handled += 1
        return True

    def _delay_after(self, attempt: int) -> float:
        delays = self.policy.backoff_seconds
        return delays[min(attempt - 1, len(delays) - 1)]

    async def _park(self, msg: Msg, event: EventEnvelope | None, error: str, attempt: int) -> None:
        """Keep what cannot be handled where operators see it, then let the stream move on."""
        async with self.pool.acquire() as conn:
            await conn.execute(
                """INSERT INTO dead_letters (consumer, subject, event_id, body, error, deliveries)
                   VALUES ($1, $2, $3, $4, $5, $6)""",
                self.name,
                msg.subject,
                event.event_id if event else None,
                msg.data,
                error[:4000],
                attempt,
            )
        log.error("message parked as a dead letter", subject=msg.subject, error=error[:500])
        await msg.ack()


@contextlib.asynccontextmanager
async def _keep_alive(msg: Msg, ack_wait: float) -> AsyncIterator[None]:
    """Tell JetStream a slow handler is still working, so it is not redelivered meanwhile."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(ack_wait / 3)
            with contextlib.suppress(Exception):
                await msg.in_progress()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
