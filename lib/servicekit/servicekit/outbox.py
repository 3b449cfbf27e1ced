"""The outbox relay: publishes what a service committed to its outbox, then forgets it.

At least once, never lost: a row is deleted only after JetStream acknowledged it. A relay that
dies between the ack and the delete republishes the row later with the same `Nats-Msg-Id`, which
JetStream drops within its duplicate window; the consumers' inboxes absorb anything older.

Pipelined, in order (ADR 0003): a batch is written to the connection in one burst, in position
order, without waiting for each ack; the acks are then awaited in that order. JetStream stores
one connection's publishes in the order they arrive, so the rows acknowledged are a prefix of
the batch; they are deleted, and the next pass starts again from the first row that was not
(its successors, if the server stored them anyway, come back as duplicates and are dropped).
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


class PublishGap(Exception):
    """JetStream did not acknowledge `row`; the `acknowledged` rows before it in the batch it
    did. The cause (raised `from`) says why: a timeout, a lost connection, a refusal."""

    def __init__(self, acknowledged: int, row: OutboxRow) -> None:
        super().__init__(
            f"JetStream acknowledged {acknowledged} rows of the batch, then not outbox row "
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
        rows it relayed. If JetStream does not acknowledge a row, every row before it is
        deleted and PublishGap is raised: the next drain starts again at that row.

        While a batch waits for its acks, one statement deletes the batch before it and reads
        the next: the database's round trip overlaps the bus's, one statement a batch."""
        relayed = 0
        acknowledged_before: list[OutboxRow] = []  # the batch before, not yet deleted
        rows = await self.pending(conn)
        while rows:
            burst = await self._send(rows)
            try:
                following = await self._read(
                    conn, after=rows[-1].position, forgetting=acknowledged_before
                )
                acknowledged_before = []
                await self._settle(burst)
            except PublishGap as gap:
                await self.forget(conn, rows[: gap.acknowledged])
                raise
            finally:
                burst.release()
            relayed += len(rows)
            acknowledged_before, rows = rows, following
        await self.forget(conn, acknowledged_before)
        return relayed

    async def pending(self, conn: asyncpg.Connection) -> list[OutboxRow]:
        """The first batch, in position order."""
        return await self._read(conn, after=0, forgetting=[])

    async def _read(
        self, conn: asyncpg.Connection, *, after: int, forgetting: list[OutboxRow]
    ) -> list[OutboxRow]:
        """Delete `forgetting` and read the batch after position `after`, in one statement (the
        read sees the rows as they were before the delete, hence `after`). A row committed
        late with a lower position (positions are allocated at insert) is read by the next
        drain, which that commit's notification starts."""
        records = await conn.fetch(
            "WITH forgotten AS (DELETE FROM outbox WHERE position = ANY($3::bigint[])) "
            "SELECT position, event_id, subject, body, headers FROM outbox "
            "WHERE position > $2 ORDER BY position LIMIT $1",
            self._batch_size,
            after,
            [r.position for r in forgetting],
        )
        return [
            OutboxRow(
                r["position"], r["event_id"], r["subject"], r["body"], json.loads(r["headers"])
            )
            for r in records
        ]

    async def publish(self, rows: list[OutboxRow]) -> None:
        """Publish `rows` in order, all in flight at once, then await their acks in order.
        Raises PublishGap at the first row without an ack."""
        burst = await self._send(rows)
        try:
            await self._settle(burst)
        finally:
            burst.release()

    async def _send(self, rows: list[OutboxRow]) -> _Burst:
        burst = _Burst(rows)
        # One burst that never yields to the event loop (hence no `wait_stall`, whose timer
        # would; a batch stays far below nats-py's 4,000 async publishes in flight): the rows
        # leave in one contiguous run of bytes, so a connection that dies under them loses a
        # tail of the run, never a middle. What reaches the server is a prefix of the batch,
        # stored in this order. The batch before was wholly acknowledged, or this one is not
        # sent.
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

    async def _settle(self, burst: _Burst) -> None:
        """Await the burst's acks (together, then read in order); raise PublishGap at the
        first row without one, or at the row that could not be sent."""
        rows, sent = burst.rows, burst.sent
        if sent:
            await asyncio.wait(sent, timeout=self._ack_timeout_seconds)
        acknowledged = 0
        missing: BaseException | None = None
        for row, future in zip(rows, sent, strict=False):
            if not future.done() or future.cancelled():
                missing = missing or TimeoutError(
                    f"no ack from JetStream within {self._ack_timeout_seconds} s"
                )
                continue
            if (error := future.exception()) is not None:
                missing = missing or error
                continue
            ack = future.result()
            if missing is None:
                acknowledged += 1
                if ack.duplicate:
                    log.info("duplicate suppressed by JetStream", event_id=str(row.event_id))
            elif not ack.duplicate:
                # Stored behind a row the server refused on its own (too large, say): the
                # resend will put that row after this one. A lost connection does not do this
                # (see `_send`); ADR 0003.
                log.warning(
                    "outbox row stored ahead of an earlier unacknowledged one",
                    event_id=str(row.event_id),
                    position=row.position,
                    unacknowledged=str(rows[acknowledged].event_id),
                )
        self.published += acknowledged
        cause = missing or burst.refused
        if cause is not None:
            raise PublishGap(acknowledged, rows[acknowledged]) from cause

    async def forget(self, conn: asyncpg.Connection, rows: list[OutboxRow]) -> None:
        if rows:
            await conn.execute(
                "DELETE FROM outbox WHERE position = ANY($1::bigint[])", [r.position for r in rows]
            )
