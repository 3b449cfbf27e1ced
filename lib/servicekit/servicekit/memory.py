"""In-memory stand-ins for the database and the event store: for tests of use cases and for
pure runs of them, never for a service (issue 19, item 4).

`MemoryDatabase` plays the pool: `acquire()` gives a connection whose `transaction()` undoes
every memory table registered with the database when the block raises, as PostgreSQL rolls
back, and runs one transaction at a time (a stand-in for the row and site locks the use cases
take). `MemoryEventStore` keeps the `servicekit.ports.StreamStore` contract that the PostgreSQL
`EventStore` keeps; one suite pins both (`lib/servicekit/tests/test_stream_store_contract.py`).

The connection is typed as asyncpg's so that use cases take it unchanged; it runs no SQL, so a
use case that reaches past its ports to the database fails loudly (AttributeError) here.
"""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol, cast
from uuid import UUID

import asyncpg

from offramp_contracts import EventEnvelope, subject_for
from servicekit.eventstore import ConcurrencyError, EventAlreadyStored, check_appendable
from servicekit.ports import StreamStore


class MemoryTable(Protocol):
    """What a memory table gives its database so a failed transaction can undo it."""

    def snapshot(self) -> object: ...

    def restore(self, snapshot: object) -> None: ...


class MemoryConnection:
    """The part of an asyncpg connection the use cases use: transactions, nothing else."""

    def __init__(self, database: "MemoryDatabase") -> None:
        self._database = database
        self._depth = 0

    def is_in_transaction(self) -> bool:
        return self._depth > 0

    def transaction(self, *, readonly: bool = False) -> AbstractAsyncContextManager[None]:
        return self._transaction()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        outermost = self._depth == 0
        if outermost:
            await self._database.lock.acquire()
        snapshots = [table.snapshot() for table in self._database.tables]
        self._depth += 1
        try:
            yield
        except BaseException:
            for table, snapshot in zip(self._database.tables, snapshots, strict=True):
                table.restore(snapshot)
            raise
        finally:
            self._depth -= 1
            if outermost:
                self._database.lock.release()


class MemoryDatabase:
    """Stands in for an `asyncpg.Pool`; see the module's docstring."""

    def __init__(self) -> None:
        self.tables: list[MemoryTable] = []
        self.lock = asyncio.Lock()

    def register(self, table: MemoryTable) -> None:
        self.tables.append(table)

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[asyncpg.Connection]:
        yield cast(asyncpg.Connection, MemoryConnection(self))

    def acquire(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        return self._acquire()

    @property
    def pool(self) -> asyncpg.Pool:
        """This database, typed as the pool the use cases are given."""
        return cast(asyncpg.Pool, self)


@dataclass(frozen=True)
class Queued:
    """An outbox row: the event and the subject the relay will publish it on."""

    subject: str
    event: EventEnvelope


@dataclass
class _Stored:
    streams: dict[str, tuple[EventEnvelope, ...]] = field(default_factory=dict)
    ids: frozenset[UUID] = frozenset()
    outbox: tuple[Queued, ...] = ()


class MemoryEventStore:
    """The `StreamStore` contract in memory; `outbox` is what the relay would publish."""

    def __init__(self, database: MemoryDatabase, *, subject_root: str = "offramp") -> None:
        self._subject_root = subject_root
        self._stored = _Stored()
        database.register(self)

    def snapshot(self) -> object:
        return _Stored(dict(self._stored.streams), self._stored.ids, self._stored.outbox)

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, _Stored)
        self._stored = snapshot

    @property
    def outbox(self) -> tuple[Queued, ...]:
        return self._stored.outbox

    def events(self) -> list[EventEnvelope]:
        """Every stored event, in the order stored."""
        return [queued.event for queued in self._stored.outbox]

    async def append(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        expected_version: int,
        events: Sequence[EventEnvelope],
    ) -> None:
        check_appendable(conn, stream_id, expected_version, events)
        ids = [event.event_id for event in events]
        stored = self._stored
        if len(set(ids)) < len(ids) or stored.ids.intersection(ids):
            raise EventAlreadyStored(f"an event of {ids} is already stored")
        if len(stored.streams.get(stream_id, ())) != expected_version:
            raise ConcurrencyError(stream_id, expected_version)
        queued = tuple(
            Queued(subject_for(self._subject_root, e.jurisdiction, e.event_type), e) for e in events
        )
        self._stored = _Stored(
            {**stored.streams, stream_id: (*stored.streams.get(stream_id, ()), *events)},
            stored.ids.union(ids),
            (*stored.outbox, *queued),
        )

    async def read_stream(self, conn: asyncpg.Connection, stream_id: str) -> list[EventEnvelope]:
        return list(self._stored.streams.get(stream_id, ()))

    async def stream_version(self, conn: asyncpg.Connection, stream_id: str) -> int:
        return len(self._stored.streams.get(stream_id, ()))

    async def contains(self, conn: asyncpg.Connection, event_id: object) -> bool:
        return event_id in self._stored.ids


__all__ = ["MemoryConnection", "MemoryDatabase", "MemoryEventStore", "MemoryTable", "Queued"]

_KEEPS_THE_PORT: type[StreamStore] = MemoryEventStore  # mypy checks the memory store against it
