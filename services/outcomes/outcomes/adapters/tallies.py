"""The reports' counting done by PostgreSQL, counted by race, ethnicity and whatever a table is
about, so that only small tables come back as `domain.tallied.Tallies`; the tables, their
suppression and every statistic are computed from them in Python.

Two paths give the same counts (`test_tallied_reports` holds both to the Python fold):
- as known now, that is on any instant no later than the last row recorded in the jurisdiction:
  a GROUP BY over the folded row the consumer keeps per referral (`folded`);
- as known on an earlier date: each referral's history folded by one GROUP BY over the facts
  recorded by then, in the order they were recorded (`history.histories` folds them so),
  below. "As known on" stays a WHERE on each row's recorded_at.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from uuid import UUID

import asyncpg

from outcomes.adapters import folded
from outcomes.adapters.fold_sql import (
    COUNTED,
    FOLLOWED,
    HISTORY,
    ORDERED,
    SPANS,
    STANDING,
    months_ending_by,
    months_in,
)
from outcomes.adapters.plans import PLANS, Counts, count_into, count_months_into, grouped
from outcomes.domain.population import ReportQuery
from outcomes.domain.tallied import FirstHolder, Tallies

Path = Literal["folded", "facts"]

_COHORT = """
until AS (SELECT $6::date AS day),  -- typed for the queries that read no day
cohort AS (
    SELECT referral_id, person, door, source, race, ethnicity, referred_on
    FROM referrals
    WHERE jurisdiction = $1 AND recorded_at <= $2
      AND ($3::text IS NULL OR door = $3)
      AND ($4::date IS NULL OR referred_on >= $4)
      AND ($5::date IS NULL OR referred_on <= $5)
),"""
_SELECTED = (
    _COHORT
    + """
owned AS NOT MATERIALIZED (
    SELECT coalesce(f.referral_id, c.referral_id) AS owner, f.kind, f.value, f.on_date,
           f.recorded_at, f.position
    FROM facts f
    LEFT JOIN cases c
        ON c.case_id = f.case_id AND c.jurisdiction = $1 AND c.recorded_at <= $2
    WHERE f.jurisdiction = $1 AND f.recorded_at <= $2
),"""
)

# The facts whose order matters are folded in one presorted GroupAggregate; those only counted
# are hashed apart from them, so that contacts, the bulk of a case's events, are never sorted.
_FOLDED = f"""
ordered AS (
    SELECT owner, {ORDERED}
    FROM owned WHERE kind = ANY($7::text[]) GROUP BY owner
),
counted AS (
    SELECT owner, {COUNTED}
    FROM owned WHERE kind = ANY($8::text[]) GROUP BY owner
),
history AS (
    SELECT k.*, {HISTORY}
    FROM cohort k
    LEFT JOIN ordered o ON o.owner = k.referral_id
    LEFT JOIN counted n ON n.owner = k.referral_id
),
standing AS (SELECT h.*, {STANDING} FROM history h)"""

# A later arrest diversion of the same person is a re-arrest, admitted or not, whatever the
# report's period or door (`Population.rearrests`). One window over the person's referrals
# finds it for all of them at once.
_REARRESTS = """,
later_diversions AS (
    SELECT referral_id, min(referred_on) FILTER (WHERE door = 'arrest_diversion') OVER (
        PARTITION BY person ORDER BY referred_on
        RANGE BETWEEN '1 day'::interval FOLLOWING AND UNBOUNDED FOLLOWING) AS next_diversion
    FROM referrals
    WHERE jurisdiction = $1 AND recorded_at <= $2
),
rearrests AS (
    SELECT s.*, least(
        (SELECT min(d) FROM unnest(s.arrests) AS d WHERE d > s.referred_on), l.next_diversion
    ) AS first_rearrest
    FROM standing s JOIN later_diversions l USING (referral_id)
)"""

# Months in the programme for contacts per participant-month, in the cohort's order: the
# reference adds them up one person at a time, and a float sum depends on its order.
_PROGRAMME_DAYS = """
SELECT race, ethnicity,
       greatest(least(coalesce(closed_on, $6::date), $6::date) - admitted_on, 0) AS days
FROM standing WHERE admitted_on IS NOT NULL
ORDER BY referred_on, referral_id"""

# Rules failed, counted once a referral, and for the column order (most failed first, ties in
# the order the reference met them) each rule's first referral in the cohort's order.
FAILED_RULES = """
SELECT race, ethnicity, rule, count(*) AS n,
       (array_agg(referral_id ORDER BY referred_on, referral_id))[1] AS first_referral,
       min(referred_on) AS first_referred_on
