"""One active instance among replicas, by a Postgres advisory lock held on a dedicated session.

The lock lives as long as the session: if the holder dies or loses its connection, Postgres
releases it and a standby's next try wins. No clocks, no heartbeats to tune.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg

from servicekit.database import connect
from servicekit.log import get_logger

log = get_logger(__name__)

Connect = Callable[[str, str], Awaitable[asyncpg.Connection]]


@asynccontextmanager
async def hold_lease(
    dsn: str,
    schema: str,
    name: str,
    *,
    retry_seconds: float = 2.0,
    connect: Connect = connect,
) -> AsyncIterator[asyncpg.Connection]:
    """Wait until this instance holds the lease `name`, then yield the session holding it.
    `connect(dsn, schema)` opens each try's session (a test may pass one that counts)."""
    key = f"{schema}:{name}"
    while True:
        conn = await connect(dsn, schema)
        try:
            if await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", key):
                log.info("lease acquired", lease=key)
                try:
                    yield conn
                finally:
                    log.info("lease released", lease=key)
                return
        finally:
            await conn.close()
        # Another instance is active: stand by and try again.
        await asyncio.sleep(retry_seconds)
