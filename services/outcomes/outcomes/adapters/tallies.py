"""The reports' counting done by PostgreSQL: each referral's history folded by one GROUP BY over
the read model (facts in the order they were recorded, as `history.histories` folds them), then
counted by race, ethnicity and whatever a table is about, so that only small tables come back.

What comes back is `domain.tallied.Tallies`; the tables, their suppression and every statistic
are computed from it in Python. "As known on a date" stays a WHERE on each row's recorded_at.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

import asyncpg

from outcomes.domain.population import ReportQuery
from outcomes.domain.tallied import FirstHolder, Tallies

# The facts whose order matters (the last decision, the first prosecutor's decision...) are
# folded in one presorted GroupAggregate; those only counted are hashed apart from them, so
# that contacts, the bulk of a case's events, are never sorted.
_SELECTED = """
until AS (SELECT $6::date AS day),
cohort AS (
    SELECT referral_id, person, door, source, race, ethnicity, referred_on
    FROM referrals
    WHERE jurisdiction = $1 AND recorded_at <= $2
      AND ($3::text IS NULL OR door = $3)
      AND ($4::date IS NULL OR referred_on >= $4)
      AND ($5::date IS NULL OR referred_on <= $5)
),
owned AS NOT MATERIALIZED (
    SELECT coalesce(f.referral_id, c.referral_id) AS owner, f.kind, f.value, f.on_date,
           f.recorded_at, f.position
    FROM facts f
    LEFT JOIN cases c
        ON c.case_id = f.case_id AND c.jurisdiction = $1 AND c.recorded_at <= $2
    WHERE f.jurisdiction = $1 AND f.recorded_at <= $2
),"""

_LAST = "ORDER BY recorded_at DESC, position DESC"

_FOLDED = f"""
ordered AS (
    SELECT owner,
        (array_agg(value {_LAST}) FILTER (WHERE kind = 'decided'))[1] AS decision,
        reverse(string_agg(CASE WHEN kind = 'reviewed' THEN 'r'
                                WHEN value = 'ineligible' THEN 'i' ELSE 'o' END, '' {_LAST})
                FILTER (WHERE kind IN ('decided', 'reviewed'))) AS decided_then_reviewed,
        (array_agg(value {_LAST}) FILTER (WHERE kind = 'reviewed'))[1] AS review,
        (array_agg(on_date {_LAST}) FILTER (WHERE kind = 'waitlisted'))[1] AS waitlisted_on,
        (array_agg(on_date {_LAST}) FILTER (WHERE kind = 'admitted'))[1] AS admitted_on,
        (array_agg(on_date {_LAST}) FILTER (WHERE kind = 'withdrawn'))[1] AS withdrawn_on,
        (array_agg(on_date {_LAST}) FILTER (WHERE kind = 'assessed'))[1] AS assessed_on,
        (array_agg(value {_LAST}) FILTER (WHERE kind = 'assessed'))[1] AS assessment_timing,
        (array_agg(value {_LAST}) FILTER (WHERE kind = 'prosecutor_decision'))
            AS prosecutor_decisions,
        (array_agg(kind {_LAST}) FILTER (WHERE kind IN ('inactive', 'active')))[1] AS activity,
        (array_agg(on_date {_LAST}) FILTER (WHERE kind = 'closed'))[1] AS closed_on
    FROM owned
    WHERE kind = ANY($7::text[])
    GROUP BY owner
),
counted AS (
    SELECT owner,
        count(*) FILTER (WHERE kind = 'contact') AS contacts,
        min(on_date) FILTER (WHERE kind = 'contact') AS first_contact,
        bool_or(kind = 'engaged') AS engaged,
        bool_or(kind = 'window_missed') AS window_missed,
        array_agg(on_date) FILTER (WHERE kind = 'arrest') AS arrests
    FROM owned
    WHERE kind = ANY($8::text[])
    GROUP BY owner
),
history AS (
    SELECT k.*, o.decision, o.review, o.waitlisted_on, o.admitted_on, o.withdrawn_on,
        o.assessed_on, o.assessment_timing, o.closed_on,
        o.prosecutor_decisions[array_upper(o.prosecutor_decisions, 1)] AS first_decision,
        coalesce(o.activity = 'inactive', false) AS inactive,
        coalesce(strpos(o.decided_then_reviewed, 'i') > 0
                 AND (strpos(o.decided_then_reviewed, 'r') = 0
                      OR strpos(o.decided_then_reviewed, 'i')
                         < strpos(o.decided_then_reviewed, 'r')), false) AS ineligible_by_policy,
        coalesce(n.contacts, 0) AS contacts, n.first_contact,
        coalesce(n.engaged, false) AS engaged, coalesce(n.window_missed, false) AS window_missed,
        n.arrests
    FROM cohort k
    LEFT JOIN ordered o ON o.owner = k.referral_id
    LEFT JOIN counted n ON n.owner = k.referral_id
),
standing AS (
    SELECT h.*,
        CASE WHEN admitted_on IS NOT NULL THEN 'admitted'
             WHEN withdrawn_on IS NOT NULL THEN 'withdrawn'
             WHEN review = 'declined' THEN 'declined_at_review'
             WHEN decision = 'ineligible' THEN 'ineligible'
             WHEN waitlisted_on IS NOT NULL THEN 'waitlisted'
             WHEN decision = 'needs_review' THEN 'awaiting_review'
             ELSE 'awaiting_decision' END AS standing
    FROM history h
)"""

# A later arrest diversion of the same person is a re-arrest, admitted or not, whatever the
# report's period or door (`Population.rearrests`). One window over the person's referrals
# finds it for all of them at once: a subquery per referral walks the whole table each time,
# since nothing indexes `person` (it is only ever read here).
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
        (SELECT min(d) FROM unnest(s.arrests) AS d WHERE d > s.referred_on),
        l.next_diversion
    ) AS first_rearrest
    FROM standing s JOIN later_diversions l USING (referral_id)
)"""