FROM failed GROUP BY race, ethnicity, rule"""

_FAILED = """
failed AS (
    -- A failed rule is a fact of the referral itself, never of its case: no join to cases.
    SELECT k.referral_id, k.race, k.ethnicity, k.referred_on, f.value AS rule
    FROM cohort k JOIN facts f ON f.referral_id = k.referral_id
    WHERE f.kind = 'failed_rule' AND f.jurisdiction = $1 AND f.recorded_at <= $2
    GROUP BY k.referral_id, k.race, k.ethnicity, k.referred_on, f.value
)"""

_RULES_OF = """SELECT value FROM facts
WHERE referral_id = $1 AND kind = 'failed_rule' AND jurisdiction = $2 AND recorded_at <= $3
ORDER BY recorded_at, position"""

# Participant-months by status without walking the months: how many month-ends fall between a
# status's day and the next one's is arithmetic on the calendar, done once a status.
_CIRCUMSTANCES = f""",
{SPANS},
{FOLLOWED},
counted_spans AS (
    SELECT s.owner, s.kind, s.value, {months_ending_by("f.start", "s.since")} AS since,
           CASE WHEN s.until IS NOT NULL THEN {months_ending_by("f.start", "s.until")} END
               AS until
    FROM followed f JOIN spans s ON s.owner = f.referral_id
),
first_known AS (
    SELECT owner, kind, min(since) AS since FROM counted_spans GROUP BY owner, kind
),
months AS (
    SELECT p.race, p.ethnicity, s.kind, p.phase, s.value AS status,
           {months_in("s.until")} - {months_in("s.since")} AS n
    FROM phases p JOIN counted_spans s ON s.owner = p.referral_id
    UNION ALL
    SELECT p.race, p.ethnicity, k.kind, p.phase, 'not_recorded', {months_in("fk.since")}
    FROM phases p CROSS JOIN (VALUES ('housing'), ('income'), ('employment')) AS k(kind)
    LEFT JOIN first_known fk ON fk.owner = p.referral_id AND fk.kind = k.kind
)
SELECT kind || '_' || phase AS tally, race, ethnicity, status AS key, sum(n)::bigint AS n
FROM months WHERE n > 0 GROUP BY 1, 2, 3, 4"""

_LAST_RECORDED = """SELECT greatest(
    (SELECT max(recorded_at) FROM referrals WHERE jurisdiction = $1),
    (SELECT max(recorded_at) FROM cases WHERE jurisdiction = $1),
    (SELECT max(recorded_at) FROM facts WHERE jurisdiction = $1))"""


@dataclass
class PostgresTallies:
    pool: asyncpg.Pool

    async def tally(self, query: ReportQuery, path: Path | None = None) -> Tallies:
        """Counted over the folded rows when the query's date is past everything recorded in
        its jurisdiction (the rows are then what a fold as known on it gives), over the facts
        otherwise; `path` forces one (the tests compare both with the reference)."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            # The fold's sort and hashes take a few dozen MB at 100,000 referrals; in memory
            # they are twice as fast as spilled.
            await conn.execute("SET LOCAL work_mem = '256MB'")
            if (path or await self.path_for(query, conn)) == "folded":
                return await self._tally(conn, query, folded.QUERIES, [])
            return await self._tally(conn, query, _FACT_QUERIES, _kinds(query))

    async def path_for(self, query: ReportQuery, conn: asyncpg.Connection | None = None) -> Path:
        """Folded rows if nothing in the query's jurisdiction was recorded after its date."""
        last = await (conn or self.pool).fetchval(_LAST_RECORDED, query.jurisdiction)
        return "folded" if last is None or last <= query.as_known_on else "facts"

    async def _tally(
        self,
        conn: asyncpg.Connection,
        query: ReportQuery,
        sql: dict[str, str],
        kinds: list[list[str]],
    ) -> Tallies:
        args = (
            query.jurisdiction, query.as_known_on, query.door, query.period_from,
            query.period_to, query.observed_until,
        )  # fmt: skip
        plan = PLANS[query.report]
        counts: Counts = {}
        programme: tuple[tuple[str, str, int], ...] = ()
        holders: list[FirstHolder] = []
        if query.report == "circumstances":
            count_months_into(await conn.fetch(sql["circumstances"], *args, *kinds), counts)
        else:
            count_into(plan, await conn.fetch(sql[query.report], *args, *kinds), counts)
        if query.report == "pipeline":
            holders = await _failed_rules(conn, sql["failed_rules"], args, counts)
        if query.report == "engagement":
            more = [["admitted", "closed"], []] if kinds else []
            days = await conn.fetch(sql["programme"], *args, *more)
            programme = tuple((r["race"], r["ethnicity"], r["days"]) for r in days)
        return Tallies(counts, programme, tuple(holders))


def _kinds(query: ReportQuery) -> list[list[str]]:
    plan = PLANS[query.report]
    return [list(plan.ordered), list(plan.counted)]


def _fact_queries() -> dict[str, str]:
    sql = {
        name: "WITH"
        + _SELECTED
        + _FOLDED
        + (_REARRESTS if plan.rearrests else "")
        + grouped(plan, "rearrests" if plan.rearrests else "standing")
        for name, plan in PLANS.items()
        if name != "circumstances"
    }
    sql["circumstances"] = "WITH" + _SELECTED + _FOLDED + _CIRCUMSTANCES
    sql["programme"] = "WITH" + _SELECTED + _FOLDED + _PROGRAMME_DAYS
    sql["failed_rules"] = "WITH" + _COHORT + _FAILED + FAILED_RULES
    return sql


_FACT_QUERIES = _fact_queries()


async def _failed_rules(
    conn: asyncpg.Connection, sql: str, args: tuple[object, ...], counts: Counts
) -> list[FirstHolder]:
    rules = counts.setdefault("failed_rules", Counter())
    first: dict[str, tuple[date, UUID]] = {}
    for row in await conn.fetch(sql, *args):
        rules[(row["race"], row["ethnicity"], row["rule"])] += row["n"]
        holder = (row["first_referred_on"], row["first_referral"])
        if row["rule"] not in first or (holder[0], str(holder[1])) < (
            first[row["rule"]][0],
            str(first[row["rule"]][1]),
        ):
            first[row["rule"]] = holder
    holders: list[FirstHolder] = []
    jurisdiction, by = str(args[0]), args[1]
    assert isinstance(by, datetime)
    for day, referral in sorted(set(first.values()), key=lambda h: (h[0], str(h[1]))):
        values = await conn.fetch(_RULES_OF, referral, jurisdiction, by)
        holders.append(FirstHolder(day, str(referral), tuple(v["value"] for v in values)))
    return holders
