"""Finding one case's events in the ledger, through the indexes on the ids events carry."""

from datetime import datetime
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from audit.domain.timeline import LedgerEvent, ordered
from offramp_contracts import EventEnvelope
from offramp_contracts.identifiers import case_id_for_referral

# One statement, whatever the planner knows: the case's entries through the case index, kept
# apart (MATERIALIZED) so the earliest that names a referral is found among them instead of by
# walking the whole ledger in sequence order (what a bare `ORDER BY seq LIMIT 1` over the
# ledger does before ANALYZE), then that referral's entries through the referral index. The
# expressions are the indexes' own (migration 0002), or the indexes would not serve them.
_CASE_EVENTS = """
    WITH of_case AS MATERIALIZED (
        SELECT seq, entry FROM ledger WHERE entry::jsonb #>> '{event,data,case_id}' = $1
    ), opened_by AS (
        SELECT entry::jsonb #>> '{event,data,referral_id}' AS referral_id FROM of_case
        WHERE entry::jsonb #>> '{event,data,referral_id}' IS NOT NULL
        ORDER BY seq LIMIT 1
    )
    SELECT seq, entry::jsonb -> 'event' AS event FROM of_case
    UNION ALL
    SELECT seq, entry::jsonb -> 'event' AS event FROM ledger
    WHERE entry::jsonb #>> '{event,data,referral_id}' = (SELECT referral_id FROM opened_by)
      AND seq NOT IN (SELECT seq FROM of_case)
    ORDER BY seq"""


# The same lookup, answering only what was recorded by an instant: the case's entries and its
# referral's are still found among all of them (a case is "opened by" its earliest entry naming a
# referral, whenever that was recorded), and the instant only cuts what is returned. Each entry
# comes back as stored, the canonical text, and is parsed once in Python (pydantic's parser):
# no `entry::jsonb -> 'event'` turning it into jsonb and back into text on the way out.
_CASE_EVENTS_AS_OF = """
    WITH of_case AS MATERIALIZED (
        SELECT seq, entry FROM ledger WHERE entry::jsonb #>> '{event,data,case_id}' = $1
    ), opened_by AS (
        SELECT entry::jsonb #>> '{event,data,referral_id}' AS referral_id FROM of_case
        WHERE entry::jsonb #>> '{event,data,referral_id}' IS NOT NULL
        ORDER BY seq LIMIT 1
    ), history AS (
        SELECT seq, entry FROM of_case
        UNION ALL
        SELECT seq, entry FROM ledger
        WHERE entry::jsonb #>> '{event,data,referral_id}' = (SELECT referral_id FROM opened_by)
          AND seq NOT IN (SELECT seq FROM of_case)
    )
    SELECT seq, entry FROM history
    WHERE (entry::jsonb #>> '{event,recorded_at}')::timestamptz <= $2
    ORDER BY seq"""


class _Entry(BaseModel):
    """What of a stored entry the timeline needs: the event (its seq is the row's)."""

    event: EventEnvelope


async def case_events_as_of(
    pool: asyncpg.Pool, case_id: UUID, instant: datetime
) -> list[LedgerEvent]:
    """The entries of `case_events` that were recorded by `instant`, in one statement."""
    rows = await pool.fetch(_CASE_EVENTS_AS_OF, str(case_id), instant)
    return [LedgerEvent(row["seq"], _Entry.model_validate_json(row["entry"]).event) for row in rows]


async def case_events(pool: asyncpg.Pool, case_id: UUID) -> list[LedgerEvent]:
    """Every entry about the case, and about the referral that opened it."""
    rows = await pool.fetch(_CASE_EVENTS, str(case_id))
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
