"""The outbox relay: publishes what a service committed to its outbox, then forgets it.

At least once, never lost: a row is deleted only after JetStream acknowledged it. A relay that
dies between the ack and the delete republishes the row later with the same `Nats-Msg-Id`, which
JetStream drops within its duplicate window; the consumers' inboxes absorb anything older.

Pipelined, each stream in order (ADR 0003): a batch is cut into waves in which no event stream
appears twice (its first event in this batch in the first wave, its second in the second, ...),
each wave written to the connection in one burst without waiting for each ack, and the next
wave sent only once the one before is wholly acknowledged. A wave can lose a message in its
middle and still have later ones stored (a stream leader killed mid-burst, a message refused
for its size); those later ones are of other streams, so no stream's events ever reach the bus
out of their order. Acknowledged rows are deleted; the next pass starts again at the first row
that was not (anything after it the server stored anyway comes back as a duplicate, dropped by
its `Nats-Msg-Id`).
"""

import asyncio
import json
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg
from nats.js import JetStreamContext
from nats.js.api import PubAck

from servicekit.log import get_logger
from servicekit.single_writer import Wakeup, run_single_writer

log = get_logger(__name__)


@dataclass(frozen=True)
class OutboxRow:
    position: int
    event_id: UUID
    subject: str
    body: bytes
    headers: dict[str, str]
    # The event stream the row's event belongs to (None for a row without a stored event).
    stream_id: str | None = None

    @property
    def order_key(self) -> str:
        """Rows with the same key must reach the bus in position order."""
        return self.stream_id if self.stream_id is not None else str(self.event_id)


def waves(rows: list[OutboxRow]) -> list[list[OutboxRow]]:
    """`rows` (in position order) cut into waves in which no stream appears twice: the k-th row
    of each stream goes to wave k, each wave in position order."""
    cut: list[list[OutboxRow]] = []
    seen: dict[str, int] = {}
    for row in rows:
        k = seen.get(row.order_key, 0)
        seen[row.order_key] = k + 1
        if k == len(cut):
            cut.append([])
        cut[k].append(row)
    return cut


class PublishGap(Exception):
    """JetStream did not acknowledge `row`, the first row of its wave without an ack; it did
    acknowledge the `acknowledged` rows of the batch (every earlier wave, and those of this
    wave it stored). The cause (raised `from`) says why: a timeout, a lost connection, a
    refusal."""

    def __init__(self, acknowledged: list[OutboxRow], row: OutboxRow) -> None:
        super().__init__(
            f"JetStream acknowledged {len(acknowledged)} rows of the batch, but not outbox row "
            f"{row.position} (event {row.event_id}, {row.subject}); it is resent from there"
        )
        self.acknowledged = acknowledged
        self.row = row


@dataclass
class _Burst:
    """A batch as sent: the future of each row's ack, in order, and why sending stopped early."""

    rows: list[OutboxRow]
    sent: list["asyncio.Future[PubAck]"] = field(default_factory=list)
    refused: Exception | None = None

    def release(self) -> None:
        """Drop the acks never awaited (a cancelled or failed pass), freeing nats-py's slots."""
        for future in self.sent:
            future.cancel()


def notify_channel(schema: str) -> str:
    return f"outbox_{schema}"


