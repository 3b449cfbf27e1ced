"""The ledger in the real Postgres: appended once per event, refusing every change, and
verification that names the first altered entry."""

from uuid import uuid4

import asyncpg
import pytest

from audit.adapters import ledger_store
from offramp_contracts import Actor, EventEnvelope
from offramp_contracts.events.casework import ClientEngaged
from servicekit.events import new_event


def an_event(n: int) -> EventEnvelope:
    """A case manager's contact with the participant of case `n`, as casework publishes it."""
    return new_event(
        ClientEngaged(case_id=uuid4(), contact_id=uuid4()),
        stream_id=f"case-{n}",
        stream_version=1,
        jurisdiction="pontiac",
        actor=Actor(subject="cm-1", agency="alliance", role="case_manager"),
        correlation_id=uuid4(),
        causation_id=None,
    )


@pytest.fixture
def pool(owner_pool: asyncpg.Pool) -> asyncpg.Pool:
    return owner_pool


async def append_all(pool: asyncpg.Pool, events: list[EventEnvelope]) -> None:
    for event in events:
        async with pool.acquire() as conn, conn.transaction():
            await ledger_store.append(conn, "lead.pontiac.casework.ClientEngaged", event)


async def test_each_event_is_appended_once_in_a_gapless_sequence(pool: asyncpg.Pool) -> None:
    events = [an_event(n) for n in range(5)]
    await append_all(pool, events + events[:2])
    seqs = [r["seq"] for r in await pool.fetch("SELECT seq FROM ledger ORDER BY seq")]
    assert seqs == [1, 2, 3, 4, 5]
    result = await ledger_store.walk(pool, [], {})
    assert result.intact and result.entries_checked == 5


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger SET subject = 'x' WHERE seq = 1",
        "DELETE FROM ledger WHERE seq = 1",
        "TRUNCATE ledger",
    ],
)
async def test_the_database_refuses_to_change_the_ledger(
    pool: asyncpg.Pool, statement: str
) -> None:
    await append_all(pool, [an_event(1)])
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await pool.execute(statement)
    assert await pool.fetchval("SELECT count(*) FROM ledger") == 1


async def test_verify_names_the_entry_that_was_altered_behind_the_triggers_back(
    pool: asyncpg.Pool,
) -> None:
    await append_all(pool, [an_event(n) for n in range(6)])
    async with pool.acquire() as conn, conn.transaction():
        # Only a superuser can switch triggers off like this: the tamperer the chain is for.
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(
            "UPDATE ledger SET entry = replace(entry, 'pontiac', 'elsewhere') WHERE seq = 4"
        )
    result = await ledger_store.walk(pool, [], {})
    assert not result.intact
    assert result.first_bad_seq == 4
    assert result.fault == "changed"
    assert result.entries_checked == 3


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger SET subject = 'x' WHERE seq = 1",
        "DELETE FROM ledger WHERE seq = 1",
        "TRUNCATE ledger",
        "ALTER TABLE ledger DISABLE TRIGGER ledger_no_update_or_delete",
        "ALTER TABLE ledger ADD COLUMN note text",
        "DROP TRIGGER ledger_no_truncate ON ledger",
        "DROP TABLE ledger",
    ],
)
async def test_the_ledger_role_is_refused_every_change_and_cannot_unlock_the_triggers(
    pool: asyncpg.Pool, role_pool: asyncpg.Pool, statement: str
) -> None:
    """The sessions the service writes and reads the ledger with act as its role, which owns
    nothing: no privilege to change rows, and no ownership to alter or drop the table."""
    await append_all(pool, [an_event(1)])
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await role_pool.execute(statement)
    assert await pool.fetchval("SELECT count(*) FROM ledger") == 1
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'ledger'::regclass AND tgenabled = 'O'"
        )
        == 2
    )
