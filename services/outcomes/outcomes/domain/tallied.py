"""The six reports built from tallies: people (or participant-months, or contacts) counted by
race, ethnicity and a key, as the read model's GROUP BY returns them. They give the very tables
`reports.BUILDERS` gives from the folded histories (the tests compare the two over a varied
population); only small tables cross from the database, so a report over 100,000 referrals
costs what its counting costs in PostgreSQL.

A tally's key is text: a column of a table, or a number of days for the medians and the
Kaplan–Meier curves (which are exact from counts of each value)."""

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import get_args

from offramp_contracts.events.circumstances import EmploymentStatus, HousingStatus, IncomeStatus
from outcomes.domain.history import STANDINGS
from outcomes.domain.population import DOORS, GROUPS, SOURCES, ReportQuery
from outcomes.domain.reports import DAYS_PER_MONTH, SURVIVAL_DAYS, Report, Table, publish
from outcomes.domain.survival import Step, at_risk_at, kaplan_meier_counted, survival_at
from outcomes.domain.tables import TOTAL, Breakdown, CountTable, StatTable, counted_table

Key = tuple[str, str, str]  # race, ethnicity, key


@dataclass(frozen=True)
class FirstHolder:
    """The first referral, in the cohort's order, that failed a rule, and the rules it failed
    in the order they were recorded: the reference ranks tied rules in the order it met them."""

    referred_on: date
    referral_id: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Tallies:
    counts: Mapping[str, Counter[Key]]
    # (race, ethnicity, days in the programme) of each admitted person, in the cohort's order.
    programme: tuple[tuple[str, str, int], ...] = ()
    first_holders: tuple[FirstHolder, ...] = ()

    def of(self, tally: str) -> Counter[Key]:
        return self.counts.get(tally, Counter())


def _group(key: Key, b: Breakdown) -> str:
    return key[0] if b == "race" else key[1]


def _table(
    tallies: Tallies,
    tally: str,
    name: str,
    title: str,
    b: Breakdown,
    columns: tuple[str, ...],
    **options: object,
) -> CountTable:
    counted: Counter[tuple[str, str]] = Counter()
    for key, n in tallies.of(tally).items():
        counted[(_group(key, b), key[2])] += n
    return counted_table(name, title, b, GROUPS[b], columns, counted, **options)  # type: ignore[arg-type]


def _values(tallies: Tallies, tally: str, b: Breakdown) -> dict[str, Counter[int]]:
    """Each group's (and the total's) count of every value of a numeric key."""
    found: dict[str, Counter[int]] = {g: Counter() for g in (*GROUPS[b], TOTAL)}
    for key, n in tallies.of(tally).items():
        found.setdefault(_group(key, b), Counter())[int(key[2])] += n
        found[TOTAL][int(key[2])] += n
    return found


def _n(tallies: Tallies, tally: str, b: Breakdown) -> dict[str, int]:
    n = {g: 0 for g in GROUPS[b]}
    for key, count in tallies.of(tally).items():
        if _group(key, b) in n:
            n[_group(key, b)] += count
    return n


