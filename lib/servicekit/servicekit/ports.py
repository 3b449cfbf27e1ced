"""The ports the use cases depend on, as Protocols (issue 19, item 4).

`StreamStore` is what a use case needs from the event store: read a stream, append to it at
the version it decided on (the outbox rows going with the events), and tell whether an event is
already stored (a retried step recreating an event with its derived id). Two implementations
keep the same contract (`lib/servicekit/tests/test_stream_store_contract.py` runs one suite
against both): `servicekit.eventstore.EventStore` in PostgreSQL, and
`servicekit.memory.MemoryEventStore` for use-case tests that need no server.

Every method takes the caller's connection; `append` runs only inside its transaction, so the
events, the read-model changes and the outbox rows commit or vanish together.
"""

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

import asyncpg

from offramp_contracts import EventEnvelope


class StreamStore(Protocol):
    async def append(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        expected_version: int,
        events: Sequence[EventEnvelope],
    ) -> None:
        """Stores `events` (numbered `expected_version + 1` onwards, in order) and queues them
        for the bus. Raises `ConcurrencyError` if the stream is not at `expected_version`,
        `EventAlreadyStored` if one of the events is (a retry of a done append), `ValueError`
        if the events are not numbered for this stream and version; stores nothing then."""
        ...

    async def read_stream(self, conn: asyncpg.Connection, stream_id: str) -> list[EventEnvelope]:
        """The stream's events, oldest first; none for a stream never appended to."""
        ...

    async def stream_version(self, conn: asyncpg.Connection, stream_id: str) -> int:
        """The version of the stream's last event; 0 for a stream never appended to."""
        ...

    async def contains(self, conn: asyncpg.Connection, event_id: UUID) -> bool: ...


__all__ = ["StreamStore"]
