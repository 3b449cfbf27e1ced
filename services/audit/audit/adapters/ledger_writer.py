"""The ledger's single writer: takes every event off the bus in batches and appends each once.

One replica at a time holds the writer's lease (a session-level advisory lock, see
`servicekit.lease`); the others stand by and take over when its session ends. The writer
appends *on the session that holds the lease*, so a writer that has lost its lease cannot write
at all: there is no window where two writers both think they hold it.

Acks follow the commit. A writer that dies between the two leaves events unacked; the writer
that takes over restarts the durable at its ack floor, so they come again before anything newer
and each stream keeps its order in the ledger, and the ledger's unique event id turns a second
delivery into nothing. Unlike other consumers, deliveries are not bounded: a batch fails only when Postgres
is unavailable, and giving up would drop facts from the ledger. What can never be appended is
parked at once instead: a message that is not an event, data JSON cannot carry exactly, or an
envelope whose data is not what its event type and version say (checked with the upcasters, as
every consumer checks it). The ledger cannot forget an entry, so it must not take one that every
other reader refuses and a later fold would choke on.
"""

import contextlib
import json
from dataclasses import dataclass

import asyncpg
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry import propagate
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from audit.adapters.checkpoint_store import Checkpointer
from audit.adapters.ledger_store import (
    Arrival,
    LedgerHead,
    append_batch,
    canonical_event,
    read_head,
)
from audit.domain.merkle import leaf_hash
from audit.domain.verification import signature_holds
from audit.settings import LEDGER_DB_ROLE
from offramp_contracts import EventEnvelope, payload_of
from offramp_contracts.provenance import ownership_problem
from servicekit.log import get_logger
from servicekit.provenance import (
    KEY_ID_HEADER,
    SIGNATURE_HEADER,
    Keys,
    Provenance,
    ProvenanceError,
    check_provenance,
)
from servicekit.single_writer import run_single_writer
from servicekit.tracing import tracer

log = get_logger(__name__)

# Versioned: JetStream keeps an existing durable's old configuration (v1 was an inbox consumer
# with bounded deliveries).
CONSUMER_NAME = "audit-ledger-v2"
LEASE_NAME = "ledger-writer"


@dataclass(frozen=True)
class WriterConfig:
    dsn: str
    schema: str
    stream: str
    subjects: list[str]
    batch_size: int
    ack_wait_seconds: float
    lease_retry_seconds: float
    fetch_timeout_seconds: float = 1.0


def proven_producer(
    keys: Keys,
    subject: str,
    event: EventEnvelope,
    headers: dict[str, str] | None,
    event_bytes: bytes,
) -> Provenance:
    """`check_provenance` over the event's RFC 8785 bytes made once: the same keyring, signed
    bytes and ownership rule. What it does not prove goes to `check_provenance` itself, which
    raises with the reason every consumer gives."""
    headers = headers or {}
    key_id, signature = headers.get(KEY_ID_HEADER), headers.get(SIGNATURE_HEADER)
    key = keys.get(key_id) if key_id and signature else None
    if (
        key is not None
        and key_id is not None
        and signature is not None
        and signature_holds(key, signature, event_bytes)
        and ownership_problem(key.producer, subject, event) is None
    ):
        return Provenance(key.producer, key_id, signature)
    return check_provenance(keys, subject, event, headers)