def median_of(counted: Mapping[int, int]) -> float | None:
    """`population.median` of the values counted, without listing them."""
    size = sum(counted.values())
    if not size:
        return None
    wanted = [size // 2] if size % 2 else [size // 2 - 1, size // 2]
    found: list[float] = []
    seen = 0
    for value in sorted(counted):
        seen += counted[value]
        while len(found) < len(wanted) and wanted[len(found)] < seen:
            found.append(float(value))
    return found[0] if size % 2 else (found[0] + found[1]) / 2


def _medians(
    name: str,
    title: str,
    b: Breakdown,
    tallies: Tallies,
    n_tally: str,
    statistics: dict[str, str],
) -> StatTable:
    groups = GROUPS[b]
    per = {stat: _values(tallies, tally, b) for stat, tally in statistics.items()}
    values = {(g, stat): median_of(per[stat][g]) for g in (*groups, TOTAL) for stat in statistics}
    return StatTable(name, title, b, groups, tuple(statistics), _n(tallies, n_tally, b), values)


def pipeline(tallies: Tallies, query: ReportQuery, b: Breakdown) -> Iterator[Table]:
    yield _table(tallies, "door", "referrals_by_door", "Referrals by door", b, DOORS)
    yield _table(tallies, "source", "referrals_by_source", "Referrals by source", b, SOURCES)
    yield _table(
        tallies, "eligibility", "eligibility", "Eligibility as last decided", b,
        ("eligible", "ineligible", "needs_review", "not_decided"),
    )  # fmt: skip
    yield _table(
        tallies, "failed_rules", "failed_rules",
        "Rules failed, most failed first (a referral may fail several)", b,
        _ranked_rules(tallies), partition=False, percent_of="none",
    )  # fmt: skip
    yield _table(
        tallies, "review", "review_decisions", "The liaison prosecutor's review decisions", b,
        ("approved", "declined"),
    )  # fmt: skip
    yield _table(
        tallies, "standing", "standing",
        "What each referral came to (admitted, waitlisted, withdrawn, ...)", b, STANDINGS,
    )  # fmt: skip
    yield _medians(
        "waitlist", "Time on the waitlist (days; to admission, withdrawal or the report's date)",
        b, tallies, "waited",
        {"median_days_waited": "waited", "median_days_to_admission": "waited_to_admission"},
    )  # fmt: skip


def _ranked_rules(tallies: Tallies) -> tuple[str, ...]:
    """Most failed first; ties in the order the reference's Counter met them: referrals in the
    cohort's order, each one's rules in the order of the set it kept them in."""
    met: list[str] = []
    for holder in sorted(tallies.first_holders, key=lambda h: (h.referred_on, h.referral_id)):
        kept: set[str] = set()
        for rule in holder.rules:
            kept.add(rule)
        met += [rule for rule in kept if rule not in met]
    totals: Counter[str] = Counter()
    for (_, _, rule), n in tallies.of("failed_rules").items():
        totals[rule] += n
    ordered = Counter({rule: totals[rule] for rule in met if rule in totals})
    return tuple(rule for rule, _ in ordered.most_common())


def intake(tallies: Tallies, query: ReportQuery, b: Breakdown) -> Iterator[Table]:
    yield _table(
        tallies, "assessment", "intake_assessment",
        "Intake assessments: within the site's window, late, not yet done", b,
        ("within", "late", "no_window", "not_assessed"),
    )  # fmt: skip
    yield _medians(
        "days_to_assessment", "Days from referral to intake assessment", b, tallies,
        "days_to_assessment", {"median_days": "days_to_assessment"},
    )  # fmt: skip
    yield _table(
        tallies, "after_missed_window", "after_missed_window",
        "The prosecutor's decision after a missed intake window", b,
        ("continue", "file_charge", "awaiting_decision"),
    )  # fmt: skip


def engagement(tallies: Tallies, query: ReportQuery, b: Breakdown) -> Iterator[Table]:
    yield _table(
        tallies, "engaged", "engaged", "Engaged (at least one contact with a case manager)", b,
        ("engaged", "not_engaged"),
    )  # fmt: skip
    yield _table(
        tallies, "activity", "inactive",
        "Inactive on the report's date (no contact for the site's period)", b,
        ("active", "inactive", "closed"),
    )  # fmt: skip
    groups = GROUPS[b]
    contacts = {g: 0 for g in (*groups, TOTAL)}
    for key, n in tallies.of("contacts").items():
        contacts[_group(key, b)] = contacts.get(_group(key, b), 0) + n
        contacts[TOTAL] += n
    days: dict[str, list[int]] = {g: [] for g in (*groups, TOTAL)}
    for race, ethnicity, d in tallies.programme:
        days.setdefault(race if b == "race" else ethnicity, []).append(d)
        days[TOTAL].append(d)
    values: dict[tuple[str, str], float | None] = {}
    waits = _values(tallies, "days_to_first_contact", b)
    for g in (*groups, TOTAL):
        months = sum(max(d, 0) / DAYS_PER_MONTH for d in days[g])
        values[(g, "contacts_per_participant_month")] = (
            round(contacts[g] / months, 2) if months else None
        )
        values[(g, "median_days_to_first_contact")] = median_of(waits[g])
    yield StatTable(
        "contacts", "Contacts per participant-month, and days from admission to first contact",
        b, groups, ("contacts_per_participant_month", "median_days_to_first_contact"),
        _n(tallies, "admitted", b), values,
    )  # fmt: skip


def circumstances(tallies: Tallies, query: ReportQuery, b: Breakdown) -> Iterator[Table]:
    vocabularies = {
        "housing": get_args(HousingStatus),
        "income": get_args(IncomeStatus),
        "employment": get_args(EmploymentStatus),
    }
    for kind, statuses in vocabularies.items():
        columns = (*statuses, "not_recorded")
        yield _table(
            tallies, f"{kind}_month_of_referral", f"{kind}_month_of_referral",
            f"{kind.title()} status in the month of referral", b, columns,
            unit="participant-months",
        )  # fmt: skip
        yield _table(
            tallies, f"{kind}_months_1_to_18", f"{kind}_months_1_to_18",
            f"{kind.title()} status in months 1 to 18 after referral", b, columns,
            unit="participant-months",
        )  # fmt: skip


def rearrest(tallies: Tallies, query: ReportQuery, b: Breakdown) -> Iterator[Table]:
    title = "New arrest within {} months of referral (follow-up fully elapsed)"
    for months, name in ((6, "rearrest_6_months"), (24, "rearrest_2_years")):
        yield _table(tallies, name, name, title.format(months), b, ("rearrested", "not_rearrested"))
    groups = GROUPS[b]
    events: dict[str, Counter[int]] = {g: Counter() for g in (*groups, TOTAL)}
    censored: dict[str, Counter[int]] = {g: Counter() for g in (*groups, TOTAL)}
    for key, count in tallies.of("followed").items():
        what, days = key[2].split(":")
        if int(days) < 0:
            continue
        into = events if what == "event" else censored
        into.setdefault(_group(key, b), Counter())[int(days)] += count
        into[TOTAL][int(days)] += count
    n = _n(tallies, "cohort", b)
    people = {**n, TOTAL: sum(tallies.of("cohort").values())}
    curves = {g: kaplan_meier_counted(events[g], censored[g]) for g in (*groups, TOTAL)}

    def point(steps: list[Step], days: int, total: int) -> float | None:
        # A point with few people still followed would show how few: left out.
        if at_risk_at(steps, days, total) <= query.threshold:
            return None
        return round(100 * survival_at(steps, days), 1)

    values = {
        (g, f"day_{d}"): point(curves[g], d, people[g])
        for g in (*groups, TOTAL)
        for d in SURVIVAL_DAYS
    }
    yield StatTable(
        "time_to_rearrest",
        "Kaplan–Meier: % not re-arrested N days after referral (censored at the report's date)",
        b, groups, tuple(f"day_{d}" for d in SURVIVAL_DAYS), n, values,
    )  # fmt: skip


def equity(tallies: Tallies, query: ReportQuery, b: Breakdown) -> Iterator[Table]:
    yield _table(
        tallies, "equity", "equity", "Each group's share of referrals, of the eligible but not "
        "diverted, of admissions and of closures", b,
        ("referrals", "eligible_not_diverted", "admissions", "closures"),
        partition=False, percent_of="column",
    )  # fmt: skip
    yield from rearrest(tallies, query, b)


TALLIED: dict[str, Callable[[Tallies, ReportQuery, Breakdown], Iterator[Table]]] = {
    "pipeline": pipeline,
    "intake": intake,
    "engagement": engagement,
    "circumstances": circumstances,
    "rearrest": rearrest,
    "equity": equity,
}


def build_tallied_report(query: ReportQuery, tallies: Tallies) -> Report:
    builder = TALLIED[query.report]
    return publish(query, lambda b: builder(tallies, query, b))