def _within(months: int) -> str:
    limit = f"(referred_on + interval '{months} months')::date"
    return (
        f"CASE WHEN {limit} <= $6::date THEN CASE WHEN first_rearrest <= {limit} "
        "THEN 'rearrested' ELSE 'not_rearrested' END END"
    )


def _admitted(key: str) -> str:
    return f"CASE WHEN admitted_on IS NOT NULL THEN {key} END"


@dataclass(frozen=True)
class Plan:
    """What a report needs: the kinds folded in order, those only counted, and its tallies as
    (tally, key) or (tally, key, weight column); a NULL key is not counted."""

    ordered: tuple[str, ...]
    counted: tuple[str, ...]
    tallies: tuple[tuple[str, ...], ...]
    rearrests: bool = False


_REARREST = (
    ("cohort", "''"),
    ("rearrest_6_months", _within(6)),
    ("rearrest_2_years", _within(24)),
    ("followed", "CASE WHEN first_rearrest <= $6::date "
     "THEN 'event:' || (first_rearrest - referred_on) "
     "ELSE 'censored:' || ($6::date - referred_on) END"),
)  # fmt: skip
_STANDING_KINDS = ("decided", "reviewed", "waitlisted", "admitted", "withdrawn")
PLANS: dict[str, Plan] = {
    "pipeline": Plan(_STANDING_KINDS, (), (
        ("door", "door"),
        ("source", "source"),
        ("eligibility", "coalesce(decision, 'not_decided')"),
        ("review", "review"),
        ("standing", "standing"),
        ("waited", "CASE WHEN waitlisted_on IS NOT NULL THEN "
         "(coalesce(admitted_on, withdrawn_on, $6::date) - waitlisted_on)::text END"),
        ("waited_to_admission", "CASE WHEN waitlisted_on IS NOT NULL AND admitted_on IS NOT NULL "
         "THEN (admitted_on - waitlisted_on)::text END"),
    )),
    "intake": Plan(("admitted", "assessed", "prosecutor_decision"), ("window_missed",), (
        ("assessment", _admitted("coalesce(assessment_timing, 'not_assessed')")),
        ("days_to_assessment", _admitted("(assessed_on - referred_on)::text")),
        ("after_missed_window", _admitted(
            "CASE WHEN window_missed THEN coalesce(first_decision, 'awaiting_decision') END")),
    )),
    "engagement": Plan(("admitted", "inactive", "active", "closed"), ("contact", "engaged"), (
        ("engaged", _admitted("CASE WHEN engaged THEN 'engaged' ELSE 'not_engaged' END")),
        ("activity", _admitted("CASE WHEN closed_on IS NOT NULL THEN 'closed' "
                               "WHEN inactive THEN 'inactive' ELSE 'active' END")),
        ("contacts", _admitted("''"), "contacts"),
        ("admitted", _admitted("''")),
        ("days_to_first_contact", _admitted("(first_contact - admitted_on)::text")),
    )),
    "circumstances": Plan(("admitted", "closed"), (), ()),
    "rearrest": Plan((), ("arrest",), _REARREST, rearrests=True),
    "equity": Plan((*_STANDING_KINDS, "closed"), ("arrest",), (
        ("equity", "'referrals'"),
        ("equity", "CASE WHEN standing IN ('waitlisted', 'withdrawn', 'declined_at_review') "
         "AND NOT ineligible_by_policy THEN 'eligible_not_diverted' END"),
        ("equity", _admitted("'admissions'")),
        ("equity", "CASE WHEN closed_on IS NOT NULL THEN 'closures' END"),
        *_REARREST,
    ), rearrests=True),
}  # fmt: skip


