"""What each report counts: its tallies as SQL keys over one folded row per referral, whichever
path made the rows (`tallies`: folded from the facts recorded by a past date; `folded`: the
rows the consumer keeps), and how the grouped rows come back as `Tallies` counts."""

from collections import Counter
from dataclasses import dataclass

import asyncpg


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


def grouped(plan: Plan, source: str) -> str:
    """One pass over `source` (a CTE of one row per referral with the columns the keys read),
    one grouping set per tally: `which` says whose key a row carries (GROUPING's bit for it is
    the only one clear)."""
    keys = ", ".join(f"{t[1]} AS k{i}" for i, t in enumerate(plan.tallies))
    weights = sorted({t[2] for t in plan.tallies if len(t) > 2})
    sets = ", ".join(f"(race, ethnicity, k{i})" for i in range(len(plan.tallies)))
    columns = ", ".join(f"k{i}" for i in range(len(plan.tallies)))
    carried = "".join(f"{w}, " for w in weights)
    return f""",
keyed AS (SELECT race, ethnicity, {carried}{keys} FROM {source})
SELECT race, ethnicity, GROUPING({columns}) AS which, count(*) AS n,
       {"".join(f"sum({w})::bigint AS {w}, " for w in weights)}ARRAY[{columns}] AS keys
FROM keyed GROUP BY GROUPING SETS ({sets})"""


Counts = dict[str, Counter[tuple[str, str, str]]]


def count_into(plan: Plan, rows: list[asyncpg.Record], counts: Counts) -> None:
    last = len(plan.tallies) - 1
    for row in rows:
        i = next(i for i in range(last + 1) if not row["which"] & (1 << (last - i)))
        key = row["keys"][i]
        if key is None:
            continue
        tally = plan.tallies[i]
        n = row[tally[2]] if len(tally) > 2 else row["n"]
        counts.setdefault(tally[0], Counter())[(row["race"], row["ethnicity"], key)] += n


def count_months_into(rows: list[asyncpg.Record], counts: Counts) -> None:
    for row in rows:
        counts.setdefault(row["tally"], Counter())[(row["race"], row["ethnicity"], row["key"])] += (
            row["n"]
        )