class LedgerWriter:
    def __init__(
        self,
        *,
        config: WriterConfig,
        js: JetStreamContext,
        checkpointer: Checkpointer,
        keyring: Keys,
    ) -> None:
        self._config = config
        self._keyring = keyring
        self._js = js
        self._checkpointer = checkpointer
        self.holds_lease = False
        self.appended = 0

    def consumer_config(self, start_seq: int | None = None) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=CONSUMER_NAME,
            deliver_policy=DeliverPolicy.ALL
            if start_seq is None
            else DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start_seq,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._config.ack_wait_seconds,
            max_deliver=-1,  # on purpose: see the module's docstring
            filter_subjects=self._config.subjects,
            max_ack_pending=max(1000, 4 * self._config.batch_size),
        )

    async def run(self) -> None:
        """Stand by for the lease, then write until cancelled; start over after any failure."""
        c = self._config
        await run_single_writer(
            dsn=c.dsn,
            schema=c.schema,
            lease=LEASE_NAME,
            work=self._hold,
            lease_retry_seconds=c.lease_retry_seconds,
        )

    async def _hold(self, session: asyncpg.Connection) -> None:
        await session.execute(f"SET ROLE {LEDGER_DB_ROLE}")
        self.holds_lease = True
        try:
            await self._write_while_holding(session)
        finally:
            self.holds_lease = False

    async def _write_while_holding(self, session: asyncpg.Connection) -> None:
        head = await read_head(session)
        await self._take_over_consumer()
        sub = await self._js.pull_subscribe_bind(durable=CONSUMER_NAME, stream=self._config.stream)
        log.info("ledger writer active", size=head.size)
        try:
            await self._write_batches(session, head, sub)
        finally:
            # Messages fetched into the subscription but never handled would hold up the
            # connection's drain at shutdown until it times out; they are redelivered anyway.
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _take_over_consumer(self) -> None:
        """Make the durable deliver in stream order from the first message no writer acked.

        What an earlier writer fetched and never acked (it was killed, or lost its session)
        would otherwise come back only after the ack wait, behind messages delivered meanwhile,
        and a stream's later event could enter the ledger before its earlier one. So a writer
        that takes over with messages unacked re-creates the durable at its ack floor: all
        after it is delivered again in stream order, and what the ledger holds is skipped."""
        stream = self._config.stream
        try:
            info = await self._js.consumer_info(stream, CONSUMER_NAME)
        except nats.js.errors.NotFoundError:
            await self._js.add_consumer(stream, config=self.consumer_config())
            return
        if info.num_ack_pending == 0:
            # Nothing outstanding; keep where the durable starts (it cannot be changed in place).
            kept = info.config.opt_start_seq
            if info.config.deliver_policy != DeliverPolicy.BY_START_SEQUENCE:
                kept = None
            await self._js.add_consumer(stream, config=self.consumer_config(kept))
            return
        floor = info.ack_floor.stream_seq if info.ack_floor else 0
        log.info(
            "ledger consumer restarted at its ack floor",
            unacked=info.num_ack_pending,
            from_seq=floor + 1,
        )
        await self._js.delete_consumer(stream, CONSUMER_NAME)
        await self._js.add_consumer(
            stream, config=self.consumer_config(floor + 1 if floor else None)
        )

    async def _write_batches(
        self, session: asyncpg.Connection, head: LedgerHead, sub: JetStreamContext.PullSubscription
    ) -> None:
        idle = 0
        while True:
            try:
                msgs = await sub.fetch(
                    self._config.batch_size, timeout=self._config.fetch_timeout_seconds
                )
            # nats-py raises its own TimeoutError, or asyncio's when the server's timeout reply
            # and the client's deadline race; both mean only that nothing came (builtin base).
            except TimeoutError:
                msgs = []
                idle += 1
                # An idle fetch looks the same as a dead subscription (a NATS restart); check
                # from time to time that the consumer still exists, and start over if not.
                if idle % 30 == 0:
                    await self._js.consumer_info(self._config.stream, CONSUMER_NAME)
            if msgs:
                idle = 0
                await self._append(session, head, msgs)
            await self._checkpointer.sign_if_due(session, head)

    async def _append(self, session: asyncpg.Connection, head: LedgerHead, msgs: list[Msg]) -> None:
        arrivals: list[Arrival] = []
        unusable: list[tuple[Msg, EventEnvelope | None, str]] = []
        for msg in msgs:
            envelope: EventEnvelope | None = None
            try:
                envelope = EventEnvelope.from_wire(msg.data)
                # Made once: the signature is checked over these bytes, and the entry is built
                # around them.
                try:
                    event_bytes = canonical_event(envelope)
                except ValueError:
                    # Data JSON cannot carry exactly. Parked for its provenance if that fails
                    # first (unsigned, unknown key), as before; else for this.
                    check_provenance(self._keyring, msg.subject, envelope, msg.headers)
                    raise
                # Before it is taken: the ledger records only what its producer signed.
                provenance = proven_producer(
                    self._keyring, msg.subject, envelope, msg.headers, event_bytes
                )
                arrival = Arrival(msg.subject, envelope, provenance, event_bytes)
                payload_of(envelope)  # UnknownEventType is a ValueError too
            except ProvenanceError as error:
                unusable.append((msg, envelope, f"provenance: {error}"))
                continue
            except (ValidationError, ValueError) as error:
                unusable.append((msg, envelope, f"cannot be appended to the ledger: {error}"))
                continue
            arrivals.append(arrival)
        # A span per event appended, each continuing the trace its message carried.
        spans = [
            tracer().start_span(
                "ledger append",
                context=propagate.extract(dict(msg.headers or {})),
                kind=SpanKind.CONSUMER,
                attributes={"messaging.destination.name": msg.subject},
            )
            for msg in msgs
        ]
        try:
            async with session.transaction():
                appended = await append_batch(session, arrivals)
                for msg, envelope, why in unusable:
                    # Once, even if the message comes back because an ack was lost.
                    await session.execute(
                        """INSERT INTO dead_letters (consumer, subject, event_id, body, error,
                                                     deliveries, stream, stream_seq, headers)
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)
                           ON CONFLICT (consumer, stream, stream_seq) DO NOTHING""",
                        CONSUMER_NAME,
                        msg.subject,
                        envelope.event_id if envelope else None,
                        msg.data,
                        why[:4000],
                        msg.metadata.num_delivered,
                        msg.metadata.stream,
                        msg.metadata.sequence.stream,
                        json.dumps(msg.headers or {}),
                    )
        finally:
            for span in spans:
                span.end()
        # Committed: only now may the head move on, and JetStream forget the messages.
        for entry in appended:
            head.frontier.append(leaf_hash(entry.entry))
            head.hash = entry.hash
        self.appended += len(appended)
        for msg, _, why in unusable:
            log.error("message parked as a dead letter", subject=msg.subject, error=why[:500])
        for msg in msgs:
            await msg.ack()