def _tally_sql(plan: Plan) -> str:
    """One pass over the folded cohort, one grouping set per tally: `which` says whose key a
    row carries (GROUPING's bit for it is the only one clear)."""
    keys = ", ".join(f"{t[1]} AS k{i}" for i, t in enumerate(plan.tallies))
    weights = sorted({t[2] for t in plan.tallies if len(t) > 2})
    sets = ", ".join(f"(race, ethnicity, k{i})" for i in range(len(plan.tallies)))
    columns = ", ".join(f"k{i}" for i in range(len(plan.tallies)))
    return (
        "WITH" + _SELECTED + _FOLDED + (_REARRESTS if plan.rearrests else "")
        + f""",
keyed AS (SELECT race, ethnicity, {", ".join(["", *weights])[2:] + ", " if weights else ""}{keys}
          FROM {"rearrests" if plan.rearrests else "standing"})
SELECT race, ethnicity, GROUPING({columns}) AS which, count(*) AS n,
       {"".join(f"sum({w})::bigint AS {w}, " for w in weights)}ARRAY[{columns}] AS keys
FROM keyed GROUP BY GROUPING SETS ({sets})"""
    )  # fmt: skip


# Months in the programme for contacts per participant-month, in the cohort's order: the
# reference adds them up one person at a time, and a float sum depends on its order.
_PROGRAMME_DAYS = (
    "WITH"
    + _SELECTED
    + _FOLDED
    + """
SELECT race, ethnicity,
       greatest(least(coalesce(closed_on, $6::date), $6::date) - admitted_on, 0) AS days
FROM standing WHERE admitted_on IS NOT NULL
ORDER BY referred_on, referral_id"""
)

# Rules failed, counted once a referral, and for the column order (most failed first, ties in
# the order the reference met them) each rule's first referral in the cohort's order.
_FAILED_RULES = (
    "WITH"
    + _SELECTED
    + """
failed AS (
    -- A failed rule is a fact of the referral itself, never of its case: no join to cases,
    -- whose nested loop over facts took seconds on tables not yet analysed.
    SELECT k.referral_id, k.race, k.ethnicity, k.referred_on, f.value AS rule
    FROM cohort k JOIN facts f ON f.referral_id = k.referral_id
    WHERE f.kind = 'failed_rule' AND f.jurisdiction = $1 AND f.recorded_at <= $2
    GROUP BY k.referral_id, k.race, k.ethnicity, k.referred_on, f.value
)
SELECT race, ethnicity, rule, count(*) AS n,
       (array_agg(referral_id ORDER BY referred_on, referral_id))[1] AS first_referral,
       min(referred_on) AS first_referred_on
FROM failed GROUP BY race, ethnicity, rule"""
)

_RULES_OF = """SELECT value FROM facts
WHERE referral_id = $1 AND kind = 'failed_rule' AND jurisdiction = $2 AND recorded_at <= $3
ORDER BY recorded_at, position"""


def _months_ending_by(start: str, day: str) -> str:
    """How many k ≥ 1 have add_months(start, k) <= day (`population.add_months` clamps a day
    to its month's end, as PostgreSQL's month arithmetic does): the months between their
    months, less one unless start's day of the month fits in day's month by day (it is no later,
    or day is its month's last). date_part, not extract: it runs a million times a report, and
    extract's numeric is several times slower than a double."""
    months = (
        f"(date_part('year', {day}) - date_part('year', {start})) * 12"
        f" + date_part('month', {day}) - date_part('month', {start})"
    )
    fits = (
        f"CASE WHEN date_part('day', {start}) <= date_part('day', {day})"
        f" OR date_part('day', ({day}) + 1) = 1 THEN 0 ELSE 1 END"
    )
    return f"greatest(0, ({months})::int - {fits})"


def _months_in(ended: str) -> str:
    """How many of a phase's months m (from p.lo, p.width of them) had ended, at
    add_months(start, m + 1), when `ended` of the months since referral had; all of them if
    nothing ends them (NULL)."""
    return (
        f"CASE WHEN {ended} IS NULL THEN p.width ELSE "
        f"least(greatest({ended} - p.lo, 0), p.width) END"
    )