class OutboxRelay:
    def __init__(
        self,
        *,
        dsn: str,
        schema: str,
        js: JetStreamContext,
        stream: str,
        batch_size: int = 256,
        ack_timeout_seconds: float = 10.0,
        idle_poll_seconds: float = 5.0,
    ) -> None:
        self._dsn = dsn
        self._schema = schema
        self._js = js
        self._stream = stream
        # Also the bound on publishes in flight: a batch is sent whole, then its acks awaited.
        self._batch_size = batch_size
        self._ack_timeout_seconds = ack_timeout_seconds
        # LISTEN/NOTIFY wakes the relay at once; the slow poll only covers a lost notification
        # (e.g. the listening session reconnected between a commit and its notify).
        self._idle_poll_seconds = idle_poll_seconds
        self.published = 0

    async def run(self) -> None:
        """Hold the relay lease and drain the outbox whenever something is committed to it."""
        await run_single_writer(
            dsn=self._dsn, schema=self._schema, lease="outbox-relay", work=self._relay_while_holding
        )

    async def _relay_while_holding(self, session: asyncpg.Connection) -> None:
        wakeup = await Wakeup.listen(session, notify_channel(self._schema), "outbox relay")
        while True:
            wakeup.clear()
            await self.drain(session)
            await wakeup.wait(self._idle_poll_seconds)

    async def drain(self, conn: asyncpg.Connection) -> int:
        """Publish and delete, batch after batch, until the outbox is empty; returns how many
        rows it relayed. If JetStream does not acknowledge a row, every row it acknowledged is
        deleted and PublishGap is raised: the next drain starts again at that row.

        While a batch's first wave waits for its acks, one statement deletes the batch before
        and reads the next: the database's round trip overlaps the bus's, one statement a
        batch."""
        relayed = 0
        acknowledged_before: list[OutboxRow] = []  # the batch before, not yet deleted
        rows = await self.pending(conn)
        while rows:
            following: list[OutboxRow] | None = None
            acknowledged: list[OutboxRow] = []
            try:
                for wave in waves(rows):
                    burst = await self._send(wave)
                    try:
                        if following is None:
                            following = await self.next_batch(
                                conn, sending=rows, forgetting=acknowledged_before
                            )
                            acknowledged_before = []
                        await self._settle(burst, acknowledged)
                    finally:
                        burst.release()
            except PublishGap:
                await self.forget(conn, [*acknowledged_before, *acknowledged])
                raise
            relayed += len(rows)
            acknowledged_before, rows = rows, following or []
        await self.forget(conn, acknowledged_before)
        return relayed

    async def pending(self, conn: asyncpg.Connection) -> list[OutboxRow]:
        """The first batch, in position order."""
        return await self.next_batch(conn, sending=[], forgetting=[])

    async def next_batch(
        self, conn: asyncpg.Connection, *, sending: list[OutboxRow], forgetting: list[OutboxRow]
    ) -> list[OutboxRow]:
        """Delete `forgetting` (acknowledged) and read the first rows in position order that
        are neither those nor `sending` (out on the bus now), each with its event's stream, in
        one statement (the read sees the rows as they were before the delete).

        Not "the rows after the last one sent": positions are allocated at insert, and two
        transactions appending in turn interleave them, so one committed while a batch was out
        can hold rows on both sides of the batch's last. Its later rows would go out in the
        next batch and its earlier ones a drain later, after them: a stream out of order (the
        scale suite saw a referral's ReferralAdmitted ahead of its ReferralReceived)."""
        records = await conn.fetch(
            "WITH forgotten AS (DELETE FROM outbox WHERE position = ANY($2::bigint[])) "
            "SELECT o.position, o.event_id, o.subject, o.body, o.headers, e.stream_id "
            "FROM outbox o LEFT JOIN events e ON e.event_id = o.event_id "
            "WHERE o.position <> ALL($3::bigint[]) ORDER BY o.position LIMIT $1",
            self._batch_size,
            [r.position for r in forgetting],
            [r.position for r in [*forgetting, *sending]],
        )
        return [
            OutboxRow(
                r["position"],
                r["event_id"],
                r["subject"],
                r["body"],
                json.loads(r["headers"]),
                r["stream_id"],
            )
            for r in records
        ]

    async def publish(self, rows: list[OutboxRow]) -> None:
        """Publish `rows` wave after wave, each wave all in flight at once. Raises PublishGap
        at the first row of a wave without an ack."""
        acknowledged: list[OutboxRow] = []
        for wave in waves(rows):
            burst = await self._send(wave)
            try:
                await self._settle(burst, acknowledged)
            finally:
                burst.release()

    async def _send(self, rows: list[OutboxRow]) -> _Burst:
        burst = _Burst(rows)
        # One burst that never yields to the event loop (hence no `wait_stall`, whose timer
        # would; a batch stays far below nats-py's 4,000 async publishes in flight): the rows
        # leave in one contiguous run of bytes. The wave before was wholly acknowledged, or
        # this one is not sent.
        for row in rows:
            try:
                burst.sent.append(
                    await self._js.publish_async(
                        row.subject, row.body, stream=self._stream, headers=dict(row.headers)
                    )
                )
            except Exception as error:
                # Nothing after a row that could not even be sent is sent.
                burst.refused = error
                break
        return burst

    async def _settle(self, burst: _Burst, acknowledged: list[OutboxRow]) -> None:
        """Await the burst's acks and add the rows acknowledged to `acknowledged`; raise
        PublishGap at the first row without one, or at the row that could not be sent. Rows of
        the wave acknowledged after a missing one are of other streams: kept as sent."""
        rows, sent = burst.rows, burst.sent
        if sent:
            await asyncio.wait(sent, timeout=self._ack_timeout_seconds)
        missing: OutboxRow | None = None
        cause: BaseException | None = None
        for row, future in zip(rows, sent, strict=False):
            if not future.done() or future.cancelled():
                error: BaseException | None = TimeoutError(
                    f"no ack from JetStream within {self._ack_timeout_seconds} s"
                )
            else:
                error = future.exception()
            if error is not None:
                if missing is None:
                    missing, cause = row, error
                continue
            acknowledged.append(row)
            self.published += 1
            if future.result().duplicate:
                log.info("duplicate suppressed by JetStream", event_id=str(row.event_id))
        if missing is None and burst.refused is not None:
            missing, cause = rows[len(sent)], burst.refused
        if missing is not None:
            raise PublishGap(acknowledged, missing) from cause

    async def forget(self, conn: asyncpg.Connection, rows: list[OutboxRow]) -> None:
        if rows:
            await conn.execute(
                "DELETE FROM outbox WHERE position = ANY($1::bigint[])", [r.position for r in rows]
            )
