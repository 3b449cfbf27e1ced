"""The command loop: a decider's command is decided on the stream as stored, its events are
appended at the version it was decided on with their origin, and a concurrent writer makes it
fail whole."""

from dataclasses import dataclass
from uuid import UUID, uuid4

import asyncpg
import pytest

from offramp_contracts import EventPayload
from offramp_contracts.events.casework import ClientEngaged
from servicekit.command_loop import (
    ConcurrencyError,
    Decider,
    Handled,
    Origin,
    append,
    handle_command,
    load,
)
from servicekit.events import system_actor
from servicekit.eventstore import EventStore

STREAM = "case-loop"


@dataclass(frozen=True)
class LogContacts:
    case_id: UUID
    contacts: int


class TooMany(Exception):
    pass


def _decide(command: LogContacts, seen: int) -> list[EventPayload]:
    if seen + command.contacts > 3:
        raise TooMany(seen)
    return [
        ClientEngaged(case_id=command.case_id, contact_id=uuid4()) for _ in range(command.contacts)
    ]


def _evolve(seen: int, event: EventPayload) -> int:
    return seen + 1 if isinstance(event, ClientEngaged) else seen


CONTACTS = Decider(decide=_decide, evolve=_evolve, initial_state=0)


def _origin(causation_id: UUID | None = None) -> Origin:
    return Origin(system_actor("kit-tests"), "pontiac", uuid4(), causation_id)


async def _run(
    pool: asyncpg.Pool, store: EventStore, command: LogContacts, origin: Origin
) -> Handled[int]:
    async with pool.acquire() as conn, conn.transaction():
        return await handle_command(conn, store, STREAM, CONTACTS, command, origin)


async def test_a_command_is_decided_on_the_stored_state_and_its_events_carry_their_origin(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    case_id, cause = uuid4(), uuid4()
    origin = _origin(cause)
    first = await _run(pool, store, LogContacts(case_id, 2), origin)
    second = await _run(pool, store, LogContacts(case_id, 1), _origin())

    assert (first.state, first.version) == (2, 2)
    assert (second.state, second.version) == (3, 3)
    assert [e.stream_version for e in first.events] == [1, 2]
    assert all(e.correlation_id == origin.correlation_id for e in first.events)
    assert all(e.causation_id == cause for e in first.events)
    async with pool.acquire() as conn:
        loaded = await load(conn, store, STREAM, _evolve, 0)
        outbox = await conn.fetchval("SELECT count(*) FROM outbox")
    assert (loaded.state, loaded.version) == (3, 3)
    assert outbox == 3, "every stored event has its outbox row"


async def test_a_refused_command_stores_nothing(pool: asyncpg.Pool, store: EventStore) -> None:
    await _run(pool, store, LogContacts(uuid4(), 3), _origin())
    with pytest.raises(TooMany):
        await _run(pool, store, LogContacts(uuid4(), 1), _origin())
    assert await pool.fetchval("SELECT count(*) FROM events") == 3


async def test_a_decision_on_a_stale_version_fails_whole_naming_stream_and_version(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    case_id = uuid4()
    await _run(pool, store, LogContacts(case_id, 1), _origin())
    async with pool.acquire() as conn, conn.transaction():
        stale = await load(conn, store, STREAM, _evolve, 0)
    await _run(pool, store, LogContacts(case_id, 1), _origin())

    engaged = [ClientEngaged(case_id=case_id, contact_id=uuid4()) for _ in range(2)]
    with pytest.raises(ConcurrencyError) as raised:
        async with pool.acquire() as conn, conn.transaction():
            await append(conn, store, STREAM, stale.version, engaged, _origin())
    assert (raised.value.stream_id, raised.value.expected_version) == (STREAM, 1)
    assert await pool.fetchval("SELECT count(*) FROM events") == 2


async def test_chained_events_are_each_caused_by_the_one_before(
    pool: asyncpg.Pool, store: EventStore
) -> None:
    cause = uuid4()
    engaged = [ClientEngaged(case_id=uuid4(), contact_id=uuid4()) for _ in range(3)]
    async with pool.acquire() as conn, conn.transaction():
        stored = await append(conn, store, STREAM, 0, engaged, _origin(cause), causation="chain")
    assert [e.causation_id for e in stored] == [cause, stored[0].event_id, stored[1].event_id]
