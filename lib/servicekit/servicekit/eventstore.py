"""The Postgres event store: append-only streams with optimistic concurrency, written in the
same transaction as the read models and the outbox."""

import json
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from offramp_contracts import EventEnvelope, subject_for
from servicekit.provenance import EventSigner
from servicekit.tracing import trace_headers


def check_appendable(
    conn: asyncpg.Connection, stream_id: str, expected_version: int, events: Sequence[EventEnvelope]
) -> None:
    """What every store checks before appending: the caller's transaction is open, and the
    events are numbered on from `expected_version` in `stream_id`."""
    if not conn.is_in_transaction():
        raise RuntimeError("EventStore.append must run inside the caller's transaction")
    for offset, event in enumerate(events, start=1):
        if event.stream_id != stream_id or event.stream_version != expected_version + offset:
            raise ValueError(
                f"event {event.event_type} is for {event.stream_id}@{event.stream_version}, "
                f"expected {stream_id}@{expected_version + offset}"
            )


class ConcurrencyError(RuntimeError):
    """Someone else appended to the stream since it was read."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is no longer at version {expected_version}: another change "
            "was stored first; read the stream again and retry the command"
        )
        self.stream_id = stream_id
        self.expected_version = expected_version


class EventAlreadyStored(RuntimeError):
    """An event with this id is already in the store: the append was a retry of a done one."""


@dataclass(frozen=True)
class StoredEvent:
    position: int
    envelope: EventEnvelope


class EventStore:
    """Appends go through `append` only, inside the caller's transaction, so that the events,
    the read-model changes and the outbox rows commit or vanish together."""

    def __init__(
        self, *, subject_root: str, notify_channel: str, signer: EventSigner | None = None
    ) -> None:
        self._subject_root = subject_root
        self._notify_channel = notify_channel
        # Every service's store signs (ServiceRuntime gives it the service's key); only the
        # plumbing's own tests append unsigned events, which every real consumer parks.
        self._signer = signer

    def _headers(self, event: EventEnvelope) -> str:
        # The request's or handler's trace goes with the event (W3C traceparent).
        headers = {"Nats-Msg-Id": str(event.event_id), **trace_headers()}
        if self._signer is not None:
            headers.update(self._signer.headers(event))
        return json.dumps(headers)

    async def append(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        expected_version: int,
        events: Sequence[EventEnvelope],
    ) -> None:
        check_appendable(conn, stream_id, expected_version, events)
        # An exact retry collides on (stream, version) as well as on the event id, and Postgres
        # reports the primary key first: look for the ids so a retry is not called a conflict.
        # The same round trip reads the stream's version: the primary key refuses a version
        # already taken, and this refuses one ahead of the stream (a hole in its history).
        stored, version = await conn.fetchrow(
            """SELECT (SELECT event_id FROM events WHERE event_id = ANY($1::uuid[]) LIMIT 1),
                      (SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $2)""",
            [e.event_id for e in events],
            stream_id,
        )
        if stored is not None:
            raise EventAlreadyStored(f"event {stored} is already stored")
        if version != expected_version:
            raise ConcurrencyError(stream_id, expected_version)
        await self._insert(conn, stream_id, expected_version, events)

    async def append_new_stream(self, conn: asyncpg.Connection, event: EventEnvelope) -> None:
        """The one event of a stream that nobody else can name (an access event's stream is
        named after the event's own fresh id), in one statement: outside a transaction it is
        its own, committed when this returns. There is no retry to recognise or version to
        read first; the primary key and the unique event id still refuse a second one."""
        if event.stream_version != 1:
            raise ValueError(
                f"event {event.event_type} is at {event.stream_id}@{event.stream_version}; a new "
                "stream starts at version 1"
            )
        await self._insert(conn, event.stream_id, 0, [event])

    async def _insert(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        expected_version: int,
        events: Sequence[EventEnvelope],
    ) -> None:
        # One statement stores the events and their outbox rows (in the events' order) and
        # wakes the relay; the notification is delivered at commit, and only if it commits.
        wires = [e.wire_json() for e in events]
        try:
            await conn.execute(
                """WITH stored AS (
                       INSERT INTO events (event_id, stream_id, stream_version, event_type,
                                           schema_version, envelope)
                       SELECT id, $2, version, type, schema, envelope
                       FROM unnest($1::uuid[], $3::int[], $4::text[], $5::int[], $6::jsonb[])
                            WITH ORDINALITY AS e(id, version, type, schema, envelope, n)
                       ORDER BY n
                   ), queued AS (
                       INSERT INTO outbox (event_id, subject, body, headers)
                       SELECT id, subject, body, headers
                       FROM unnest($1::uuid[], $7::text[], $8::bytea[], $9::jsonb[])
                            WITH ORDINALITY AS o(id, subject, body, headers, n)
                       ORDER BY n
                   )
                   SELECT pg_notify($10, '')""",
                [e.event_id for e in events],
                stream_id,
                [e.stream_version for e in events],
                [e.event_type for e in events],
                [e.schema_version for e in events],
                [wire.decode() for wire in wires],
                [subject_for(self._subject_root, e.jurisdiction, e.event_type) for e in events],
                wires,
                [self._headers(e) for e in events],
                self._notify_channel,
            )
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name in ("events_event_id_key", "outbox_event_id_key"):
                raise EventAlreadyStored(str(error)) from error
            raise ConcurrencyError(stream_id, expected_version) from error

    async def stream_version(self, conn: asyncpg.Connection, stream_id: str) -> int:
        version = await conn.fetchval(
            "SELECT max(stream_version) FROM events WHERE stream_id = $1", stream_id
        )
        return int(version or 0)

    async def read_stream(self, conn: asyncpg.Connection, stream_id: str) -> list[EventEnvelope]:
        rows = await conn.fetch(
            "SELECT envelope FROM events WHERE stream_id = $1 ORDER BY stream_version", stream_id
        )
        return [EventEnvelope.model_validate_json(row["envelope"]) for row in rows]

    async def read_all(
        self, conn: asyncpg.Connection, *, after_position: int = 0, limit: int = 1000
    ) -> list[StoredEvent]:
        """Every stream interleaved in insertion order. Positions can have gaps (rolled-back
        inserts) and are allocated at insert time, so use this on a quiescent store or
        accept that a concurrently committing event may appear behind a later one."""
        rows = await conn.fetch(
            """SELECT position, envelope FROM events WHERE position > $1
               ORDER BY position LIMIT $2""",
            after_position,
            limit,
        )
        return [
            StoredEvent(row["position"], EventEnvelope.model_validate_json(row["envelope"]))
            for row in rows
        ]

    async def contains(self, conn: asyncpg.Connection, event_id: object) -> bool:
        return bool(await conn.fetchval("SELECT 1 FROM events WHERE event_id = $1", event_id))
