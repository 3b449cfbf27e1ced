"""What a service stored, as the tests look at it.

Reads and refusals are events too (RecordAccessed, AccessDenied: servicekit.access), so a test
that asks "did this request change anything?" counts the domain's events and leaves those out.
"""

import asyncpg

ACCESS_EVENTS: frozenset[str] = frozenset({"RecordAccessed", "AccessDenied"})


async def domain_events_stored(pool: asyncpg.Pool | asyncpg.Connection) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM events WHERE NOT (event_type = ANY($1::text[]))",
        sorted(ACCESS_EVENTS),
    )
    return count
