"""An access event is stored, with its outbox row, in one statement that commits before
`record` returns: the read it records can be answered as soon as it does."""

import json
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from offramp_contracts import EventEnvelope
from offramp_contracts.events.audit import Accessor, RecordAccessed, RecordRef
from servicekit.access import AccessRecorder
from servicekit.events import system_actor
from servicekit.eventstore import EventAlreadyStored, EventStore
from servicekit.outbox import notify_channel
from servicekit.provenance import KEY_ID_HEADER, SIGNATURE_HEADER, EventSigner
from servicekit.settings import ServiceSettings

SCHEMA = "kit"  # the plumbing tests' schema (their conftest)

READ = RecordAccessed(
    service="kit",
    action="GET /cases/{case_id}",
    query="at=2026-01-01",
    who=Accessor(subject="auditor-1", agency="county", jurisdiction="pontiac", roles=("auditor",)),
    records=(RecordRef(kind="case", id=str(uuid4())),),
    status=200,
)


@pytest.fixture
def signed_store(settings: ServiceSettings) -> EventStore:
    return EventStore(
        subject_root=settings.subject_root,
        notify_channel=notify_channel(SCHEMA),
        signer=EventSigner("kit", Ed25519PrivateKey.generate()),
    )


async def test_a_recorded_read_is_committed_with_its_signed_outbox_row_when_record_returns(
    pool: asyncpg.Pool, signed_store: EventStore, settings: ServiceSettings
) -> None:
    recorder = AccessRecorder("kit", pool, signed_store, window_seconds=60)
    correlation = uuid4()
    await recorder.record(READ, jurisdiction="pontiac", correlation_id=correlation)
    # Another session sees it at once: nothing was left for a later commit.
    other = await asyncpg.connect(settings.database_url, server_settings={"search_path": SCHEMA})
    try:
        row = await other.fetchrow("SELECT stream_id, stream_version, envelope FROM events")
        outbox = await other.fetchrow("SELECT event_id, subject, headers FROM outbox")
    finally:
        await other.close()
    event = EventEnvelope.model_validate_json(row["envelope"])
    assert row["stream_id"] == f"access-{event.event_id}" and row["stream_version"] == 1
    assert event.event_type == "RecordAccessed" and event.correlation_id == correlation
    assert event.causation_id is None and event.actor == system_actor("kit")
    assert RecordAccessed.model_validate(event.data) == READ
    assert outbox["event_id"] == event.event_id
    assert outbox["subject"] == f"{settings.subject_root}.pontiac.audit.RecordAccessed"
    headers = json.loads(outbox["headers"])
    assert headers["Nats-Msg-Id"] == str(event.event_id)
    assert headers[KEY_ID_HEADER].startswith("kit-") and headers[SIGNATURE_HEADER]


async def test_each_read_is_its_own_event_and_a_second_copy_of_one_is_refused(
    pool: asyncpg.Pool, store: EventStore, events: Any
) -> None:
    recorder = AccessRecorder("kit", pool, store, window_seconds=60)
    for _ in range(3):
        await recorder.record(READ, jurisdiction="pontiac", correlation_id=None)
    assert await pool.fetchval("SELECT count(DISTINCT stream_id) FROM events") == 3
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 3

    first = events.engaged(f"access-{uuid4()}", 1)
    async with pool.acquire() as conn:
        await store.append_new_stream(conn, first)
        with pytest.raises(EventAlreadyStored):
            await store.append_new_stream(conn, first)
        with pytest.raises(ValueError, match="starts at version 1"):
            await store.append_new_stream(conn, events.engaged(f"access-{uuid4()}", 2))
    assert await pool.fetchval("SELECT count(*) FROM events") == 4


async def test_a_read_that_cannot_be_stored_raises(pool: asyncpg.Pool, store: EventStore) -> None:
    """The access trail withholds the answer (503) when `record` raises."""
    await pool.execute("ALTER TABLE outbox RENAME TO outbox_gone")
    recorder = AccessRecorder("kit", pool, store, window_seconds=60)
    with pytest.raises(asyncpg.UndefinedTableError):
        await recorder.record(READ, jurisdiction="pontiac", correlation_id=None)
    # Nothing half-stored: the event went with its outbox row.
    assert await pool.fetchval("SELECT count(*) FROM events") == 0
