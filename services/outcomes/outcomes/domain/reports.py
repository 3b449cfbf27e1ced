"""The six reports of DESIGN.md rule 12, each as tables by race and by ethnicity, published with
small-cell suppression (`tables.publish_*`).

Denominators are whole cohorts: everyone referred in the period, admitted or not, for the
pipeline, re-arrest and equity reports; everyone admitted for intake, engagement and
circumstances. Every count is of people (or of participant-months, where a table says so).
"""

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import get_args

from offramp_contracts.events.circumstances import EmploymentStatus, HousingStatus, IncomeStatus
from outcomes.domain.history import STANDINGS, ReferralHistory, Status
from outcomes.domain.population import (
    DOORS,
    GROUPS,
    SOURCES,
    Population,
    ReportQuery,
    add_months,
    group_of,
    median,
)
from outcomes.domain.survival import (
    Observation,
    Step,
    at_risk_at,
    kaplan_meier,
    survival_at,
)
from outcomes.domain.tables import (
    TOTAL,
    Breakdown,
    CountTable,
    Published,
    StatTable,
    Suppression,
    count_table,
    publish_counts,
    publish_statistics,
)

DAYS_PER_MONTH = 365.25 / 12
FOLLOW_UP_MONTHS = 18
SURVIVAL_DAYS = (30, 90, 180, 365, 730)
Table = CountTable | StatTable
Builder = Callable[[Population, ReportQuery, Breakdown], Iterator[Table]]


@dataclass(frozen=True)
class Report:
    query: ReportQuery
    tables: tuple[Published, ...]

    @property
    def suppressions(self) -> tuple[Suppression, ...]:
        return tuple(s for t in self.tables for s in t.suppressions)


def build_report(query: ReportQuery, population: Population) -> Report:
    """The reference: every report from the folded histories (`domain.tallied` builds the same
    tables from counts that PostgreSQL makes, and is what the service serves)."""
    builder = BUILDERS[query.report]
    return publish(query, lambda breakdown: builder(population, query, breakdown))


def publish(query: ReportQuery, tables_of: Callable[[Breakdown], Iterator[Table]]) -> Report:
    published: list[Published] = []
    breakdowns: tuple[Breakdown, ...] = ("race", "ethnicity")
    for breakdown in breakdowns:
        for table in tables_of(breakdown):
            if isinstance(table, CountTable):
                published.append(publish_counts(table, query.threshold))
            else:
                published.append(publish_statistics(table, query.threshold))
    return Report(query, tuple(published))


def _by(
    people: list[ReferralHistory], breakdown: Breakdown, column: Callable[[ReferralHistory], str]
) -> Iterator[tuple[str, str]]:
    return ((group_of(h, breakdown), column(h)) for h in people)


def _stats(
    name: str,
    title: str,
    breakdown: Breakdown,
    people: list[ReferralHistory],
    statistics: dict[str, Callable[[list[ReferralHistory]], float | None]],
    unit: str = "people",
) -> StatTable:
    groups = GROUPS[breakdown]
    members = {g: [h for h in people if group_of(h, breakdown) == g] for g in groups}
    members[TOTAL] = people
    values = {
        (g, stat): compute(members[g])
        for g in (*groups, TOTAL)
        for stat, compute in statistics.items()
    }
    n = {g: len(members[g]) for g in groups}
    return StatTable(name, title, breakdown, groups, tuple(statistics), n, values, unit)


def pipeline(population: Population, query: ReportQuery, b: Breakdown) -> Iterator[Table]:
    people, groups = population.cohort, GROUPS[b]
    yield count_table(
        "referrals_by_door", "Referrals by door", b, groups, DOORS,
        _by(people, b, lambda h: h.referral.door),
    )  # fmt: skip
    yield count_table(
        "referrals_by_source", "Referrals by source", b, groups, SOURCES,
        _by(people, b, lambda h: h.referral.source),
    )  # fmt: skip
    yield count_table(
        "eligibility", "Eligibility as last decided", b, groups,
        ("eligible", "ineligible", "needs_review", "not_decided"),
        _by(people, b, lambda h: h.decision or "not_decided"),
    )  # fmt: skip
    ranked = Counter(rule for h in people for rule in h.failed_rules)
    yield count_table(
        "failed_rules", "Rules failed, most failed first (a referral may fail several)", b,
        groups, tuple(rule for rule, _ in ranked.most_common()),
        ((group_of(h, b), rule) for h in people for rule in h.failed_rules),
        partition=False, percent_of="none",
    )  # fmt: skip
    reviewed = [h for h in people if h.review is not None]
    yield count_table(
        "review_decisions", "The liaison prosecutor's review decisions", b, groups,
        ("approved", "declined"), _by(reviewed, b, lambda h: str(h.review)),
    )  # fmt: skip
    yield count_table(
        "standing", "What each referral came to (admitted, waitlisted, withdrawn, ...)", b,
        groups, STANDINGS, _by(people, b, lambda h: h.standing),
    )  # fmt: skip
    waited = [h for h in people if h.waitlisted_on is not None]
    until = query.observed_until

    def days_waited(h: ReferralHistory) -> float:
        assert h.waitlisted_on is not None
        end = h.admitted_on or h.withdrawn_on or until
        return float((end - h.waitlisted_on).days)

    yield _stats(
        "waitlist", "Time on the waitlist (days; to admission, withdrawal or the report's date)",
        b, waited, {
            "median_days_waited": lambda hs: median([days_waited(h) for h in hs]),
            "median_days_to_admission": lambda hs: median(
                [days_waited(h) for h in hs if h.admitted_on is not None]
            ),
        },
    )  # fmt: skip


