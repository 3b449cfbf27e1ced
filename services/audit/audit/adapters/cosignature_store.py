"""Witnesses' cosignatures of checkpoints, as stored (migration 0006)."""

from datetime import UTC, datetime

import asyncpg

from audit.domain.witness import Cosignature


async def add(pool: asyncpg.Pool, checkpoint: int, cosignature: Cosignature) -> Cosignature:
    """Store it; a witness that cosigns the same checkpoint again keeps its first cosignature,
    which is what is returned."""
    row = await pool.fetchrow(
        """WITH added AS (
               INSERT INTO checkpoint_cosignatures (checkpoint, witness, line, cosigned_at)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (checkpoint, witness) DO NOTHING
               RETURNING witness, line, cosigned_at)
           SELECT witness, line, cosigned_at FROM added
           UNION ALL
           SELECT witness, line, cosigned_at FROM checkpoint_cosignatures
           WHERE checkpoint = $1 AND witness = $2
           LIMIT 1""",
        checkpoint,
        cosignature.witness,
        cosignature.line,
        datetime.fromtimestamp(cosignature.timestamp, UTC),
    )
    assert row is not None
    return Cosignature(row["witness"], int(row["cosigned_at"].timestamp()), row["line"])


async def lines(pool: asyncpg.Pool, checkpoint: int) -> list[str]:
    rows = await pool.fetch(
        "SELECT line FROM checkpoint_cosignatures WHERE checkpoint = $1 ORDER BY received_at",
        checkpoint,
    )
    return [str(r["line"]) for r in rows]


async def by_checkpoint(pool: asyncpg.Pool) -> dict[int, list[str]]:
    rows = await pool.fetch(
        "SELECT checkpoint, line FROM checkpoint_cosignatures ORDER BY checkpoint, received_at"
    )
    found: dict[int, list[str]] = {}
    for row in rows:
        found.setdefault(int(row["checkpoint"]), []).append(str(row["line"]))
    return found
