"""Who a report is about: the referrals of a jurisdiction made in its period (through its door),
as known on its date, each with its history, and the facts that follow people across referrals
(a later arrest diversion of the same person is a re-arrest)."""

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, get_args
from uuid import UUID

from offramp_contracts.events.base import Door
from offramp_contracts.profile import ReferralSource
from outcomes.domain.facts import ETHNICITY_GROUPS, RACE_GROUPS, CaseLink, Fact, ReferralFact
from outcomes.domain.history import ReferralHistory, histories
from outcomes.domain.tables import Breakdown

ReportName = Literal["pipeline", "intake", "engagement", "circumstances", "rearrest", "equity"]
REPORTS: tuple[str, ...] = get_args(ReportName)
DOORS: tuple[str, ...] = get_args(Door)
SOURCES: tuple[str, ...] = get_args(ReferralSource)
GROUPS: dict[Breakdown, tuple[str, ...]] = {"race": RACE_GROUPS, "ethnicity": ETHNICITY_GROUPS}


@dataclass(frozen=True)
class ReportQuery:
    """`period_from`..`period_to` (both included) are days of referral; `as_known_on` is the
    instant whose knowledge the report uses, and the end of everyone's follow-up."""

    report: ReportName
    jurisdiction: str
    as_known_on: datetime
    period_from: date | None = None
    period_to: date | None = None
    door: Door | None = None
    threshold: int = 10

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError("the suppression threshold is never below 1")
        if self.period_from and self.period_to and self.period_from > self.period_to:
            raise ValueError("the period ends before it starts")

    @property
    def observed_until(self) -> date:
        return self.as_known_on.date()


@dataclass
class Population:
    cohort: list[ReferralHistory]
    referrals_of_person: dict[str, list[ReferralFact]] = field(default_factory=dict)
    _rearrests: dict[UUID, list[date]] = field(default_factory=dict, repr=False)

    def rearrests(self, history: ReferralHistory) -> list[date]:
        """New arrests after the referral: those reported in its case, and any later arrest
        diversion of the same person (whether or not it was admitted)."""
        key = history.referral.referral_id
        if key not in self._rearrests:
            start = history.referral.referred_on
            later = [
                r.referred_on
                for r in self.referrals_of_person.get(history.referral.person, [])
                if r.door == "arrest_diversion" and r.referred_on > start
            ]
            self._rearrests[key] = sorted(d for d in (*history.arrests, *later) if d > start)
        return self._rearrests[key]


def population(
    query: ReportQuery,
    referrals: Iterable[ReferralFact],
    cases: Iterable[CaseLink],
    facts: Iterable[Fact],
) -> Population:
    """Everything passed in must already be what was recorded by `as_known_on` in the
    jurisdiction (the read model's query says so); this picks the cohort out of it."""
    known = [r for r in referrals if r.recorded_at <= query.as_known_on]
    everyone = histories(
        known,
        (c for c in cases if c.recorded_at <= query.as_known_on),
        (f for f in facts if f.recorded_at <= query.as_known_on),
    )
    by_person: dict[str, list[ReferralFact]] = defaultdict(list)
    for referral in known:
        by_person[referral.person].append(referral)
    cohort = [
        h
        for h in everyone.values()
        if (query.door is None or h.referral.door == query.door)
        and (query.period_from is None or h.referral.referred_on >= query.period_from)
        and (query.period_to is None or h.referral.referred_on <= query.period_to)
    ]
    cohort.sort(key=lambda h: (h.referral.referred_on, str(h.referral.referral_id)))
    return Population(cohort, dict(by_person))


def group_of(history: ReferralHistory, breakdown: Breakdown) -> str:
    return history.referral.race if breakdown == "race" else history.referral.ethnicity


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
