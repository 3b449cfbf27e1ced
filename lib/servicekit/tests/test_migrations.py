"""The migration runner: each migration once, in order, refused if edited after it was applied,
and safe when several replicas start together."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from servicekit.migrations import Migration, MigrationError, migrate, plumbing_migrations

SCHEMA = "fresh"

COUNTED = [
    Migration(
        "test/0001_tally.sql",
        "CREATE TABLE tally (step int NOT NULL); INSERT INTO tally VALUES (1);",
    ),
    Migration("test/0002_more.sql", "INSERT INTO tally VALUES (2);"),
]


@pytest.fixture
async def conn(isolation: Any) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(isolation.database_url)
    try:
        yield connection
    finally:
        await connection.close()


async def test_migrate_applies_each_migration_once_and_a_second_run_applies_nothing(
    conn: asyncpg.Connection,
) -> None:
    plumbing = plumbing_migrations()
    assert plumbing, "servicekit ships its plumbing migrations"

    assert await migrate(conn, SCHEMA, plumbing) == [m.id for m in plumbing]
    assert await migrate(conn, SCHEMA, plumbing) == []

    tables = await conn.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", SCHEMA
    )
    assert {"events", "outbox", "inbox", "dead_letters", "schema_migrations"} <= {
        t["table_name"] for t in tables
    }
    recorded = await conn.fetch(f'SELECT id, checksum FROM "{SCHEMA}".schema_migrations')
    assert {(r["id"], r["checksum"]) for r in recorded} == {(m.id, m.checksum) for m in plumbing}


async def test_new_migrations_are_applied_after_the_ones_already_applied(
    conn: asyncpg.Connection,
) -> None:
    assert await migrate(conn, SCHEMA, COUNTED[:1]) == [COUNTED[0].id]
    assert await migrate(conn, SCHEMA, COUNTED) == [COUNTED[1].id]
    steps = await conn.fetch(f'SELECT step FROM "{SCHEMA}".tally ORDER BY step')
    assert [s["step"] for s in steps] == [1, 2]


async def test_an_edited_applied_migration_is_refused_and_nothing_else_is_applied(
    conn: asyncpg.Connection,
) -> None:
    await migrate(conn, SCHEMA, COUNTED[:1])
    edited = Migration(COUNTED[0].id, COUNTED[0].sql + " INSERT INTO tally VALUES (99);")

    with pytest.raises(MigrationError, match=r"test/0001_tally\.sql.*changed"):
        await migrate(conn, SCHEMA, [edited, COUNTED[1]])

    steps = await conn.fetch(f'SELECT step FROM "{SCHEMA}".tally ORDER BY step')
    assert [s["step"] for s in steps] == [1]
    applied = await conn.fetch(f'SELECT id FROM "{SCHEMA}".schema_migrations')
    assert [a["id"] for a in applied] == [COUNTED[0].id]


async def test_concurrent_migrations_of_one_schema_apply_each_migration_exactly_once(
    isolation: Any, conn: asyncpg.Connection
) -> None:
    replicas = [await asyncpg.connect(isolation.database_url) for _ in range(3)]
    try:
        # Hold every replica at the start line: take the runner's lock first, let all three
        # queue behind it, then let them race.
        await conn.execute("SELECT pg_advisory_lock(hashtext('migrate:' || $1))", SCHEMA)
        pids = [r.get_server_pid() for r in replicas]
        runs = [asyncio.create_task(migrate(r, SCHEMA, COUNTED)) for r in replicas]

        async def all_waiting() -> bool:
            waiting = await conn.fetchval(
                """SELECT count(*) FROM pg_locks
                   WHERE locktype = 'advisory' AND NOT granted AND pid = ANY($1::int[])""",
                pids,
            )
            return bool(waiting == len(replicas))

        deadline = asyncio.get_running_loop().time() + 10
        while not await all_waiting():
            assert asyncio.get_running_loop().time() < deadline, "replicas never queued"
            assert not any(r.done() for r in runs), [r.result() for r in runs if r.done()]
            await asyncio.sleep(0.02)
        await conn.execute("SELECT pg_advisory_unlock(hashtext('migrate:' || $1))", SCHEMA)

        applied = await asyncio.wait_for(asyncio.gather(*runs), timeout=10)
    finally:
        for replica in replicas:
            await replica.close()

    assert sorted(applied, key=len) == [[], [], [m.id for m in COUNTED]]
    steps = await conn.fetch(f'SELECT step FROM "{SCHEMA}".tally ORDER BY step')
    assert [s["step"] for s in steps] == [1, 2]
