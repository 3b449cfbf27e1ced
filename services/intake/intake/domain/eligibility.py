"""Eligibility of a referral under its site's profile: every rule explains itself.

Each rule gives `passed`, `failed` or `unknown` with a reason a person can read. A missing answer
is `unknown`, which sends the referral to the liaison prosecutor's review and never lets it pass
silently. Pure: the date the referral is judged on is passed in.
"""

from calendar import monthrange
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import singledispatch
from types import MappingProxyType

from offramp_contracts.events.base import Door
from offramp_contracts.events.intake import (
    DRUG_OFFENCES,
    Decision,
    Offence,
    Person,
    RuleResult,
    Screening,
)
from offramp_contracts.profile import (
    ComplainantObjects,
    ConfidentialInformant,
    DealingAboveSubsistence,
    DrugQuantityLimit,
    EligibilityRule,
    ExploitsMinors,
    NoContactOrder,
    PendingSpecialtyCourt,
    PriorAreaActivity,
    PriorViolentFelony,
    ProgrammeArea,
    PromotesProstitution,
    SiteProfile,
    Under18,
)

PROSECUTOR_APPROVAL = "prosecutor_approval"
"""Not a rule of conduct but of procedure: where the site gives the prosecutor the final say."""


@dataclass(frozen=True)
class Candidate:
    """What the rules look at: the referral as the officer described it, and when it is judged."""

    door: Door
    person: Person
    offence: Offence
    screening: Screening
    judged_on: date
    area: ProgrammeArea | None = None
    """The site's programme area; `evaluate` gives it from the profile."""


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    rules: tuple[RuleResult, ...]


def evaluate(candidate: Candidate, profile: SiteProfile) -> Evaluation:
    """A failed rule makes the referral ineligible; otherwise an unknown one, or a door where the
    prosecutor has the final say, makes it wait for review; otherwise it is eligible."""
    candidate = replace(candidate, area=profile.area)
    results = [judge(rule, candidate) for rule in profile.rules_for(candidate.door)]
    outcomes = {result.outcome for result in results}
    if "failed" in outcomes:
        return Evaluation("ineligible", tuple(results))
    if candidate.door in profile.prosecutor_approves:
        results.append(
            RuleResult(
                rule=PROSECUTOR_APPROVAL,
                outcome="unknown",
                reason=(
                    f"{profile.name} gives the liaison prosecutor the final say over "
                    f"{candidate.door.replace('_', ' ')} referrals"
                ),
            )
        )
        return Evaluation("needs_review", tuple(results))
    if "unknown" in outcomes:
        return Evaluation("needs_review", tuple(results))
    return Evaluation("eligible", tuple(results))


def _result(rule: str, outcome: str, reason: str) -> RuleResult:
    return RuleResult.model_validate({"rule": rule, "outcome": outcome, "reason": reason})


def _answered(
    rule: str, answer: bool | None, *, question: str, when_true: str, when_false: str
) -> RuleResult:
    """A yes/no screening question where `yes` disqualifies."""
    if answer is None:
        return _result(rule, "unknown", f"not answered: {question}")
    return _result(rule, "failed", when_true) if answer else _result(rule, "passed", when_false)


@dataclass(frozen=True)
class YesDisqualifies:
    """A rule that is one yes/no screening question, where `yes` disqualifies."""

    answer: Callable[[Screening], bool | None]
    question: str
    when_true: str
    when_false: str

    def put(self, rule: str, screening: Screening) -> RuleResult:
        return _answered(
            rule,
            self.answer(screening),
            question=self.question,
            when_true=self.when_true,
            when_false=self.when_false,
        )


SCREENING_QUESTIONS: Mapping[type[EligibilityRule], YesDisqualifies] = MappingProxyType(
    {
        PriorViolentFelony: YesDisqualifies(
            lambda s: s.prior_violent_felony,
            question="has the person a prior violent felony conviction?",
            when_true="the person has a prior violent felony conviction",
            when_false="no prior violent felony conviction",
        ),
        ExploitsMinors: YesDisqualifies(
            lambda s: s.exploits_minors,
            question="does the person exploit minors?",
            when_true="the person exploits minors",
            when_false="no sign of exploiting minors",
        ),
        PromotesProstitution: YesDisqualifies(
            lambda s: s.promotes_prostitution,
            question="does the person promote prostitution?",
            when_true="the person promotes prostitution",
            when_false="no sign of promoting prostitution",
        ),
        DealingAboveSubsistence: YesDisqualifies(
            lambda s: s.dealing_above_subsistence,
            question="is the person dealing for profit above subsistence level?",
            when_true="the person deals above subsistence level",
            when_false="no dealing above subsistence level",
        ),
        ConfidentialInformant: YesDisqualifies(
            lambda s: s.confidential_informant,
            question="is the person a confidential informant?",
            when_true=(
                "confidential informants are never eligible: LEAD is not an informant programme"
            ),
            when_false="not a confidential informant",
        ),
        NoContactOrder: YesDisqualifies(
            lambda s: s.no_contact_order_with_participant,
            question="is there a no-contact order protecting a current participant?",
            when_true="a no-contact order protects a current participant",
            when_false="no no-contact order with a current participant",
        ),
    }
)
"""The rules that are a single screening question, each judged by `_screened`."""

