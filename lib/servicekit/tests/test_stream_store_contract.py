"""The `StreamStore` port's contract, run against both implementations (as eventsourcing runs
its recorder suites): the PostgreSQL `EventStore` on the session's real server, and the
`MemoryEventStore` that use-case tests run on. What one does, the other must do, or a use case
that passes in memory would fail in a service.

Pinned: ordered streams read back unchanged (causation and correlation included), optimistic
concurrency (a stale or ahead version, two writers at once), an event id stored once (the
idempotent replay of a derived id), one outbox row per event in order, and nothing at all
left behind by a transaction that rolled back.

The PostgreSQL-only parts (outbox headers, `read_all`) are in `test_event_store.py`."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
import pytest

from offramp_contracts import EventEnvelope
from offramp_contracts.events.casework import ClientEngaged
from servicekit import command_loop
from servicekit.events import derived_event_id, new_event, system_actor
from servicekit.eventstore import ConcurrencyError, EventAlreadyStored, EventStore
from servicekit.memory import MemoryDatabase, MemoryEventStore
from servicekit.outbox import notify_channel
from servicekit.ports import StreamStore

STREAM = "case-0001"
OTHER = "case-0002"
JURISDICTION = "pontiac"


@dataclass(frozen=True)
class Harness:
    """One implementation of the port, with what the suite needs to look at it."""

    store: StreamStore
    connect: Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]
    queued: Callable[[], Awaitable[list[tuple[UUID, str]]]]
    """The outbox: (event id, subject) in the order the relay publishes them."""
    subject_root: str

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.connect() as conn, conn.transaction():
            yield conn

    async def append(self, stream: str, expected: int, batch: list[EventEnvelope]) -> None:
        async with self.transaction() as conn:
            await self.store.append(conn, stream, expected, batch)

    async def stream(self, stream: str) -> list[EventEnvelope]:
        async with self.connect() as conn:
            return await self.store.read_stream(conn, stream)

    async def version(self, stream: str) -> int:
        async with self.connect() as conn:
            return await self.store.stream_version(conn, stream)

    async def contains(self, event_id: UUID) -> bool:
        async with self.connect() as conn:
            return await self.store.contains(conn, event_id)


def _memory() -> Harness:
    database = MemoryDatabase()
    store = MemoryEventStore(database, subject_root="tmemory")

    async def queued() -> list[tuple[UUID, str]]:
        return [(q.event.event_id, q.subject) for q in store.outbox]

    return Harness(store, database.acquire, queued, "tmemory")


def _postgres(request: pytest.FixtureRequest) -> Harness:
    pool: asyncpg.Pool = request.getfixturevalue("pool")
    root: str = request.getfixturevalue("settings").subject_root
    store = EventStore(subject_root=root, notify_channel=notify_channel("kit"))

    async def queued() -> list[tuple[UUID, str]]:
        rows = await pool.fetch("SELECT event_id, subject FROM outbox ORDER BY position")
        return [(row["event_id"], row["subject"]) for row in rows]

    return Harness(store, pool.acquire, queued, root)


@pytest.fixture(params=["memory", "postgres"])
def harness(request: pytest.FixtureRequest) -> Harness:
    return _memory() if request.param == "memory" else _postgres(request)


def engaged(
    stream: str, version: int, *, event_id: UUID | None = None, causation_id: UUID | None = None
) -> EventEnvelope:
    return new_event(
        ClientEngaged(case_id=uuid4(), contact_id=uuid4()),
        stream_id=stream,
        stream_version=version,
        jurisdiction=JURISDICTION,
        actor=system_actor("contract-tests"),
        correlation_id=uuid4(),
        causation_id=causation_id,
        event_id=event_id,
    )


async def _stored_ids(harness: Harness) -> list[UUID]:
    return [event_id for event_id, _ in await harness.queued()]


async def test_appended_events_read_back_in_order_and_unchanged(harness: Harness) -> None:
    first = [engaged(STREAM, 1), engaged(STREAM, 2, causation_id=uuid4())]
    second = [engaged(STREAM, 3)]
    await harness.append(STREAM, 0, first)
    await harness.append(STREAM, 2, second)

    assert await harness.stream(STREAM) == first + second
    assert await harness.version(STREAM) == 3
    assert await harness.version(OTHER) == 0
    assert await harness.stream(OTHER) == []
    assert await harness.contains(second[0].event_id)
    assert not await harness.contains(uuid4())


async def test_streams_are_numbered_apart(harness: Harness) -> None:
    await harness.append(STREAM, 0, [engaged(STREAM, 1), engaged(STREAM, 2)])
    await harness.append(OTHER, 0, [engaged(OTHER, 1)])
    await harness.append(STREAM, 2, [engaged(STREAM, 3)])

    assert [e.stream_version for e in await harness.stream(STREAM)] == [1, 2, 3]
    assert [e.stream_version for e in await harness.stream(OTHER)] == [1]


async def test_appending_at_a_stale_version_names_the_stream_and_stores_nothing(
    harness: Harness,
) -> None:
    stored = [engaged(STREAM, 1), engaged(STREAM, 2)]
    await harness.append(STREAM, 0, stored)

    stale = [engaged(STREAM, 2), engaged(STREAM, 3)]
    with pytest.raises(ConcurrencyError) as raised:
        await harness.append(STREAM, 1, stale)

    assert (raised.value.stream_id, raised.value.expected_version) == (STREAM, 1)
    assert repr(STREAM) in str(raised.value) and "version 1" in str(raised.value)
    assert await harness.stream(STREAM) == stored
    assert await _stored_ids(harness) == [e.event_id for e in stored]


async def test_appending_ahead_of_the_stream_is_refused_so_no_version_is_skipped(
    harness: Harness,
) -> None:
    await harness.append(STREAM, 0, [engaged(STREAM, 1)])
    with pytest.raises(ConcurrencyError):
        await harness.append(STREAM, 2, [engaged(STREAM, 3)])
    assert await harness.version(STREAM) == 1
    assert len(await harness.queued()) == 1


async def test_a_retried_append_of_derived_ids_is_refused_as_already_stored(
    harness: Harness,
) -> None:
    """A retried step recreates its events with the ids derived from its key: the store tells
    it the work is done (EventAlreadyStored), not that someone else wrote (ConcurrencyError)."""
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    ids = [derived_event_id(f"timer:{n}", at) for n in (1, 2)]
    first = [engaged(STREAM, 1, event_id=ids[0]), engaged(STREAM, 2, event_id=ids[1])]
    await harness.append(STREAM, 0, first)

    # The exact retry, at the version it was first appended at.
    with pytest.raises(EventAlreadyStored):
        await harness.append(STREAM, 0, [engaged(STREAM, 1, event_id=ids[0])])
    # A retry that re-read the stream: the same id at the next version.
    with pytest.raises(EventAlreadyStored):
        await harness.append(STREAM, 2, [engaged(STREAM, 3, event_id=ids[1])])
    # The same id in another stream.
    with pytest.raises(EventAlreadyStored):
        await harness.append(OTHER, 0, [engaged(OTHER, 1, event_id=ids[0])])

    assert await harness.stream(STREAM) == first
    assert await harness.stream(OTHER) == []
    assert await _stored_ids(harness) == ids, "each event is queued for the bus once"
    assert all([await harness.contains(event_id) for event_id in ids])


async def test_append_outside_a_transaction_is_refused(harness: Harness) -> None:
    async with harness.connect() as conn:
        with pytest.raises(RuntimeError, match="inside the caller's transaction"):
            await harness.store.append(conn, STREAM, 0, [engaged(STREAM, 1)])
    assert await harness.queued() == []


async def test_events_numbered_for_another_position_are_refused(harness: Harness) -> None:
    with pytest.raises(ValueError, match="expected"):
        await harness.append(STREAM, 0, [engaged(STREAM, 2)])
    with pytest.raises(ValueError, match="expected"):
        await harness.append(STREAM, 0, [engaged(OTHER, 1)])
    with pytest.raises(ValueError, match="expected"):
        await harness.append(STREAM, 0, [engaged(STREAM, 1), engaged(STREAM, 1)])
    assert await harness.queued() == []


async def test_each_event_is_queued_once_in_order_on_its_subject(harness: Harness) -> None:
    first = [engaged(STREAM, 1), engaged(STREAM, 2)]
    other = [engaged(OTHER, 1)]
    await harness.append(STREAM, 0, first)
    await harness.append(OTHER, 0, other)

    subject = f"{harness.subject_root}.{JURISDICTION}.casework.ClientEngaged"
    assert await harness.queued() == [(e.event_id, subject) for e in first + other]


async def test_a_rolled_back_transaction_leaves_nothing_behind(harness: Harness) -> None:
    class Abandoned(Exception):
        pass

    kept = engaged(OTHER, 1)
    await harness.append(OTHER, 0, [kept])
    dropped = engaged(STREAM, 1)
    with pytest.raises(Abandoned):
        async with harness.transaction() as conn:
            await harness.store.append(conn, STREAM, 0, [dropped])
            assert await harness.store.read_stream(conn, STREAM) == [dropped]
            raise Abandoned

    assert await harness.stream(STREAM) == []
    assert await harness.version(STREAM) == 0
    assert not await harness.contains(dropped.event_id)
    assert await _stored_ids(harness) == [kept.event_id]
    # The rolled-back version is free again, and the dropped id may be stored after all.
    await harness.append(STREAM, 0, [dropped])
    assert await harness.stream(STREAM) == [dropped]


async def test_of_two_concurrent_appenders_at_the_same_version_exactly_one_wins(
    harness: Harness,
) -> None:
    await harness.append(STREAM, 0, [engaged(STREAM, 1)])
    candidates = [engaged(STREAM, 2), engaged(STREAM, 2)]

    async def writer(candidate: EventEnvelope) -> None:
        # Each decided on version 1. PostgreSQL lets both transactions run and refuses the
        # second insert at the stream's version; the memory store runs one transaction at a
        # time, so the second finds the stream moved on. Either way one is refused.
        async with harness.transaction() as conn:
            await asyncio.sleep(0)  # let the other writer start (a yield, not a wait)
            await harness.store.append(conn, STREAM, 1, [candidate])

    results = await asyncio.gather(*(writer(c) for c in candidates), return_exceptions=True)

    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1, results
    assert isinstance(failures[0], ConcurrencyError)
    assert failures[0].expected_version == 1
    winner = candidates[results.index(None)]
    assert [e.event_id for e in (await harness.stream(STREAM))[1:]] == [winner.event_id]
    assert len(await harness.queued()) == 2


async def test_the_command_loop_chains_causation_and_the_store_keeps_it(harness: Harness) -> None:
    cause, correlation = uuid4(), uuid4()
    origin = command_loop.Origin(system_actor("contract-tests"), JURISDICTION, correlation, cause)
    payloads = [ClientEngaged(case_id=uuid4(), contact_id=uuid4()) for _ in range(3)]
    async with harness.transaction() as conn:
        chained = await command_loop.append(
            conn, harness.store, STREAM, 0, payloads, origin, causation="chain"
        )
        caused = await command_loop.append(conn, harness.store, OTHER, 0, payloads[:2], origin)

    stored = await harness.stream(STREAM)
    assert stored == chained
    assert [e.causation_id for e in stored] == [cause, stored[0].event_id, stored[1].event_id]
    assert [e.causation_id for e in await harness.stream(OTHER)] == [cause, cause]
    assert {e.correlation_id for e in [*stored, *caused]} == {correlation}
    assert all(e.jurisdiction == JURISDICTION for e in stored)
    async with harness.connect() as conn:
        loaded = await command_loop.load(conn, harness.store, STREAM, lambda n, _: n + 1, 0)
    assert (loaded.state, loaded.version, loaded.events) == (3, 3, tuple(stored))
