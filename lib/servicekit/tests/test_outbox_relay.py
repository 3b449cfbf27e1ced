"""The outbox relay: what a service committed reaches JetStream once, even when the relay dies
between the publish and the delete; one relay at a time; woken by the commit itself."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from nats.js import JetStreamContext

from offramp_contracts import EventEnvelope
from servicekit.database import connect as real_connect
from servicekit.eventstore import EventStore
from servicekit.inbox import ConsumerPolicy, InboxConsumer
from servicekit.lease import Connect, hold_lease
from servicekit.outbox import OutboxRelay
from servicekit.settings import ServiceSettings

SCHEMA = "kit"
QUICK = ConsumerPolicy(
    max_attempts=3, backoff_seconds=(0.2,), ack_wait_seconds=5, fetch_timeout_seconds=0.5
)


def _relay(settings: ServiceSettings, js: JetStreamContext, **options: Any) -> OutboxRelay:
    return OutboxRelay(
        dsn=settings.database_url, schema=SCHEMA, js=js, stream=settings.stream_name, **options
    )


async def _commit(
    pool: asyncpg.Pool, store: EventStore, events: Any, stream: str, count: int
) -> list[EventEnvelope]:
    batch = [events.engaged(stream, version) for version in range(1, count + 1)]
    async with pool.acquire() as conn, conn.transaction():
        await store.append(conn, stream, 0, batch)
    return batch


async def _on_the_stream(js: JetStreamContext, stream: str) -> list[tuple[str, str, bytes]]:
    """(Nats-Msg-Id, subject, body) of every message the stream holds, in order."""
    state = (await js.stream_info(stream)).state
    if state.messages == 0:
        return []
    held = []
    for seq in range(state.first_seq, state.last_seq + 1):
        msg = await js.get_msg(stream, seq)
        held.append(
            ((msg.headers or {}).get("Nats-Msg-Id", ""), msg.subject or "", msg.data or b"")
        )
    return held


async def _outbox_depth(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox"))


async def test_committed_rows_reach_the_stream_with_their_event_id_and_are_then_deleted(
    settings: ServiceSettings,
    pool: asyncpg.Pool,
    store: EventStore,
    js: JetStreamContext,
    events: Any,
) -> None:
    batch = await _commit(pool, store, events, "case-1", 3)
    relay = _relay(settings, js)

    async with pool.acquire() as conn:
        assert await relay.drain(conn) == 3
        assert await relay.drain(conn) == 0

    held = await _on_the_stream(js, settings.stream_name)
    assert held == [(str(e.event_id), events.subject(e), e.wire_json()) for e in batch]
    assert await _outbox_depth(pool) == 0
    assert relay.published == 3


async def test_rows_stay_in_the_outbox_when_jetstream_does_not_acknowledge_them(
    settings: ServiceSettings,
    pool: asyncpg.Pool,
    store: EventStore,
    js: JetStreamContext,
    events: Any,
) -> None:
    await _commit(pool, store, events, "case-1", 2)
    # Publishing with an expected stream that does not exist gets an error, not an ack.
    refused = OutboxRelay(
        dsn=settings.database_url, schema=SCHEMA, js=js, stream=settings.stream_name + "-missing"
    )

    async with pool.acquire() as conn:
        with pytest.raises(Exception):  # noqa: B017 - whichever error nats-py raises for it
            await refused.drain(conn)
    assert await _outbox_depth(pool) == 2

    async with pool.acquire() as conn:
        assert await _relay(settings, js).drain(conn) == 2
    assert await _outbox_depth(pool) == 0
    assert len(await _on_the_stream(js, settings.stream_name)) == 2


async def test_a_relay_that_dies_between_publish_and_delete_causes_no_duplicate_downstream(
    settings: ServiceSettings,
    pool: asyncpg.Pool,
    store: EventStore,
    js: JetStreamContext,
    events: Any,
    effects: Any,
    background: Any,
    wait_for: Any,
) -> None:
    batch = await _commit(pool, store, events, "case-1", 3)

    dying = _relay(settings, js)
    async with pool.acquire() as conn:
        rows = await dying.pending(conn)
        await dying.publish(rows)
        # ...and the process dies here: `forget` never runs, the rows stay.
    assert [r.event_id for r in rows] == [e.event_id for e in batch]
    assert await _outbox_depth(pool) == 3

    successor = _relay(settings, js)
    async with pool.acquire() as conn:
        assert await successor.drain(conn) == 3
    assert await _outbox_depth(pool) == 0

    # JetStream dropped the second copies by Nats-Msg-Id: each event is on the stream once.
    held = await _on_the_stream(js, settings.stream_name)
    assert sorted(msg_id for msg_id, _, _ in held) == sorted(str(e.event_id) for e in batch)

    consumer = InboxConsumer(
        pool=pool,
        js=js,
        stream=settings.stream_name,
        name="crash-downstream",
        subjects=[f"{settings.subject_root}.>"],
        handler=effects.record,
        policy=QUICK,
    )
    background(consumer.run())

    async def caught_up() -> bool:
        if await effects.count() < len(batch):
            return False
        info = await js.consumer_info(settings.stream_name, consumer.name)
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    await wait_for(caught_up, timeout=10, what="the consumer to handle every event")
    for event in batch:
        assert await effects.count(event.event_id) == 1
    assert await effects.count() == 3
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 3


@contextlib.asynccontextmanager
async def _lease(dsn: str, connect: Connect = real_connect) -> AsyncIterator[asyncpg.Connection]:
    async with hold_lease(
        dsn, SCHEMA, "outbox-relay", retry_seconds=0.05, connect=connect
    ) as session:
        yield session


async def _lease_holder(admin: asyncpg.Pool) -> int | None:
    pid = await admin.fetchval(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND objid = hashtext($1)::oid",
        f"{SCHEMA}:outbox-relay",
    )
    return int(pid) if pid is not None else None


async def test_only_one_relay_holds_the_lease_and_the_standby_takes_over_on_release(
    settings: ServiceSettings, pool: asyncpg.Pool, wait_for: Any
) -> None:
    attempts = 0

    async def counting_connect(dsn: str, schema: str) -> asyncpg.Connection:
        nonlocal attempts
        attempts += 1
        return await real_connect(dsn, schema)

    standby_holds = asyncio.Event()
    standby_done = asyncio.Event()
    standby_pid: list[int] = []

    async def standby_tried() -> bool:
        # The active holder connected once; the standby has come back at least four times.
        return attempts >= 5

    async def standby() -> None:
        async with _lease(settings.database_url, counting_connect) as session:
            standby_pid.append(session.get_server_pid())
            standby_holds.set()
            await standby_done.wait()

    async with _lease(settings.database_url, counting_connect) as active:
        task = asyncio.create_task(standby())
        try:
            # The standby has tried, and been refused, several times while the lease is held.
            await wait_for(standby_tried, timeout=5, what="the standby to keep trying")
            assert not standby_holds.is_set()
            assert await _lease_holder(pool) == active.get_server_pid()
        except BaseException:
            task.cancel()
            raise

    try:
        await asyncio.wait_for(standby_holds.wait(), timeout=5)
        assert await _lease_holder(pool) == standby_pid[0]
    finally:
        standby_done.set()
        await task
    assert await _lease_holder(pool) is None


async def test_a_lease_whose_holder_loses_its_session_passes_to_the_standby(
    settings: ServiceSettings, pool: asyncpg.Pool, wait_for: Any
) -> None:
    standby_holds = asyncio.Event()
    standby_done = asyncio.Event()

    async def standby() -> None:
        async with _lease(settings.database_url):
            standby_holds.set()
            await standby_done.wait()

    async with _lease(settings.database_url) as active:
        task = asyncio.create_task(standby())
        try:
            assert await _lease_holder(pool) == active.get_server_pid()
            # The holder's process dies, as far as Postgres can tell.
            await pool.execute("SELECT pg_terminate_backend($1)", active.get_server_pid())
            await asyncio.wait_for(standby_holds.wait(), timeout=5)
            assert await _lease_holder(pool) not in (None, active.get_server_pid())
        finally:
            standby_done.set()
            await task


async def test_a_commit_wakes_a_running_relay_long_before_its_idle_poll(
    settings: ServiceSettings,
    pool: asyncpg.Pool,
    store: EventStore,
    js: JetStreamContext,
    events: Any,
    background: Any,
    wait_for: Any,
) -> None:
    # An idle poll far longer than the wait below: only the notification can explain delivery.
    relay = _relay(settings, js, idle_poll_seconds=60)
    first = await _commit(pool, store, events, "case-1", 1)
    task = background(relay.run())

    async def relayed(count: int) -> bool:
        held = await _on_the_stream(js, settings.stream_name)
        return len(held) >= count

    # The first event is picked up by the relay's first drain; it is then idle, listening.
    await wait_for(lambda: relayed(1), timeout=10, what="the relay to start and drain")

    second = await _commit(pool, store, events, "case-2", 1)
    await wait_for(lambda: relayed(2), timeout=2, what="the notified relay to publish")

    held = await _on_the_stream(js, settings.stream_name)
    assert [msg_id for msg_id, _, _ in held] == [str(first[0].event_id), str(second[0].event_id)]
    await wait_for(
        lambda: _outbox_empty(pool), timeout=2, what="the relay to delete what it published"
    )

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def _outbox_empty(pool: asyncpg.Pool) -> bool:
    return await _outbox_depth(pool) == 0


async def test_a_transaction_committed_while_a_batch_is_out_reaches_the_next_batch_whole(
    settings: ServiceSettings,
    pool: asyncpg.Pool,
    store: EventStore,
    js: JetStreamContext,
    events: Any,
) -> None:
    """Two transactions append in turn, as two referrals submitted together do (each appends
    its events in two statements), so their outbox positions interleave. The one committed
    second, after the relay read the first into its batch, has rows before and after that
    batch's last row: the next batch must hold all of them, or its stream's later event goes
    out a batch ahead of its earlier ones."""
    early = [events.engaged("case-early", version) for version in (1, 2)]
    late = [events.engaged("case-late", version) for version in (1, 2)]
    relay = _relay(settings, js)
    async with pool.acquire() as a, pool.acquire() as b, pool.acquire() as conn:
        committed_late = a.transaction()
        await committed_late.start()
        async with b.transaction():
            await store.append(a, "case-late", 0, late[:1])
            await store.append(b, "case-early", 0, early[:1])
            await store.append(b, "case-early", 1, early[1:])
            await store.append(a, "case-late", 1, late[1:])
        out = await relay.pending(conn)
        await committed_late.commit()
        following = await relay.next_batch(conn, sending=out, forgetting=[])
    assert [r.event_id for r in out] == [e.event_id for e in early]
    assert [r.event_id for r in following] == [e.event_id for e in late]