COMPLAINANT_OBJECTS = YesDisqualifies(
    lambda s: s.complainant_objects,
    question="does the complainant object to diversion?",
    when_true="the complainant objects to diversion",
    when_false="the complainant does not object",
)
"""Asked of a theft only (`ComplainantObjects`)."""


@singledispatch
def judge(rule: EligibilityRule, candidate: Candidate) -> RuleResult:
    raise NotImplementedError(f"no judgement written for the rule {type(rule).__name__}")


def _screened(rule: EligibilityRule, candidate: Candidate) -> RuleResult:
    return SCREENING_QUESTIONS[type(rule)].put(rule.rule, candidate.screening)


for _question_rule in SCREENING_QUESTIONS:
    judge.register(_question_rule, _screened)


@judge.register
def _(rule: DrugQuantityLimit, candidate: Candidate) -> RuleResult:
    offence = candidate.offence
    if offence.category not in DRUG_OFFENCES:
        return _result(rule.rule, "passed", "the offence involves no drugs")
    if offence.drug_quantity_grams is None:
        return _result(rule.rule, "unknown", "the quantity of drugs seized was not recorded")
    if offence.drug_quantity_grams > rule.limit_grams:
        return _result(
            rule.rule,
            "failed",
            f"{offence.drug_quantity_grams} g is above the site's limit of {rule.limit_grams} g",
        )
    return _result(
        rule.rule,
        "passed",
        f"{offence.drug_quantity_grams} g is within the site's limit of {rule.limit_grams} g",
    )


@judge.register
def _(rule: Under18, candidate: Candidate) -> RuleResult:
    on = candidate.offence.occurred_at.date()
    age = _age(candidate.person.date_of_birth, on)
    outcome = "failed" if age < 18 else "passed"
    return _result(rule.rule, outcome, f"the person was {age} at the time of the offence")


@judge.register
def _(rule: PendingSpecialtyCourt, candidate: Candidate) -> RuleResult:
    drug = candidate.screening.pending_drug_court_case
    mental = candidate.screening.pending_mental_health_court_case
    if drug or mental:
        court = "drug court" if drug else "mental-health court"
        return _result(rule.rule, "failed", f"the person has a case pending in {court}")
    if drug is None or mental is None:
        missing = [
            name
            for name, answer in (("drug court", drug), ("mental-health court", mental))
            if answer is None
        ]
        return _result(
            rule.rule, "unknown", f"not answered: a pending case in {' or '.join(missing)}?"
        )
    return _result(rule.rule, "passed", "no case pending in drug court or mental-health court")


@judge.register
def _(rule: ComplainantObjects, candidate: Candidate) -> RuleResult:
    if candidate.offence.category != "theft":
        return _result(rule.rule, "passed", "not a theft: there is no complainant to consult")
    return COMPLAINANT_OBJECTS.put(rule.rule, candidate.screening)


@judge.register
def _(rule: PriorAreaActivity, candidate: Candidate) -> RuleResult:
    """Three ways to fail, each said as such: not verified, verified but outside the programme
    area, verified inside it but longer ago than the lookback."""
    screening = candidate.screening
    verified = screening.prior_area_activity_verified
    window = f"the last {rule.lookback_months} months"
    if verified is None:
        return _result(
            rule.rule,
            "unknown",
            f"not answered: verified low-level activity in the area in {window}?",
        )
    if not verified:
        return _result(
            rule.rule, "failed", f"not verified: no verified low-level activity in {window}"
        )
    area = candidate.area
    place = screening.prior_area_activity_place
    if area is None or place is None:
        return _result(
            rule.rule, "unknown", "where the verified activity took place was not recorded"
        )
    if not area.contains(place):
        return _result(
            rule.rule,
            "failed",
            f"verified, but outside the programme area: {place} is not in {area.describe()}",
        )
    on = screening.prior_area_activity_on
    if on is None:
        return _result(rule.rule, "unknown", "the date of the verified activity was not recorded")
    since = _months_before(candidate.judged_on, rule.lookback_months)
    if on < since:
        return _result(
            rule.rule,
            "failed",
            f"verified in the area ({place}), but outside {window}: the last was on {on}",
        )
    return _result(
        rule.rule, "passed", f"verified low-level activity in the area ({place}) on {on}"
    )


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))
