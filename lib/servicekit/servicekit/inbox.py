"""The idempotent inbox consumer: a durable JetStream pull consumer with explicit acks, bounded
attempts with back-off, and a dead-letter table.

Exactly one effect per event: the handled event id is inserted into `inbox` in the same
transaction as the handler's effect, so a redelivery (after a crash, a late ack, a republished
outbox row) finds it there and does nothing. The ack only stops redelivery; it guarantees nothing.

Attempts are the handler's own failures, counted in `inbox_failures`, not JetStream's delivery
count: a message is delivered again after a lost ack, a restart or a pause past the ack wait,
and none of these is its fault. An outage (`servicekit.outages`) is not counted either: the
message goes back, the consumer waits, and nothing is parked for a database that was down. What
can never be handled (not an event at all, data that fails validation, `Unprocessable`) is
parked on its first delivery.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import asyncpg
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError

from offramp_contracts import EventEnvelope, UnknownEventType, payload_of
from servicekit.log import get_logger, log_context
from servicekit.outages import is_outage
from servicekit.provenance import Keys, ProvenanceError, check_provenance
from servicekit.tracing import continued

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


Outcome = Literal["handled", "retry", "parked", "outage"]


@dataclass(frozen=True)
class ConsumerPolicy:
    """Written out on purpose: JetStream's and FastStream's defaults (unlimited deliveries,
    terminate on error) are wrong for facts about people."""

    # Failed attempts of the handler before the message is parked.
    max_attempts: int = 5
    # Delay before attempt 2, 3, ...; the last value repeats.
    backoff_seconds: Sequence[float] = (1.0, 5.0, 30.0, 120.0)
    ack_wait_seconds: float = 30.0
    batch_size: int = 32
    fetch_timeout_seconds: float = 2.0
    # While a dependency is down the consumer stops for this long, doubling up to the maximum,
    # and the messages it holds wait as long before they come back.
    outage_pause_seconds: float = 1.0
    outage_pause_max_seconds: float = 15.0


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
    # The producers' public keys: an event is believed, before anything else is done with it,
    # only if one of them signed it and its producer owns its subject. Every service's consumer
    # has one (ServiceRuntime.consumer); None only in the plumbing's own tests.
    keyring: Keys | None = None
    handled: int = 0

    def consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.name,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.policy.ack_wait_seconds,
            # Unbounded on purpose: deliveries are not attempts (see the module's docstring), and
            # a server-side bound would silently stop delivering a message that only ever met
            # outages. The bound on attempts is ours, and what exhausts it is parked, not lost.
            max_deliver=-1,
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
        pause = self.policy.outage_pause_seconds
        async for msgs in self._fetches(sub):
            pause = await self._deliver_each(msgs, pause)

    async def _fetches(self, sub: JetStreamContext.PullSubscription) -> AsyncIterator[list[Msg]]:
        """Every batch the subscription fetches, for as long as it lives."""
        idle_fetches = 0
        while True:
            try:
                msgs = await sub.fetch(
                    self.policy.batch_size, timeout=self.policy.fetch_timeout_seconds
                )
            # nats-py raises its own TimeoutError, or asyncio's when the server's timeout reply
            # and the client's deadline race; both mean only that nothing came (builtin base).
            except TimeoutError:
                idle_fetches += 1
                # A fetch that times out looks the same as one on a dead subscription; check
                # from time to time that the consumer still exists on the server.
                if idle_fetches % 15 == 0:
                    await self.js.consumer_info(self.stream, self.name)
                continue
            idle_fetches = 0
            yield msgs

    async def _deliver_each(self, msgs: Sequence[Msg], pause: float) -> float:
        """Deliver a batch one message at a time; returns the outage pause the next batch starts
        from (the first, unless an outage met this one)."""
        for index, msg in enumerate(msgs):
            if await self.deliver(msg, outage_pause=pause) != "outage":
                pause = self.policy.outage_pause_seconds
                continue
            # The rest of the batch would meet the same outage: hand it back untried,
            # and stop fetching for a while rather than spin against a dead server.
            for held in msgs[index + 1 :]:
                await held.nak(delay=pause)
            await asyncio.sleep(pause)
            return min(pause * 2, self.policy.outage_pause_max_seconds)
        return pause

    async def deliver(self, msg: Msg, *, outage_pause: float | None = None) -> Outcome:
        """Handle one message and settle it with JetStream (ack, nak or park)."""
        try:
            return await self._settle(msg)
        except Exception as error:
            if not is_outage(error):
                raise
            pause = self.policy.outage_pause_seconds if outage_pause is None else outage_pause
            log.warning(
                "dependency unavailable; message put back, not counted as an attempt",
                consumer=self.name,
                subject=msg.subject,
                retry_in=pause,
                error=repr(error)[:300],
            )
            await msg.nak(delay=pause)
            return "outage"

    async def _settle(self, msg: Msg) -> Outcome:
        deliveries = msg.metadata.num_delivered
        try:
            event = EventEnvelope.from_wire(msg.data)
        except ValidationError as error:
            await self._park(msg, None, f"malformed event: {error}", deliveries)
            return "parked"
        try:
            self.check_provenance(msg.subject, event, msg.headers)
        except ProvenanceError as error:
            # Never applied, never retried: no second delivery makes a forgery true.
            await self._park(msg, event, f"provenance: {error}", deliveries)
            return "parked"
        with log_context(
            correlation_id=event.correlation_id,
            causation_id=event.event_id,
            consumer=self.name,
            event_type=event.event_type,
        ):
            try:
                # Every consumer checks the data against its type and version (upcast), whether
                # or not its handler reads it, so that all readers and the ledger refuse alike.
                payload_of(event)
                async with _keep_alive(msg, self.policy.ack_wait_seconds):
                    with continued(
                        f"consume {event.event_type}",
                        msg.headers,
                        attributes={"messaging.consumer.group.name": self.name},
                    ):
                        await self.handle(Delivered(event, msg.subject), retried=deliveries > 1)
            except (Unprocessable, UnknownEventType) as error:
                await self._park(msg, event, f"unprocessable: {error}", deliveries)
                return "parked"
            except ValidationError as error:
                # The envelope was fine but its data is not what its type says: no retry fixes it.
                await self._park(msg, event, f"malformed event data: {error}", deliveries)
                return "parked"
            except Exception as error:
                if is_outage(error):
                    raise
                failures = await self._count_failure(event, error)
                if failures >= self.policy.max_attempts:
                    await self._park(msg, event, repr(error), deliveries)
                    return "parked"
                delay = self._delay_after(failures)
                log.warning(
                    "handler failed; will retry", attempt=failures, delay=delay, error=repr(error)
                )
                await msg.nak(delay=delay)
                return "retry"
        await msg.ack()
        return "handled"

    def check_provenance(
        self, subject: str, event: EventEnvelope, headers: Mapping[str, str] | None
    ) -> None:
        """Raises ProvenanceError unless the event's producer is proven (see `keyring`)."""
        if self.keyring is not None:
            check_provenance(self.keyring, subject, event, headers)

    async def handle(self, delivered: Delivered, *, retried: bool = False) -> bool:
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
            if retried:
                await conn.execute(
                    "DELETE FROM inbox_failures WHERE consumer = $1 AND event_id = $2",
                    self.name,
                    event.event_id,
                )
        self.handled += 1
        return True

    async def _count_failure(self, event: EventEnvelope, error: Exception) -> int:
        """Record one failed attempt of the handler (its own transaction: the handler's was
        rolled back); returns how many there have been."""
        failures: int = await self.pool.fetchval(
            """INSERT INTO inbox_failures (consumer, event_id, failures, last_error)
               VALUES ($1, $2, 1, $3)
               ON CONFLICT (consumer, event_id) DO UPDATE
               SET failures = inbox_failures.failures + 1, last_error = EXCLUDED.last_error,
                   failed_at = now()
               RETURNING failures""",
            self.name,
            event.event_id,
            repr(error)[:4000],
        )
        return failures

    def _delay_after(self, failures: int) -> float:
        delays = self.policy.backoff_seconds
        return delays[min(failures - 1, len(delays) - 1)]

    async def _park(
        self, msg: Msg, event: EventEnvelope | None, error: str, deliveries: int
    ) -> None:
        """Keep what cannot be handled where operators see it, once however often it comes,
        then let the stream move on."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """INSERT INTO dead_letters (consumer, subject, event_id, body, error, deliveries,
                                            stream, stream_seq, headers)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)
                   ON CONFLICT (consumer, stream, stream_seq) DO NOTHING""",
                self.name,
                msg.subject,
                event.event_id if event else None,
                msg.data,
                error[:4000],
                deliveries,
                msg.metadata.stream,
                msg.metadata.sequence.stream,
                json.dumps(msg.headers or {}),
            )
            if event is not None:
                await conn.execute(
                    "DELETE FROM inbox_failures WHERE consumer = $1 AND event_id = $2",
                    self.name,
                    event.event_id,
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
