"""The reports counted over the folded rows the consumer keeps (`folding`): one row a referral
in `folds`, and in `status_spans` its housing, income and employment statuses as spans of
months since referral. No fact is read and nothing is sorted but the few rows a table needs,
so a report costs a GROUP BY over its cohort.

The rows hold everything recorded, so they answer a report as known on any instant no earlier
than the last row recorded in the jurisdiction (`tallies.PostgresTallies` checks); what depends
on the report's date ($6: waits, follow-up, censoring, months followed) is computed here.
Arguments are those of the fact path's queries, $1..$6."""

from outcomes.adapters.fold_sql import months_ending_by, phase_months
from outcomes.adapters.plans import PLANS, grouped

_COHORT = """
until AS (SELECT $6::date AS day),  -- typed for the queries that read no day
cohort AS (
    SELECT * FROM folds
    WHERE jurisdiction = $1 AND recorded_at <= $2
      AND ($3::text IS NULL OR door = $3)
      AND ($4::date IS NULL OR referred_on >= $4)
      AND ($5::date IS NULL OR referred_on <= $5)
),"""

_STANDING = """
standing AS (
    SELECT k.*, least(k.first_arrest, k.next_diversion) AS first_rearrest,
        CASE WHEN admitted_on IS NOT NULL THEN 'admitted'
             WHEN withdrawn_on IS NOT NULL THEN 'withdrawn'
             WHEN review = 'declined' THEN 'declined_at_review'
             WHEN decision = 'ineligible' THEN 'ineligible'
             WHEN waitlisted_on IS NOT NULL THEN 'waitlisted'
             WHEN decision = 'needs_review' THEN 'awaiting_review'
             ELSE 'awaiting_decision' END AS standing
    FROM cohort k
)"""


# `status_spans` holds the admitted's statuses, and for each kind a 'not_recorded' span from
# month 0 to the first status (to the end if none), with the months of each phase they fill
# once their follow-up is over; only people referred less than that long before the report's
# date are counted here, from their spans.
def _filled(lo: int, hi: int, settled: str) -> str:
    followed = f"least(months, {months_ending_by('referred_on', '$6::date')})"
    return (
        f"CASE WHEN settled_on <= $6::date THEN {settled} "
        f"ELSE {phase_months('since', 'until', followed, lo, hi)} END"
    )


_CIRCUMSTANCES = f"""WITH until AS (SELECT $6::date AS day, $2::timestamptz AS known_on),
summed AS (
    SELECT kind, race, ethnicity, value,
           sum({_filled(0, 0, "month_of_referral")})::bigint AS month_of_referral,
           sum({_filled(1, 18, "months_1_to_18")})::bigint AS months_1_to_18
    FROM status_spans
    WHERE jurisdiction = $1
      AND ($3::text IS NULL OR door = $3)
      AND ($4::date IS NULL OR referred_on >= $4)
      AND ($5::date IS NULL OR referred_on <= $5)
    GROUP BY kind, race, ethnicity, value
)
SELECT kind || '_' || p.phase AS tally, race, ethnicity, value AS key, p.n
FROM summed, LATERAL (VALUES ('month_of_referral', month_of_referral),
                             ('months_1_to_18', months_1_to_18)) AS p(phase, n)
WHERE p.n > 0"""

_PROGRAMME_DAYS = """
SELECT race, ethnicity,
       greatest(least(coalesce(closed_on, $6::date), $6::date) - admitted_on, 0) AS days
FROM cohort WHERE admitted_on IS NOT NULL
ORDER BY referred_on, referral_id"""

_FAILED = """
failed AS (
    SELECT k.referral_id, k.race, k.ethnicity, k.referred_on, rule
    FROM cohort k, unnest(k.failed_rules) AS rule
)
SELECT race, ethnicity, rule, count(*) AS n,
       (array_agg(referral_id ORDER BY referred_on, referral_id))[1] AS first_referral,
       min(referred_on) AS first_referred_on
FROM failed GROUP BY race, ethnicity, rule"""


def _queries() -> dict[str, str]:
    sql = {
        name: "WITH" + _COHORT + _STANDING + grouped(plan, "standing")
        for name, plan in PLANS.items()
        if name != "circumstances"
    }
    sql["circumstances"] = _CIRCUMSTANCES
    sql["programme"] = "WITH" + _COHORT.rstrip(",") + _PROGRAMME_DAYS
    sql["failed_rules"] = "WITH" + _COHORT + _FAILED
    return sql


QUERIES = _queries()
