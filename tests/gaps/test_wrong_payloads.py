"""An operator's view of an envelope that is well formed, and signed by the producer owning its
subject, but whose data is not what its event type says: every service that reads the subject
parks it for its data, the ledger writer too, and the append-only ledger never holds it. The
operator's listing shows one letter per line."""

import os
import subprocess
import sys
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from nats.aio.client import Client as NATS

from offramp_contracts import Actor, EventEnvelope, event_catalogue, subject_for
from offramp_contracts.events.casework import ClientEngaged
from servicekit.events import new_event
from tests.bus import signed_headers
from tests.conftest import System, wait_for
from tests.faults.reconcile import subject_matches

LEDGER_WRITER = "audit-ledger-v2"


def bogus(event_type: str) -> EventEnvelope:
    """A real envelope of `event_type` at its current version, carrying data of no event."""
    model = event_catalogue()[event_type]
    good = new_event(
        ClientEngaged(case_id=uuid4(), contact_id=uuid4()),
        stream_id=f"bogus-{uuid4()}",
        stream_version=1,
        jurisdiction="pontiac",
        actor=Actor(subject="someone", agency="pontiac-pd", role="officer"),
        correlation_id=uuid4(),
        causation_id=None,
    )
    return good.model_copy(
        update={
            "event_type": event_type,
            "schema_version": model.schema_version,
            "data": {"bogus": True},
        }
    )


async def durable_filters(nats_client: NATS, stream: str) -> dict[str, list[str]]:
    consumers = await nats_client.jetstream().consumers_info(stream)
    filters: dict[str, list[str]] = {}
    for info in consumers:
        config = info.config
        subjects = list(config.filter_subjects or [])
        if config.filter_subject:
            subjects.append(config.filter_subject)
        assert config.durable_name is not None
        filters[config.durable_name] = subjects
    return filters


def schemas(system: System) -> list[str]:
    """Every running service's own schema, where its readers park what they refuse."""
    return [service.runtime.settings.db_schema for service in system.services.values()]


async def parked_by(
    conn: asyncpg.Connection, system: System, event_ids: list[UUID]
) -> dict[tuple[str, UUID], str]:
    """Who parked which of `event_ids`, and why."""
    found: dict[tuple[str, UUID], str] = {}
    for schema in schemas(system):
        rows = await conn.fetch(
            f"SELECT consumer, event_id, error FROM {schema}.dead_letters WHERE event_id = ANY($1)",
            event_ids,
        )
        found |= {(row["consumer"], row["event_id"]): row["error"] for row in rows}
    return found


async def test_a_wrong_payload_on_every_subject_is_parked_by_every_reader_and_kept_out_of_the_ledger(
    system: System, isolation: Any, nats_client: NATS
) -> None:
    root = isolation.subject_root
    ledger_before = await _ledger(isolation)
    letters = {name: bogus(name) for name in sorted(event_catalogue())}
    js = nats_client.jetstream()
    for name, envelope in letters.items():
        # Signed by the service owning the subject's context (audit for the access events):
        # its provenance is proven, so only its data can be why a reader refuses it.
        owner = event_catalogue()[name].context
        await js.publish(
            subject_for(root, "pontiac", name),
            envelope.wire_json(),
            headers=signed_headers(isolation, envelope, producer=owner),
        )

    filters = await durable_filters(nats_client, isolation.stream_name)
    assert LEDGER_WRITER in filters
    expected = {
        (consumer, envelope.event_id)
        for name, envelope in letters.items()
        for consumer, subjects in filters.items()
        if any(subject_matches(p, subject_for(root, "pontiac", name)) for p in subjects)
    }
    readers = {consumer for consumer, _ in expected}
    assert readers >= {LEDGER_WRITER} and len(readers) >= 4, readers
    ids = [envelope.event_id for envelope in letters.values()]

    conn = await asyncpg.connect(isolation.database_url)
    try:

        async def all_parked() -> bool:
            return (await parked_by(conn, system, ids)).keys() >= expected

        await wait_for(all_parked, timeout=60, what="every reader to park every wrong payload")
        parked = await parked_by(conn, system, ids)
        assert parked.keys() == expected
        # Parked for their data, not for who sent them (they are their owners' signed events).
        why = {
            (reader, event_id): error
            for (reader, event_id), error in parked.items()
            if not error.startswith(
                "cannot be appended to the ledger: "
                if reader == LEDGER_WRITER
                else "malformed event data: "
            )
        }
        assert why == {}, why
        in_ledger = await conn.fetchval(
            "SELECT count(*) FROM audit.ledger WHERE event_id = ANY($1)", ids
        )
    finally:
        await conn.close()
    assert in_ledger == 0
    assert (await _ledger(isolation))[: len(ledger_before)] == ledger_before

    listing = _dead_letters_listing(system, isolation, "audit")
    lines = listing.splitlines()
    assert len(lines) == len(letters), listing
    # id, parked at, status, consumer, subject, deliveries, error: the error on the same line
    rows = [line.split("\t") for line in lines]
    assert all(len(row) == 7 for row in rows), listing
    assert all(row[2] == "parked" and row[3] == LEDGER_WRITER for row in rows), listing
    assert all(row[6].startswith("cannot be appended to the ledger") for row in rows), listing


async def _ledger(isolation: Any) -> list[tuple[int, str]]:
    conn = await asyncpg.connect(isolation.database_url)
    try:
        rows = await conn.fetch("SELECT seq, hash FROM audit.ledger ORDER BY seq")
    finally:
        await conn.close()
    return [(row["seq"], row["hash"]) for row in rows]


def _dead_letters_listing(system: System, isolation: Any, service: str) -> str:
    settings = system.services[service].runtime.settings
    env = {
        **os.environ,
        "OFFRAMP_DATABASE_URL": isolation.database_url,
        "OFFRAMP_DB_SCHEMA": settings.db_schema,
        "OFFRAMP_PROFILES_DIR": str(isolation.profiles_dir),
        "OFFRAMP_LOG_JSON": "false",
    }
    result = subprocess.run(
        [sys.executable, "-m", f"{service}.entrypoints.cli", "dead-letters", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
