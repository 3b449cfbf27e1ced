"""The `command_keys` table: a case command's Idempotency-Key claimed in the command's own
transaction, so a retry whose first attempt committed is recognised even when the middleware's
claim was lost (servicekit.idempotency's window)."""

from dataclasses import dataclass
from uuid import UUID

import asyncpg


@dataclass(frozen=True)
class Claimed:
    """What the key was first used for: the request (as a fingerprint), the case, and the
    stretch of the case's stream its events took (none when it stored nothing)."""

    fingerprint: str
    case_id: UUID
    version_before: int
    version_after: int


async def claim(
    conn: asyncpg.Connection,
    *,
    owner: str,
    key: str,
    fingerprint: str,
    case_id: UUID,
    version: int,
) -> Claimed | None:
    """None if the key is new (and now claimed, at the case's `version`); otherwise what it was
    first used for. A concurrent first use of the key blocks on the primary key until its
    transaction ends, then is seen here."""
    claimed = await conn.fetchval(
        """INSERT INTO command_keys (owner, idempotency_key, fingerprint, case_id,
                                     version_before, version_after)
           VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING RETURNING 1""",
        owner,
        key,
        fingerprint,
        case_id,
        version,
    )
    if claimed:
        return None
    row = await conn.fetchrow(
        """SELECT fingerprint, case_id, version_before, version_after FROM command_keys
           WHERE owner = $1 AND idempotency_key = $2""",
        owner,
        key,
    )
    assert row is not None, "a claimed key is never deleted"
    return Claimed(**dict(row))


async def settle(conn: asyncpg.Connection, *, owner: str, key: str, version: int) -> None:
    """The case's version once the command's events are stored."""
    await conn.execute(
        "UPDATE command_keys SET version_after = $3 WHERE owner = $1 AND idempotency_key = $2",
        owner,
        key,
        version,
    )
