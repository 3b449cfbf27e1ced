"""The outbox relay: publishes what a service committed to its outbox, then forgets it.

At least once, never lost: a row is deleted only after JetStream acknowledged it. A relay that
dies between the ack and the delete republishes the row later with the same `Nats-Msg-Id`, which
JetStream drops within its duplicate window; the consumers' inboxes absorb anything older.
"""

import json
from dataclasses import dataclass
from uuid import UUID

import asyncpg
from nats.js import JetStreamContext

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
        idle_poll_seconds: float = 5.0,
    ) -> None:
        self._dsn = dsn
        self._schema = schema
        self._js = js
        self._stream = stream
        self._batch_size = batch_size
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
            while await self.drain_once(session) == self._batch_size:
                pass
            await wakeup.wait(self._idle_poll_seconds)

    async def drain_once(self, conn: asyncpg.Connection) -> int:
        """Publish and delete one batch; returns how many rows it relayed."""
        rows = await self.pending(conn)
        if rows:
            await self.publish(rows)
            await self.forget(conn, rows)
        return len(rows)

    async def pending(self, conn: asyncpg.Connection) -> list[OutboxRow]:
        records = await conn.fetch(
            "SELECT position, event_id, subject, body, headers FROM outbox "
            "ORDER BY position LIMIT $1",
            self._batch_size,
        )
        return [
            OutboxRow(
                r["position"], r["event_id"], r["subject"], r["body"], json.loads(r["headers"])
            )
            for r in records
        ]

    async def publish(self, rows: list[OutboxRow]) -> None:
        # One at a time, in position order: a stream's events must reach the bus in the order
        # they were stored, and a later publish must not overtake an earlier failed one.
        for row in rows:
            ack = await self._js.publish(
                row.subject, row.body, stream=self._stream, headers=row.headers, timeout=10
            )
            if ack.duplicate:
                log.info("duplicate suppressed by JetStream", event_id=str(row.event_id))
        self.published += len(rows)

    async def forget(self, conn: asyncpg.Connection, rows: list[OutboxRow]) -> None:
        await conn.execute(
            "DELETE FROM outbox WHERE position = ANY($1::bigint[])", [r.position for r in rows]
        )
