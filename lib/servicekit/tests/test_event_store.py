"""The Postgres event store: ordered streams, optimistic concurrency, and one outbox row per
event written in the same transaction as the event."""

import asyncio
import json
from typing import Any

import asyncpg
import pytest

from offramp_contracts import EventEnvelope
from servicekit.eventstore import ConcurrencyError, EventAlreadyStored, EventStore

STREAM = "case-0001"
OTHER = "case-0002"


async def _append(
    pool: asyncpg.Pool, store: EventStore, stream: str, expected: int, batch: list[EventEnvelope]
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await store.append(conn, stream, expected, batch)


async def _counts(pool: asyncpg.Pool) -> tuple[int, int]:
    events = await pool.fetchval("SELECT count(*) FROM events")
    outbox = await pool.fetchval("SELECT count(*) FROM outbox")
    return int(events), int(outbox)


async def test_appended_events_read_back_in_order_and_unchanged(
    pool: asyncpg.Pool, store: EventStore, events: Any
) -> None:
    first = [events.engaged(STREAM, 1), events.engaged(STREAM, 2)]
    second = [events.engaged(STREAM, 3)]
    await _append(pool, store, STREAM, 0, first)
    await _append(pool, store, STREAM, 2, second)

    async with pool.acquire() as conn:
        assert await store.read_stream(conn, STREAM) == first + second
        assert await store.stream_version(conn, STREAM) == 3
        assert await store.stream_version(conn, OTHER) == 0
        assert await store.read_stream(conn, OTHER) == []
        assert await store.contains(conn, second[0].event_id)
        assert not await store.contains(conn, events.engaged(OTHER, 1).event_id)


async def test_appending_at_a_stale_version_names_the_stream_and_stores_nothing(
    pool: asyncpg.Pool, store: EventStore, events: Any
) -> None:
    stored = [events.engaged(STREAM, 1), events.engaged(STREAM, 2)]
    await _append(pool, store, STREAM, 0, stored)

    stale = [events.engaged(STREAM, 2), events.engaged(STREAM, 3)]
    with pytest.raises(ConcurrencyError) as raised:
        await _append(pool, store, STREAM, 1, stale)

    assert raised.value.stream_id == STREAM
    assert raised.value.expected_version == 1
    assert repr(STREAM) in str(raised.value) and "version 1" in str(raised.value)
    assert await _counts(pool) == (2, 2)
    async with pool.acquire() as conn:
        assert await store.read_stream(conn, STREAM) == stored


async def test_appending_ahead_of_the_stream_is_refused_so_no_version_is_skipped(
    pool: asyncpg.Pool, store: EventStore, events: Any
) -> None:
    await _append(pool, store, STREAM, 0, [events.engaged(STREAM, 1)])

    with pytest.raises(ConcurrencyError):
        await _append(pool, store, STREAM, 2, [events.engaged(STREAM, 3)])

    assert await _counts(pool) == (1, 1)


async def test_appending_an_event_id_that_is_already_stored_is_refused_as_a_retry(
    pool: asyncpg.Pool, store: EventStore, events: Any
) -> None:
    original = events.engaged(STREAM, 1)
    await _append(pool, store, STREAM, 0, [original])

    # The same id at the stream's next version: a retried step that re-read the stream.
    again = events.engaged(STREAM, 2, event_id=original.event_id)
    with pytest.raises(EventAlreadyStored):
        await _append(pool, store, STREAM, 1, [again])

    # The same id in another stream.
    elsewhere = events.engaged(OTHER, 1, event_id=original.event_id)
    with pytest.raises(EventAlreadyStored):
        await _append(pool, store, OTHER, 0, [elsewhere])

    assert await _counts(pool) == (1, 1)


async def test_an_exact_retry_of_a_done_append_is_refused_as_already_stored(
    pool: asyncpg.Pool, store: EventStore, events: Any
) -> None:
    event = events.engaged(STREAM, 1)
    await _append(pool, store, STREAM, 0, [event])

    with pytest.raises(EventAlreadyStored):
        await _append(pool, store, STREAM, 0, [event])
    assert await _counts(pool) == (1, 1)


async def test_append_outside_a_transaction_is_refused(
    pool: asyncpg.Pool, store: EventStore, events: Any
) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="inside the caller's transaction"):
            await store.append(conn, STREAM, 0, [events.engaged(STREAM, 1)])
    assert await _counts(pool) == (0, 0)


