"""Finding one case's events in the ledger, through the indexes on the ids events carry."""

from uuid import UUID

import asyncpg

from audit.domain.timeline import LedgerEvent, ordered
from offramp_contracts import EventEnvelope
from offramp_contracts.identifiers import case_id_for_referral


async def case_events(pool: asyncpg.Pool, case_id: UUID) -> list[LedgerEvent]:
    """Every entry about the case, and about the referral that opened it."""
    referral_id = await pool.fetchval(
        """SELECT entry::jsonb #>> '{event,data,referral_id}' FROM ledger
           WHERE entry::jsonb #>> '{event,data,case_id}' = $1
             AND entry::jsonb #>> '{event,data,referral_id}' IS NOT NULL
           ORDER BY seq LIMIT 1""",
        str(case_id),
    )
    rows = await pool.fetch(
        """SELECT seq, entry::jsonb -> 'event' AS event FROM ledger
           WHERE entry::jsonb #>> '{event,data,case_id}' = $1
              OR entry::jsonb #>> '{event,data,referral_id}' = $2
           ORDER BY seq""",
        str(case_id),
        referral_id,
    )
    return ordered([LedgerEvent(row["seq"], EventEnvelope.from_wire(row["event"])) for row in rows])


async def referral_events(pool: asyncpg.Pool, referral_id: UUID) -> list[LedgerEvent]:
    """A referral's history runs on into the case it opened, if it opened one."""
    events = await case_events(pool, case_id_for_referral(referral_id))
    if events:
        return events
    rows = await pool.fetch(
        """SELECT seq, entry::jsonb -> 'event' AS event FROM ledger
           WHERE entry::jsonb #>> '{event,data,referral_id}' = $1 ORDER BY seq""",
        str(referral_id),
    )
    return [LedgerEvent(row["seq"], EventEnvelope.from_wire(row["event"])) for row in rows]
