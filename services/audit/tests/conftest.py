"""Fixtures for the audit service's own tests: its schema migrated into the test's database,
sessions in the ledger's role, and events to append."""

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
import uuid6

from audit.adapters import ledger_store
from audit.bootstrap import migrations
from offramp_contracts import Actor, EventEnvelope
from servicekit.database import create_pool
from servicekit.migrations import migrate

SUBJECT = "lead.pontiac.casework.ClientEngaged"
EventOf = Callable[..., EventEnvelope]


@pytest.fixture
async def owner_pool(isolation: Any) -> AsyncIterator[asyncpg.Pool]:
    """Sessions as the schema's owner (here a superuser): what migrations run as."""
    pool = await create_pool(isolation.database_url, "audit")
    async with pool.acquire() as conn:
        await migrate(conn, "audit", migrations())
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def role_pool(isolation: Any, owner_pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Pool]:
    """Sessions as the service uses them: acting as the ledger role."""
    pool = await ledger_store.ledger_pool(isolation.database_url, "audit")
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def event_of() -> EventOf:
    def build(
        n: int = 0,
        *,
        event_type: str = "ClientEngaged",
        data: dict[str, Any] | None = None,
        recorded_at: datetime | None = None,
        event_id: UUID | None = None,
    ) -> EventEnvelope:
        now = recorded_at or datetime.now(UTC)
        return EventEnvelope(
            event_id=event_id or uuid6.uuid7(),
            event_type=event_type,
            schema_version=1,
            stream_id=f"case-{n}",
            stream_version=1,
            jurisdiction="pontiac",
            occurred_at=now,
            recorded_at=now,
            actor=Actor(subject="cm-1", agency="alliance", role="case_manager"),
            correlation_id=uuid4(),
            causation_id=None,
            data=data if data is not None else {"case_id": str(uuid4()), "n": n},
        )

    return build