async def test_events_numbered_for_another_position_are_refused(
    pool: asyncpg.Pool, store: EventStore, events: Any
) -> None:
    with pytest.raises(ValueError, match="expected"):
        await _append(pool, store, STREAM, 0, [events.engaged(STREAM, 2)])
    with pytest.raises(ValueError, match="expected"):
        await _append(pool, store, STREAM, 0, [events.engaged(OTHER, 1)])
    assert await _counts(pool) == (0, 0)


async def test_each_event_gets_one_outbox_row_addressed_by_subject_with_its_id_as_msg_id(
    pool: asyncpg.Pool, store: EventStore, events: Any
) -> None:
    batch = [events.engaged(STREAM, 1), events.engaged(STREAM, 2)]
    await _append(pool, store, STREAM, 0, batch)

    rows = await pool.fetch("SELECT event_id, subject, body, headers FROM outbox ORDER BY position")
    assert [r["event_id"] for r in rows] == [e.event_id for e in batch]
    for row, event in zip(rows, batch, strict=True):
        assert row["subject"] == f"{events.subject_root}.pontiac.casework.ClientEngaged"
        assert json.loads(row["headers"]) == {"Nats-Msg-Id": str(event.event_id)}
        assert EventEnvelope.from_wire(row["body"]) == event


async def test_a_rolled_back_transaction_leaves_neither_events_nor_outbox_rows(
    pool: asyncpg.Pool, store: EventStore, events: Any
) -> None:
    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with pool.acquire() as conn, conn.transaction():
            await store.append(conn, STREAM, 0, [events.engaged(STREAM, 1)])
            assert await conn.fetchval("SELECT count(*) FROM outbox") == 1
            raise Abandoned

    assert await _counts(pool) == (0, 0)


async def test_read_all_interleaves_streams_in_position_order_and_pages(
    pool: asyncpg.Pool, store: EventStore, events: Any
) -> None:
    appended = [
        events.engaged(STREAM, 1),
        events.engaged(OTHER, 1),
        events.engaged(STREAM, 2),
        events.engaged(OTHER, 2),
        events.engaged(STREAM, 3),
    ]
    versions = {STREAM: 0, OTHER: 0}
    for event in appended:
        await _append(pool, store, event.stream_id, versions[event.stream_id], [event])
        versions[event.stream_id] += 1

    async with pool.acquire() as conn:
        everything = await store.read_all(conn)
        assert [s.envelope for s in everything] == appended
        positions = [s.position for s in everything]
        assert positions == sorted(positions) and len(set(positions)) == len(positions)

        pages: list[EventEnvelope] = []
        after = 0
        while page := await store.read_all(conn, after_position=after, limit=2):
            assert len(page) <= 2
            pages.extend(s.envelope for s in page)
            after = page[-1].position
        assert pages == appended
        assert await store.read_all(conn, after_position=positions[-1]) == []


async def test_of_two_concurrent_appenders_at_the_same_version_exactly_one_wins(
    pool: asyncpg.Pool, store: EventStore, events: Any
) -> None:
    await _append(pool, store, STREAM, 0, [events.engaged(STREAM, 1)])
    both_read = asyncio.Barrier(2)
    candidates = [events.engaged(STREAM, 2), events.engaged(STREAM, 2)]

    async def writer(candidate: EventEnvelope) -> None:
        async with pool.acquire() as conn, conn.transaction():
            version = await store.stream_version(conn, STREAM)
            # Both have read version 1 before either appends.
            await both_read.wait()
            await store.append(conn, STREAM, version, [candidate])

    results = await asyncio.gather(*(writer(c) for c in candidates), return_exceptions=True)

    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1, results
    assert isinstance(failures[0], ConcurrencyError)
    assert failures[0].expected_version == 1
    winner = candidates[results.index(None)]
    async with pool.acquire() as conn:
        stored = await store.read_stream(conn, STREAM)
    assert [e.event_id for e in stored[1:]] == [winner.event_id]
    assert await _counts(pool) == (2, 2)
