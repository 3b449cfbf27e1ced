"""The SQL of a referral's fold, shared by the two places that fold: a report as known on a past
date (`tallies`, over the facts recorded by then) and the folded row kept per referral
(`folding`, over every fact, refreshed in the transaction that keeps a fact). One text for
both, so the two cannot fold differently.

Both read `owned`: (owner, referred_on, kind, value, on_date, recorded_at, position), a fact
with the referral it belongs to."""

LAST = "ORDER BY recorded_at DESC, position DESC"

# The facts whose order matters (the last decision, the first prosecutor's decision...), as
# the select list of a GROUP BY owner.
ORDERED = f"""
        (array_agg(value {LAST}) FILTER (WHERE kind = 'decided'))[1] AS decision,
        reverse(string_agg(CASE WHEN kind = 'reviewed' THEN 'r'
                                WHEN value = 'ineligible' THEN 'i' ELSE 'o' END, '' {LAST})
                FILTER (WHERE kind IN ('decided', 'reviewed'))) AS decided_then_reviewed,
        (array_agg(value {LAST}) FILTER (WHERE kind = 'reviewed'))[1] AS review,
        (array_agg(on_date {LAST}) FILTER (WHERE kind = 'waitlisted'))[1] AS waitlisted_on,
        (array_agg(on_date {LAST}) FILTER (WHERE kind = 'admitted'))[1] AS admitted_on,
        (array_agg(on_date {LAST}) FILTER (WHERE kind = 'withdrawn'))[1] AS withdrawn_on,
        (array_agg(on_date {LAST}) FILTER (WHERE kind = 'assessed'))[1] AS assessed_on,
        (array_agg(value {LAST}) FILTER (WHERE kind = 'assessed'))[1] AS assessment_timing,
        (array_agg(value {LAST}) FILTER (WHERE kind = 'prosecutor_decision'))
            AS prosecutor_decisions,
        (array_agg(kind {LAST}) FILTER (WHERE kind IN ('inactive', 'active')))[1] AS activity,
        (array_agg(on_date {LAST}) FILTER (WHERE kind = 'closed'))[1] AS closed_on"""

# Those only counted, hashed apart from them so that contacts are never sorted.
COUNTED = """
        count(*) FILTER (WHERE kind = 'contact') AS contacts,
        min(on_date) FILTER (WHERE kind = 'contact') AS first_contact,
        bool_or(kind = 'engaged') AS engaged,
        bool_or(kind = 'window_missed') AS window_missed,
        array_agg(on_date) FILTER (WHERE kind = 'arrest') AS arrests"""

# A referral's history from its cohort row k, its ordered o and its counted n.
HISTORY = """
        o.decision, o.review, o.waitlisted_on, o.admitted_on, o.withdrawn_on,
        o.assessed_on, o.assessment_timing, o.closed_on,
        o.prosecutor_decisions[array_upper(o.prosecutor_decisions, 1)] AS first_decision,
        coalesce(o.activity = 'inactive', false) AS inactive,
        coalesce(strpos(o.decided_then_reviewed, 'i') > 0
                 AND (strpos(o.decided_then_reviewed, 'r') = 0
                      OR strpos(o.decided_then_reviewed, 'i')
                         < strpos(o.decided_then_reviewed, 'r')), false) AS ineligible_by_policy,
        coalesce(n.contacts, 0) AS contacts, n.first_contact,
        coalesce(n.engaged, false) AS engaged, coalesce(n.window_missed, false) AS window_missed,
        n.arrests"""

STANDING = """
        CASE WHEN admitted_on IS NOT NULL THEN 'admitted'
             WHEN withdrawn_on IS NOT NULL THEN 'withdrawn'
             WHEN review = 'declined' THEN 'declined_at_review'
             WHEN decision = 'ineligible' THEN 'ineligible'
             WHEN waitlisted_on IS NOT NULL THEN 'waitlisted'
             WHEN decision = 'needs_review' THEN 'awaiting_review'
             ELSE 'awaiting_decision' END AS standing"""

# The first arrest reported in the case after the day of referral.
FIRST_ARREST = "(SELECT min(d) FROM unnest(n.arrests) AS d WHERE d > k.referred_on)"

STATUS_KINDS = ("housing", "income", "employment")

# A person's statuses, the first one recorded for a day standing for it, each holding from its
# day to the next: (owner, kind, value, since, until), days.
SPANS = """
statuses AS (
    SELECT DISTINCT ON (owner, kind, on_date) owner, kind, on_date, value
    FROM owned WHERE kind IN ('housing', 'income', 'employment')
    ORDER BY owner, kind, on_date, recorded_at, position
),
spans AS (
    SELECT owner, kind, value, on_date AS since,
           lead(on_date) OVER (PARTITION BY owner, kind ORDER BY on_date) AS until
    FROM statuses
)"""


def months_ending_by(start: str, day: str) -> str:
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


def months_in(ended: str) -> str:
    """How many of a phase's months m (from p.lo, p.width of them) had ended, at
    add_months(start, m + 1), when `ended` of the months since referral had; all of them if
    nothing ends them (NULL)."""
    return (
        f"CASE WHEN {ended} IS NULL THEN p.width ELSE "
        f"least(greatest({ended} - p.lo, 0), p.width) END"
    )


# How many months from referral (the month of referral and 18 after, so 19 at most) a closure
# leaves to follow, whatever the report's date.
CLOSED_MONTHS = f"""least(19, CASE WHEN closed_on IS NULL THEN 19
    ELSE (referred_on <= closed_on)::int + {months_ending_by("referred_on", "closed_on")} END)"""


def phase_months(since: str, until: str, months: str, lo: int, hi: int) -> str:
    """The months m of a phase (lo..hi, within the `months` followed) in which a status held
    from month `since` to month `until` (NULL: still holding): `months_in` of one phase."""
    width = f"(least({hi}, {months} - 1) - {lo} + 1)"

    def ended(x: str) -> str:
        return (
            f"CASE WHEN {x} IS NULL THEN {width} ELSE least(greatest({x} - {lo}, 0), {width}) END"
        )

    return f"CASE WHEN least({hi}, {months} - 1) >= {lo} THEN {ended(until)} - {ended(since)} ELSE 0 END"


# Each admitted person's months followed (to 19: the month of referral and 18 after), cut at
# the report's date ($6) and at closure; and the phases those months fall in.
FOLLOWED = f"""
followed AS (
    SELECT referral_id, race, ethnicity, referred_on AS start,
           least({months_ending_by("referred_on", "$6::date")}, {CLOSED_MONTHS}) AS months
    FROM standing WHERE admitted_on IS NOT NULL
),
phases AS (
    SELECT f.*, p.phase, p.lo, least(p.hi, f.months - 1) - p.lo + 1 AS width
    FROM followed f,
         (VALUES ('month_of_referral', 0, 0), ('months_1_to_18', 1, 18)) AS p(phase, lo, hi)
    WHERE least(p.hi, f.months - 1) >= p.lo
)"""
