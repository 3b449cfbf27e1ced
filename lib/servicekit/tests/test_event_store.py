"""The Postgres event store beyond the port's contract (which `test_stream_store_contract.py`
runs against it and the memory store): the outbox rows' headers and body, `read_all`, and two
transactions that both read the stream before either appends."""

import asyncio
import json
from typing import Any

import asyncpg

from offramp_contracts import EventEnvelope
from servicekit.eventstore import ConcurrencyError, EventStore

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