def _admitted(population: Population) -> list[ReferralHistory]:
    return [h for h in population.cohort if h.admitted_on is not None]


def intake(population: Population, query: ReportQuery, b: Breakdown) -> Iterator[Table]:
    admitted, groups = _admitted(population), GROUPS[b]
    yield count_table(
        "intake_assessment", "Intake assessments: within the site's window, late, not yet done",
        b, groups, ("within", "late", "no_window", "not_assessed"),
        _by(admitted, b, lambda h: h.assessment_timing or "not_assessed"),
    )  # fmt: skip

    def days(h: ReferralHistory) -> float:
        assert h.assessed_on is not None
        return float((h.assessed_on - h.referral.referred_on).days)

    assessed = [h for h in admitted if h.assessed_on is not None]
    yield _stats(
        "days_to_assessment", "Days from referral to intake assessment", b, assessed,
        {"median_days": lambda hs: median([days(h) for h in hs])},
    )  # fmt: skip
    missed = [h for h in admitted if h.window_missed_on is not None]
    yield count_table(
        "after_missed_window", "The prosecutor's decision after a missed intake window", b,
        groups, ("continue", "file_charge", "awaiting_decision"),
        _by(missed, b, lambda h: h.prosecutor_decisions[0] if h.prosecutor_decisions
            else "awaiting_decision"),
    )  # fmt: skip


def _months_in_programme(h: ReferralHistory, until: date) -> float:
    assert h.admitted_on is not None
    end = min(h.closed_on or until, until)
    return max((end - h.admitted_on).days, 0) / DAYS_PER_MONTH


def engagement(population: Population, query: ReportQuery, b: Breakdown) -> Iterator[Table]:
    admitted, groups, until = _admitted(population), GROUPS[b], query.observed_until
    yield count_table(
        "engaged", "Engaged (at least one contact with a case manager)", b, groups,
        ("engaged", "not_engaged"),
        _by(admitted, b, lambda h: "engaged" if h.engaged_on else "not_engaged"),
    )  # fmt: skip
    yield count_table(
        "inactive", "Inactive on the report's date (no contact for the site's period)", b,
        groups, ("active", "inactive", "closed"),
        _by(admitted, b, lambda h: "closed" if h.closed_on else
            "inactive" if h.inactive else "active"),
    )  # fmt: skip

    def per_month(hs: list[ReferralHistory]) -> float | None:
        months = sum(_months_in_programme(h, until) for h in hs)
        return round(sum(len(h.contacts) for h in hs) / months, 2) if months else None

    def first_contact(hs: list[ReferralHistory]) -> float | None:
        waits = [
            float((min(h.contacts) - h.admitted_on).days)
            for h in hs
            if h.contacts and h.admitted_on is not None
        ]
        return median(waits)

    yield _stats(
        "contacts", "Contacts per participant-month, and days from admission to first contact",
        b, admitted,
        {"contacts_per_participant_month": per_month, "median_days_to_first_contact": first_contact},
    )  # fmt: skip


def status_in_month(statuses: list[Status], start: date, month: int) -> str:
    """The status as it stood at the end of month `month` after `start` (month 0 being the
    month of referral), or not_recorded."""
    end = add_months(start, month + 1)
    known = [s for s in statuses if s.on < end]
    return max(known, key=lambda s: s.on).value if known else "not_recorded"