# Participant-months by status without walking the months: a person's statuses, the first one
# recorded for a day standing for it, each hold from their day to the next, and how many
# month-ends fall in between is arithmetic on the calendar, done once a status (`counted_spans`:
# month-ends from referral to its day and to the next one's) rather than once a phase.
_CIRCUMSTANCES = (
    "WITH"
    + _SELECTED
    + _FOLDED
    + f""",
followed AS (
    SELECT referral_id, race, ethnicity, referred_on AS start, least(
        19, {_months_ending_by("referred_on", "$6::date")},
        CASE WHEN closed_on IS NULL THEN 19
             ELSE (referred_on <= closed_on)::int
                  + {_months_ending_by("referred_on", "closed_on")} END) AS months
    FROM standing WHERE admitted_on IS NOT NULL
),
phases AS (
    SELECT f.*, p.phase, p.lo, least(p.hi, f.months - 1) - p.lo + 1 AS width
    FROM followed f,
         (VALUES ('month_of_referral', 0, 0), ('months_1_to_18', 1, 18)) AS p(phase, lo, hi)
    WHERE least(p.hi, f.months - 1) >= p.lo
),
statuses AS (
    SELECT DISTINCT ON (owner, kind, on_date) owner, kind, on_date, value
    FROM owned WHERE kind IN ('housing', 'income', 'employment')
    ORDER BY owner, kind, on_date, recorded_at, position
),
spans AS (
    SELECT owner, kind, value, on_date AS since,
           lead(on_date) OVER (PARTITION BY owner, kind ORDER BY on_date) AS until
    FROM statuses
),
counted_spans AS (
    SELECT s.owner, s.kind, s.value, {_months_ending_by("f.start", "s.since")} AS since,
           CASE WHEN s.until IS NOT NULL THEN {_months_ending_by("f.start", "s.until")} END
               AS until
    FROM followed f JOIN spans s ON s.owner = f.referral_id
),
first_known AS (
    SELECT owner, kind, min(since) AS since FROM counted_spans GROUP BY owner, kind
),
months AS (
    SELECT p.race, p.ethnicity, s.kind, p.phase, s.value AS status,
           {_months_in("s.until")} - {_months_in("s.since")} AS n
    FROM phases p JOIN counted_spans s ON s.owner = p.referral_id
    UNION ALL
    SELECT p.race, p.ethnicity, k.kind, p.phase, 'not_recorded', {_months_in("fk.since")}
    FROM phases p CROSS JOIN (VALUES ('housing'), ('income'), ('employment')) AS k(kind)
    LEFT JOIN first_known fk ON fk.owner = p.referral_id AND fk.kind = k.kind
)
SELECT kind || '_' || phase AS tally, race, ethnicity, status AS key, sum(n)::bigint AS n
FROM months WHERE n > 0 GROUP BY 1, 2, 3, 4"""
)


def _count(
    plan: Plan, rows: list[asyncpg.Record], counts: dict[str, Counter[tuple[str, str, str]]]
) -> None:
    last = len(plan.tallies) - 1
    for row in rows:
        i = next(i for i in range(last + 1) if not row["which"] & (1 << (last - i)))
        key = row["keys"][i]
        if key is None:
            continue
        tally = plan.tallies[i]
        n = row[tally[2]] if len(tally) > 2 else row["n"]
        counts.setdefault(tally[0], Counter())[(row["race"], row["ethnicity"], key)] += n


@dataclass
class PostgresTallies:
    pool: asyncpg.Pool

    async def tally(self, query: ReportQuery) -> Tallies:
        args = (
            query.jurisdiction, query.as_known_on, query.door, query.period_from,
            query.period_to, query.observed_until,
        )  # fmt: skip
        plan = PLANS[query.report]
        kinds = (list(plan.ordered), list(plan.counted))
        counts: dict[str, Counter[tuple[str, str, str]]] = {}
        programme: tuple[tuple[str, str, int], ...] = ()
        holders: list[FirstHolder] = []
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            # The fold's sort and hashes take a few dozen MB at 100,000 referrals; in memory
            # they are twice as fast as spilled.
            await conn.execute("SET LOCAL work_mem = '256MB'")
            if query.report == "circumstances":
                for row in await conn.fetch(_CIRCUMSTANCES, *args, *kinds):
                    counts.setdefault(row["tally"], Counter())[
                        (row["race"], row["ethnicity"], row["key"])
                    ] += row["n"]
            else:
                _count(plan, await conn.fetch(_tally_sql(plan), *args, *kinds), counts)
            if query.report == "pipeline":
                holders = await self._failed_rules(conn, args, counts)
            if query.report == "engagement":
                days = await conn.fetch(_PROGRAMME_DAYS, *args, ["admitted", "closed"], [])
                programme = tuple((r["race"], r["ethnicity"], r["days"]) for r in days)
        return Tallies(counts, programme, tuple(holders))

    async def _failed_rules(
        self,
        conn: asyncpg.Connection,
        args: tuple[object, ...],
        counts: dict[str, Counter[tuple[str, str, str]]],
    ) -> list[FirstHolder]:
        rules = counts.setdefault("failed_rules", Counter())
        first: dict[str, tuple[date, UUID]] = {}
        for row in await conn.fetch(_FAILED_RULES, *args):
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
