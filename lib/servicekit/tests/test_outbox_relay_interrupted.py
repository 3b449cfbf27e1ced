"""The pipelined relay interrupted in the middle of a batch, by the real server and a real
network cut: what JetStream ends up holding is every committed event once, each event stream
in its order, and the outbox empties once the bus is back. That holds too when the server
loses or refuses one message in the middle of a burst and stores the ones after it (a stream
leader killed under the burst, a message too large): a burst never holds two events of one
stream.

A wave of a batch goes out in one burst before any of its acks are awaited, so these
interruptions land on rows that were already sent: the relay must keep the acknowledged rows
deleted, resend everything else, and let `Nats-Msg-Id` drop what the server had stored but
could not acknowledge."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import nats
import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy

from offramp_contracts import EventEnvelope
from servicekit.eventstore import EventStore
from servicekit.outbox import OutboxRelay, PublishGap
from servicekit.settings import ServiceSettings

SCHEMA = "kit"
BATCH = 16
COMMITTED = 40  # two whole batches and a part of a third


async def _commit(pool: asyncpg.Pool, store: EventStore, events: Any) -> list[EventEnvelope]:
    """COMMITTED events, each the first of its own case, in one transaction: their outbox
    positions follow commit order, and a whole batch goes out in one burst."""
    batch = [events.engaged(f"case-{n}", 1) for n in range(1, COMMITTED + 1)]
    async with pool.acquire() as conn, conn.transaction():
        for event in batch:
            await store.append(conn, event.stream_id, 0, [event])
    return batch


async def _message_ids(js: JetStreamContext, stream: str) -> list[str]:
    """The Nats-Msg-Id of every message the stream holds, in stream order."""
    state = (await js.stream_info(stream)).state
    ids = []
    for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
        msg = await js.get_msg(stream, seq)
        ids.append((msg.headers or {}).get("Nats-Msg-Id", ""))
    return ids


async def _outbox_ids(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch("SELECT event_id FROM outbox ORDER BY position")
    return [str(r["event_id"]) for r in rows]


def _relay(settings: ServiceSettings, js: JetStreamContext) -> OutboxRelay:
    return OutboxRelay(
        dsn=settings.database_url,
        schema=SCHEMA,
        js=js,
        stream=settings.stream_name,
        batch_size=BATCH,
        ack_timeout_seconds=2,
    )


async def test_a_stream_that_fills_up_mid_batch_keeps_the_order_and_takes_the_rest_later(
    settings: ServiceSettings,
    pool: asyncpg.Pool,
    store: EventStore,
    js: JetStreamContext,
    events: Any,
) -> None:
    # The stream refuses new messages past 20: in the middle of the second batch of 16, whose
    # rows have all been sent by the time the first refusal comes back.
    config = (await js.stream_info(settings.stream_name)).config
    await js.update_stream(replace(config, max_msgs=20, discard=DiscardPolicy.NEW))
    committed = [str(e.event_id) for e in await _commit(pool, store, events)]
    relay = _relay(settings, js)

    async with pool.acquire() as conn:
        with pytest.raises(PublishGap) as gap:
            await relay.drain(conn)
    assert [str(r.event_id) for r in gap.value.acknowledged] == committed[BATCH:20]
    assert str(gap.value.row.event_id) == committed[20]
    assert await _message_ids(js, settings.stream_name) == committed[:20]
    # The acknowledged rows are gone; from the first refused one on, every row is still there.
    assert await _outbox_ids(pool) == committed[20:]

    await js.update_stream(replace(config, max_msgs=-1, discard=DiscardPolicy.OLD))
    async with pool.acquire() as conn:
        assert await relay.drain(conn) == COMMITTED - 20
    assert await _message_ids(js, settings.stream_name) == committed
    assert await _outbox_ids(pool) == []
    assert relay.published == COMMITTED


class CuttableLink:
    """A TCP hop in front of NATS. `cut_after(n)` lets n more bytes from the client through
    and then drops the connection both ways, as a failing network would: the server keeps
    what it had received, the client hears of it only as a dead socket. Connections made
    after the cut (the client's reconnection) pass untouched."""

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 4222)
        self._budget: int | None = None
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()
        self.cut = asyncio.Event()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        return f"nats://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def cut_after(self, nbytes: int) -> None:
        self._budget = nbytes

    async def close(self) -> None:
        for pump in self._pumps:
            pump.cancel()
        if self._server is not None:
            self._server.close()

    async def _link(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        server_in, server_out = await asyncio.open_connection(*self._upstream)

        def drop() -> None:
            server_out.close()  # what was forwarded is delivered, then the server sees EOF
            client_out.transport.abort()  # the client sees its socket reset

        async def upstream() -> None:
            while data := await client_in.read(65536):
                if self._budget is not None:
                    if len(data) >= self._budget:
                        server_out.write(data[: self._budget])
                        await server_out.drain()
                        self._budget = None
                        self.cut.set()
                        drop()
                        return
                    self._budget -= len(data)
                server_out.write(data)
                await server_out.drain()
            drop()

        async def downstream() -> None:
            with contextlib.suppress(ConnectionError):
                while data := await server_in.read(65536):
                    client_out.write(data)
                    await client_out.drain()
            client_out.transport.abort()

        for pump in (upstream(), downstream()):
            task = asyncio.create_task(pump)
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)


