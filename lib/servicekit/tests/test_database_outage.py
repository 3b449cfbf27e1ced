"""A database that goes away and comes back: consumers put messages back without counting the
attempt, so nothing good is parked however long the outage lasts, and the relay carries on
with what was committed before it.

These tests kill a PostgreSQL server of their own (never the session's), started once for the
module; each test gets a fresh database on it."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from nats.js import JetStreamContext

from offramp_devstack import Postgres, free_port, start_postgres
from servicekit.database import create_pool
from servicekit.eventstore import EventStore
from servicekit.inbox import ConsumerPolicy, Delivered, InboxConsumer
from servicekit.migrations import migrate, plumbing_migrations
from servicekit.outbox import OutboxRelay, notify_channel
from servicekit.settings import ServiceSettings

SCHEMA = "kit"
POLICY = ConsumerPolicy(
    max_attempts=2,
    backoff_seconds=(0.2,),
    ack_wait_seconds=5,
    fetch_timeout_seconds=0.5,
    outage_pause_seconds=0.1,
    outage_pause_max_seconds=0.2,
)


@dataclass
class OwnPostgres:
    """A server this module may kill: its data directory and port stay, so it comes back as
    the same server."""

    data_dir: Path
    port: int
    log: Path
    server: Postgres

    def kill(self) -> None:
        self.server.server.kill()

    async def restart(self) -> None:
        self.server = await asyncio.to_thread(start_postgres, self.data_dir, self.port, self.log)


@pytest.fixture(scope="module")
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnPostgres]:
    home = tmp_path_factory.mktemp("own-postgres")
    port = free_port()
    server = start_postgres(home / "data", port, home / "postgres.log")
    own = OwnPostgres(home / "data", port, home / "postgres.log", server)
    try:
        yield own
    finally:
        own.server.server.stop()


@dataclass(frozen=True)
class OwnDatabase:
    dsn: str
    pool: asyncpg.Pool


@pytest.fixture
async def own_database(own_postgres: OwnPostgres) -> AsyncIterator[OwnDatabase]:
    if not own_postgres.server.server.running():
        await own_postgres.restart()  # a test that failed half-way left it down
    dsn = await own_postgres.server.create_database(f"t_{uuid4().hex[:12]}")
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn, SCHEMA, plumbing_migrations())
        await conn.execute(f"CREATE TABLE {SCHEMA}.effects (event_id uuid NOT NULL)")
    finally:
        await conn.close()
    pool = await create_pool(dsn, SCHEMA, max_size=4)
    try:
        yield OwnDatabase(dsn, pool)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(pool.close(), timeout=10)


async def record(conn: asyncpg.Connection, delivered: Delivered) -> None:
    await conn.execute("INSERT INTO effects (event_id) VALUES ($1)", delivered.event.event_id)


async def effects(pool: asyncpg.Pool, event_id: Any) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM effects WHERE event_id = $1", event_id))


async def test_a_long_database_outage_parks_nothing_and_each_event_has_one_effect_after(
    own_postgres: OwnPostgres,
    own_database: OwnDatabase,
    js: JetStreamContext,
    settings: ServiceSettings,
    events: Any,
    background: Any,
    wait_for: Any,
) -> None:
    own_pool = own_database.pool
    consumer = InboxConsumer(
        pool=own_pool,
        js=js,
        stream=settings.stream_name,
        name="outage-consumer",
        subjects=[f"{settings.subject_root}.>"],
        handler=record,
        policy=POLICY,
    )
    before, during = events.engaged("case-1", 1), events.engaged("case-2", 1)

    async def publish(event: Any) -> None:
        await js.publish(events.subject(event), event.wire_json(), stream=settings.stream_name)

    background(consumer.run())
    await publish(before)
    await wait_for(lambda: effects(own_pool, before.event_id), timeout=15, what="a first effect")

    own_postgres.kill()
    await publish(during)

    async def delivered_times() -> int:
        info = await js.consumer_info(settings.stream_name, consumer.name)
        return int(info.delivered.consumer_seq) - 1  # the first delivery was `before`

    # Many more deliveries than attempts allowed: each one met the outage.
    await wait_for(
        lambda: _at_least(delivered_times, POLICY.max_attempts + 3),
        timeout=30,
        what="the event to be delivered again and again while the database is down",
    )
    await own_postgres.restart()

    await wait_for(lambda: effects(own_pool, during.event_id), timeout=30, what="its one effect")
    info = await js.consumer_info(settings.stream_name, consumer.name)
    await wait_for(
        lambda: _all_acked(js, settings.stream_name, consumer.name),
        timeout=15,
        what="everything to be acked",
    )
    assert info.config.max_deliver in (-1, None), "the server must never give up on a message"
    assert await effects(own_pool, during.event_id) == 1
    assert await own_pool.fetchval("SELECT count(*) FROM dead_letters") == 0
    assert await own_pool.fetchval("SELECT count(*) FROM inbox_failures") == 0


async def test_the_relay_publishes_what_was_committed_before_and_after_a_database_restart(
    own_postgres: OwnPostgres,
    own_database: OwnDatabase,
    js: JetStreamContext,
    settings: ServiceSettings,
    events: Any,
    background: Any,
    wait_for: Any,
) -> None:
    own_pool = own_database.pool
    store = EventStore(subject_root=settings.subject_root, notify_channel=notify_channel(SCHEMA))
    relay = OutboxRelay(dsn=own_database.dsn, schema=SCHEMA, js=js, stream=settings.stream_name)

    async def commit(stream: str) -> None:
        async with own_pool.acquire() as conn, conn.transaction():
            await store.append(conn, stream, 0, [events.engaged(stream, 1)])

    async def on_the_stream() -> int:
        return int((await js.stream_info(settings.stream_name)).state.messages)

    background(relay.run())
    await commit("case-1")
    await wait_for(lambda: _at_least(on_the_stream, 1), timeout=15, what="the first event")

    own_postgres.kill()
    await own_postgres.restart()
    await wait_for(lambda: _commits(commit, "case-2"), timeout=30, what="a commit after restart")

    async def outbox_empty() -> bool:
        return bool(await own_pool.fetchval("SELECT count(*) FROM outbox") == 0)

    await wait_for(outbox_empty, timeout=30, what="the relay to carry on after the restart")
    # A row whose delete the kill cut off was published again, and JetStream dropped the copy.
    assert await on_the_stream() == 2


async def _commits(commit: Any, stream: str) -> bool:
    """The pool's first use after a restart may meet a connection the restart closed, which
    asyncpg sometimes reports as a client-side state error on its way out of the pool."""
    try:
        await commit(stream)
    except (
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.exceptions.InternalClientError,
        OSError,
    ):
        return False
    return True


async def _at_least(count: Any, n: int) -> bool:
    return bool(await count() >= n)


async def _all_acked(js: JetStreamContext, stream: str, name: str) -> bool:
    info = await js.consumer_info(stream, name)
    return bool(info.num_pending == 0 and info.num_ack_pending == 0)
