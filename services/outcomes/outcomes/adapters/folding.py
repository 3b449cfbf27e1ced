"""The folded rows (`folds`, `status_spans`) kept in step with the facts: whenever facts,
cases or referrals are kept, in the same transaction, the referrals they touch are folded
again from all their facts, with the very fold the past-date reports use (`fold_sql`). A
referral is refolded whole rather than patched, so facts arriving out of their recorded order
(a case fact before its case, a redrive) fold as they would in order."""

from collections.abc import Iterable
from uuid import UUID

import asyncpg

from outcomes.adapters.fold_sql import (
    CLOSED_MONTHS,
    COUNTED,
    FIRST_ARREST,
    HISTORY,
    ORDERED,
    SPANS,
    phase_months,
)
from outcomes.adapters.fold_sql import months_ending_by as months

# The referrals touched: those named ($1), those of the cases named ($2), and every referral of
# the same person as a new one ($3: a later arrest diversion is a re-arrest of the earlier).
_TARGETS = """SELECT array(
    SELECT referral_id FROM referrals WHERE referral_id = ANY($1::uuid[])
    UNION SELECT referral_id FROM cases WHERE case_id = ANY($2::uuid[])
    UNION SELECT o.referral_id FROM referrals n
          JOIN referrals o ON o.person = n.person AND o.jurisdiction = n.jurisdiction
          WHERE n.referral_id = ANY($3::uuid[]))"""

_MISSING = """SELECT array(SELECT referral_id FROM referrals r
    WHERE NOT EXISTS (SELECT 1 FROM folds f WHERE f.referral_id = r.referral_id))"""

_OWNED = """
owned AS (
    SELECT k.referral_id AS owner, f.kind, f.value, f.on_date, f.recorded_at, f.position
    FROM cohort k
    JOIN facts f ON f.referral_id = k.referral_id AND f.jurisdiction = k.jurisdiction
    UNION ALL
    SELECT k.referral_id, f.kind, f.value, f.on_date, f.recorded_at, f.position
    FROM cohort k
    JOIN cases c ON c.referral_id = k.referral_id AND c.jurisdiction = k.jurisdiction
    JOIN facts f ON f.case_id = c.case_id AND f.referral_id IS NULL
                AND f.jurisdiction = k.jurisdiction
)"""

_COLUMNS = (
    "referral_id", "jurisdiction", "door", "source", "race", "ethnicity", "referred_on",
    "recorded_at", "decision", "review", "ineligible_by_policy", "waitlisted_on", "admitted_on",
    "withdrawn_on", "failed_rules", "assessed_on", "assessment_timing", "window_missed",
    "first_decision", "contacts", "first_contact", "engaged", "inactive", "closed_on",
    "first_arrest", "next_diversion",
)  # fmt: skip

_FOLDS = f"""WITH
cohort AS (SELECT * FROM referrals WHERE referral_id = ANY($1::uuid[])),{_OWNED},
ordered AS (SELECT owner, {ORDERED} FROM owned GROUP BY owner),
counted AS (
    SELECT owner, {COUNTED},
        array_agg(DISTINCT value) FILTER (WHERE kind = 'failed_rule') AS failed_rules
    FROM owned GROUP BY owner
),
history AS (
    SELECT k.*, {HISTORY},
        coalesce(n.failed_rules, '{{}}') AS failed_rules, {FIRST_ARREST} AS first_arrest,
        (SELECT min(o.referred_on) FROM referrals o
         WHERE o.person = k.person AND o.jurisdiction = k.jurisdiction
           AND o.door = 'arrest_diversion' AND o.referred_on > k.referred_on) AS next_diversion
    FROM cohort k
    LEFT JOIN ordered o ON o.owner = k.referral_id
    LEFT JOIN counted n ON n.owner = k.referral_id
)
INSERT INTO folds ({", ".join(_COLUMNS)})
SELECT {", ".join(_COLUMNS)} FROM history
ON CONFLICT (referral_id) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS[1:])}"""

# Spans of the admitted only (circumstances counts no one else), with what the report reads of
# the referral, and the months of each phase they fill once the whole follow-up that closure
# leaves has elapsed (from `settled_on` on); a report before then counts them itself.
_SPANS = f"""WITH
cohort AS (
    SELECT *, {CLOSED_MONTHS} AS months FROM folds
    WHERE referral_id = ANY($1::uuid[]) AND admitted_on IS NOT NULL
),{_OWNED},
{SPANS},
counted_spans AS (
    SELECT s.owner, s.kind, s.value, least(19, {months("k.referred_on", "s.since")}) AS since,
           CASE WHEN s.until IS NOT NULL
                THEN least(19, {months("k.referred_on", "s.until")}) END AS until
    FROM spans s JOIN cohort k ON k.referral_id = s.owner
),
first_known AS (
    SELECT owner, kind, min(since) AS since FROM counted_spans GROUP BY owner, kind
),
every AS (
    SELECT owner, kind, value, since, until FROM counted_spans
    UNION ALL
    SELECT k.referral_id, kinds.kind, 'not_recorded', 0, fk.since
    FROM cohort k CROSS JOIN (VALUES ('housing'), ('income'), ('employment')) AS kinds(kind)
    LEFT JOIN first_known fk ON fk.owner = k.referral_id AND fk.kind = kinds.kind
)
INSERT INTO status_spans (referral_id, jurisdiction, door, race, ethnicity, referred_on, kind,
                          value, since, until, months, settled_on, month_of_referral,
                          months_1_to_18)
SELECT k.referral_id, k.jurisdiction, k.door, k.race, k.ethnicity, k.referred_on, e.kind,
       e.value, e.since, e.until, k.months,
       (k.referred_on + make_interval(months => k.months))::date,
       {phase_months("e.since", "e.until", "k.months", 0, 0)},
       {phase_months("e.since", "e.until", "k.months", 1, 18)}
FROM every e JOIN cohort k ON k.referral_id = e.owner"""


async def refold(
    conn: asyncpg.Connection,
    referrals: Iterable[UUID] = (),
    cases: Iterable[UUID] = (),
    new_referrals: Iterable[UUID] = (),
) -> int:
    """Fold again the referrals named, those of the cases named, and the other referrals of
    each new referral's person; returns how many."""
    targets: list[UUID] = await conn.fetchval(
        _TARGETS, list(set(referrals)), list(set(cases)), list(set(new_referrals))
    )
    await _refold(conn, targets)
    return len(targets)


async def refold_missing(conn: asyncpg.Connection) -> int:
    """Fold the referrals that have no folded row yet (kept before the rows were)."""
    targets: list[UUID] = await conn.fetchval(_MISSING)
    await _refold(conn, targets)
    return len(targets)


async def _refold(conn: asyncpg.Connection, targets: list[UUID]) -> None:
    if not targets:
        return
    # Two consumers (replicas, a start's refold_missing) refolding one referral at once would
    # each miss the other's uncommitted facts, and both insert its spans: the second waits, and
    # its statements (read committed) then see the first's commit. Taken in order, so two
    # batches lock alike.
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('outcomes-fold:' || t::text, 0)) "
        "FROM (SELECT t FROM unnest($1::uuid[]) AS t ORDER BY t) AS ordered",
        targets,
    )
    await conn.execute("DELETE FROM status_spans WHERE referral_id = ANY($1::uuid[])", targets)
    await conn.execute(_FOLDS, targets)
    await conn.execute(_SPANS, targets)