@pytest.fixture
async def link(servers: Any) -> AsyncIterator[CuttableLink]:
    link = CuttableLink(servers.nats.url)
    try:
        yield link
    finally:
        await link.close()


@pytest.fixture
async def linked_client(servers: Any, link: CuttableLink) -> AsyncIterator[NATS]:
    client = await nats.connect(
        await link.start(),
        **servers.nats.connect_options(),
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.1,
    )
    try:
        yield client
    finally:
        await client.close()


async def test_a_connection_cut_mid_batch_loses_nothing_doubles_nothing_and_keeps_the_order(
    settings: ServiceSettings,
    pool: asyncpg.Pool,
    store: EventStore,
    js: JetStreamContext,
    events: Any,
    link: CuttableLink,
    linked_client: NATS,
    wait_for: Any,
) -> None:
    committed_events = await _commit(pool, store, events)
    committed = [str(e.event_id) for e in committed_events]
    relay = _relay(settings, linked_client.jetstream())
    # About a batch and a half of publishes get through (each is its body, its headers and
    # the HPUB line): the cut falls inside the second batch's burst.
    row_bytes = len(committed_events[0].wire_json()) + 300
    link.cut_after(BATCH * row_bytes + BATCH // 2 * row_bytes)

    async with pool.acquire() as conn:
        with pytest.raises(PublishGap):
            await relay.drain(conn)
    assert link.cut.is_set()
    held = await _message_ids(js, settings.stream_name)
    left = await _outbox_ids(pool)
    # The server stored a prefix of the commit order, cut off inside the second batch...
    assert BATCH < len(held) < 2 * BATCH, len(held)
    assert held == committed[: len(held)]
    # ...and the relay deleted only rows acknowledged to it: the first batch, and of the second
    # whatever was acknowledged before the cut. The rest stays, to be sent again, though the
    # server stored some of it: their acks died with the connection.
    deleted = COMMITTED - len(left)
    assert left == committed[deleted:]
    assert BATCH <= deleted < len(held), (deleted, len(held))

    async def reconnected() -> bool:
        return bool(linked_client.is_connected and linked_client.stats["reconnects"] >= 1)

    await wait_for(reconnected, timeout=10, what="the client to reconnect through the link")
    async with pool.acquire() as conn:
        assert await relay.drain(conn) == len(left)
    # Resent from the first unacknowledged row: JetStream dropped the copies it had, and took
    # the rest after them.
    assert await _message_ids(js, settings.stream_name) == committed
    assert await _outbox_ids(pool) == []


async def test_a_message_refused_in_the_middle_of_a_burst_holds_back_its_stream_not_others(
    settings: ServiceSettings,
    pool: asyncpg.Pool,
    store: EventStore,
    js: JetStreamContext,
    events: Any,
) -> None:
    """The server refuses one message for what it is (too large) and stores the rest of its
    burst, as it also does when a stream's leader dies under a burst and a new one takes the
    messages after: the events after the refused one in its own stream wait behind it, other
    streams' events go on, and once it can be stored each stream is on the bus in its order."""
    config = (await js.stream_info(settings.stream_name)).config
    await js.update_stream(replace(config, max_msg_size=8192))
    # Committed in this order: case-a's three events, then case-b's two, then case-c's one.
    case_a = [events.engaged("case-a", version) for version in (1, 2, 3)]
    case_b = [events.engaged("case-b", version) for version in (1, 2)]
    case_c = [events.engaged("case-c", 1)]
    async with pool.acquire() as conn, conn.transaction():
        for stream in (case_a, case_b, case_c):
            await store.append(conn, stream[0].stream_id, 0, stream)
    too_large = case_a[1]
    await pool.execute(
        "UPDATE outbox SET body = $2 WHERE event_id = $1", too_large.event_id, b"x" * 16384
    )
    relay = _relay(settings, js)

    async with pool.acquire() as conn:
        with pytest.raises(PublishGap) as gap:
            await relay.drain(conn)
    assert gap.value.row.event_id == too_large.event_id
    # case-b's second event, sent after the refused one, was stored; case-a's third was not
    # even sent.
    assert await _message_ids(js, settings.stream_name) == [
        str(e.event_id) for e in (case_a[0], case_b[0], case_c[0], case_b[1])
    ]
    assert await _outbox_ids(pool) == [str(e.event_id) for e in case_a[1:]]

    await js.update_stream(replace(config, max_msg_size=-1))
    async with pool.acquire() as conn:
        assert await relay.drain(conn) == 2
    held = await _message_ids(js, settings.stream_name)
    assert sorted(held) == sorted(str(e.event_id) for e in [*case_a, *case_b, *case_c])
    for stream in (case_a, case_b, case_c):
        ids = [str(e.event_id) for e in stream]
        assert [i for i in held if i in ids] == ids, "a stream's events out of their order"
    assert await _outbox_ids(pool) == []
