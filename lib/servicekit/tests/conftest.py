"""Fixtures for the plumbing's own tests: one service schema migrated into the test's own
database, the test's own JetStream stream, and a small factory of real event envelopes.

Everything here runs against the session's real PostgreSQL and NATS (see the root conftest)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from lib.servicekit.tests.inbox_kit import Kit
from offramp_contracts import EventEnvelope
from offramp_contracts.events.casework import ClientEngaged
from offramp_devstack.waiting import wait_for as wait_until
from servicekit.database import create_pool
from servicekit.events import new_event, system_actor
from servicekit.eventstore import EventStore
from servicekit.inbox import Delivered
from servicekit.jetstream import ensure_stream
from servicekit.migrations import migrate, plumbing_migrations
from servicekit.outbox import notify_channel
from servicekit.settings import ServiceSettings

SCHEMA = "kit"
JURISDICTION = "pontiac"

WaitFor = Callable[..., Awaitable[Any]]


@pytest.fixture
def wait_for() -> WaitFor:
    return wait_until


class EventFactory:
    """Real `ClientEngaged` envelopes, numbered for the stream they are appended to."""

    def __init__(self, subject_root: str) -> None:
        self.subject_root = subject_root

    def engaged(
        self, stream_id: str, version: int, *, event_id: UUID | None = None
    ) -> EventEnvelope:
        return new_event(
            ClientEngaged(case_id=uuid4(), contact_id=uuid4()),
            stream_id=stream_id,
            stream_version=version,
            jurisdiction=JURISDICTION,
            actor=system_actor("servicekit-tests"),
            correlation_id=uuid4(),
            causation_id=None,
            event_id=event_id,
        )

    def subject(self, event: EventEnvelope) -> str:
        return f"{self.subject_root}.{event.jurisdiction}.casework.{event.event_type}"


@pytest.fixture
def settings(servers: Any, isolation: Any) -> ServiceSettings:
    return ServiceSettings(**isolation.settings(servers), db_schema=SCHEMA, service_name="kit")


@pytest.fixture
def events(settings: ServiceSettings) -> EventFactory:
    return EventFactory(settings.subject_root)


@pytest.fixture
async def pool(settings: ServiceSettings) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the test's database, its schema holding the plumbing tables."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        await migrate(conn, SCHEMA, plumbing_migrations())
    finally:
        await conn.close()
    pool = await create_pool(settings.database_url, SCHEMA, max_size=6)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def store(settings: ServiceSettings) -> EventStore:
    return EventStore(subject_root=settings.subject_root, notify_channel=notify_channel(SCHEMA))


@pytest.fixture
async def js(nats_client: NATS, settings: ServiceSettings) -> AsyncIterator[JetStreamContext]:
    """JetStream with the test's own stream, removed again afterwards."""
    context = nats_client.jetstream()
    await ensure_stream(context, settings)
    try:
        yield context
    finally:
        await context.delete_stream(settings.stream_name)


class Effects:
    """What a test handler does: one row per call, with no uniqueness of its own, so that a
    second effect for the same event would show."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def record(self, conn: asyncpg.Connection, delivered: Delivered) -> None:
        await conn.execute("INSERT INTO effects (event_id) VALUES ($1)", delivered.event.event_id)

    async def count(self, event_id: UUID | None = None) -> int:
        if event_id is None:
            return int(await self.pool.fetchval("SELECT count(*) FROM effects"))
        return int(
            await self.pool.fetchval("SELECT count(*) FROM effects WHERE event_id = $1", event_id)
        )


@pytest.fixture
async def effects(pool: asyncpg.Pool) -> Effects:
    await pool.execute("CREATE TABLE effects (event_id uuid NOT NULL)")
    return Effects(pool)


Start = Callable[[Coroutine[Any, Any, Any]], "asyncio.Task[Any]"]


@pytest.fixture
async def background(pool: asyncpg.Pool, js: JetStreamContext) -> AsyncIterator[Start]:
    """Start long-running loops (relays, consumers) that are cancelled when the test ends,
    before the pool and the stream they use go away."""
    tasks: list[asyncio.Task[Any]] = []

    def start(coro: Coroutine[Any, Any, Any]) -> "asyncio.Task[Any]":
        task = asyncio.create_task(coro)
        tasks.append(task)
        return task

    try:
        yield start
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.fixture
def kit(
    settings: ServiceSettings,
    pool: asyncpg.Pool,
    js: JetStreamContext,
    events: EventFactory,
    effects: Effects,
    background: Start,
    wait_for: WaitFor,
) -> Kit:
    """The inbox consumer's tests' pieces in one (lib/servicekit/tests/inbox_kit.py)."""
    return Kit(settings, pool, js, events, effects, background, wait_for)