def circumstances(population: Population, query: ReportQuery, b: Breakdown) -> Iterator[Table]:
    admitted, groups, until = _admitted(population), GROUPS[b], query.observed_until
    vocabularies = {
        "housing": get_args(HousingStatus),
        "income": get_args(IncomeStatus),
        "employment": get_args(EmploymentStatus),
    }
    for kind, statuses in vocabularies.items():
        columns = (*statuses, "not_recorded")
        baseline: list[tuple[str, str]] = []
        after: list[tuple[str, str]] = []
        for h in admitted:
            start, group = h.referral.referred_on, group_of(h, b)
            own: list[Status] = getattr(h, kind)
            for month in range(FOLLOW_UP_MONTHS + 1):
                month_start, month_end = add_months(start, month), add_months(start, month + 1)
                if month_end > until or (h.closed_on is not None and h.closed_on < month_start):
                    break
                cell = (group, status_in_month(own, start, month))
                (baseline if month == 0 else after).append(cell)
        yield count_table(
            f"{kind}_month_of_referral", f"{kind.title()} status in the month of referral",
            b, groups, columns, baseline, unit="participant-months",
        )  # fmt: skip
        yield count_table(
            f"{kind}_months_1_to_18", f"{kind.title()} status in months 1 to 18 after referral",
            b, groups, columns, after, unit="participant-months",
        )  # fmt: skip


def _rearrest_within(
    population: Population, query: ReportQuery, b: Breakdown, months: int, name: str
) -> CountTable:
    """Only people whose whole follow-up has elapsed are in the denominator."""
    followed = [
        h
        for h in population.cohort
        if add_months(h.referral.referred_on, months) <= query.observed_until
    ]

    def outcome(h: ReferralHistory) -> str:
        limit = add_months(h.referral.referred_on, months)
        return (
            "rearrested" if any(d <= limit for d in population.rearrests(h)) else "not_rearrested"
        )

    title = f"New arrest within {months} months of referral (follow-up fully elapsed)"
    return count_table(
        name, title, b, GROUPS[b], ("rearrested", "not_rearrested"), _by(followed, b, outcome)
    )


def observations(
    population: Population, query: ReportQuery, hs: list[ReferralHistory]
) -> list[Observation]:
    seen: list[Observation] = []
    for h in hs:
        first = next(iter(population.rearrests(h)), None)
        if first is not None and first <= query.observed_until:
            seen.append(Observation((first - h.referral.referred_on).days, True))
        else:
            seen.append(Observation((query.observed_until - h.referral.referred_on).days, False))
    return [o for o in seen if o.days >= 0]


def rearrest(population: Population, query: ReportQuery, b: Breakdown) -> Iterator[Table]:
    yield _rearrest_within(population, query, b, 6, "rearrest_6_months")
    yield _rearrest_within(population, query, b, 24, "rearrest_2_years")

    curves: dict[int, list[Step]] = {}  # one curve per group, read at every point

    def curve(hs: list[ReferralHistory]) -> list[Step]:
        if id(hs) not in curves:
            curves[id(hs)] = kaplan_meier(observations(population, query, hs))
        return curves[id(hs)]

    def point(days: int) -> Callable[[list[ReferralHistory]], float | None]:
        def at(hs: list[ReferralHistory]) -> float | None:
            steps = curve(hs)
            # A point with few people still followed would show how few: left out.
            if at_risk_at(steps, days, len(hs)) <= query.threshold:
                return None
            return round(100 * survival_at(steps, days), 1)

        return at

    yield _stats(
        "time_to_rearrest",
        "Kaplan–Meier: % not re-arrested N days after referral (censored at the report's date)",
        b, population.cohort, {f"day_{d}": point(d) for d in SURVIVAL_DAYS},
    )  # fmt: skip


def equity(population: Population, query: ReportQuery, b: Breakdown) -> Iterator[Table]:
    people = population.cohort
    members = [(group_of(h, b), "referrals") for h in people]
    members += [
        (group_of(h, b), "eligible_not_diverted") for h in people if h.eligible_not_diverted
    ]
    members += [(group_of(h, b), "admissions") for h in people if h.admitted_on is not None]
    members += [(group_of(h, b), "closures") for h in people if h.closed_on is not None]
    yield count_table(
        "equity", "Each group's share of referrals, of the eligible but not diverted, of "
        "admissions and of closures", b, GROUPS[b],
        ("referrals", "eligible_not_diverted", "admissions", "closures"), members,
        partition=False, percent_of="column",
    )  # fmt: skip
    yield from rearrest(population, query, b)


BUILDERS: dict[str, Builder] = {
    "pipeline": pipeline,
    "intake": intake,
    "engagement": engagement,
    "circumstances": circumstances,
    "rearrest": rearrest,
    "equity": equity,
}
