"""Events folded into the facts the reports count, keyed by pseudonyms.

What outcomes keeps of an event is a closed vocabulary only: a door, a decision, a status, a
rule's name from the site's policy, a day. Names, dates of birth, descriptions, notes and reasons
never enter it; a person is `Pseudonymiser`'s keyed hash of intake's person key, so re-referrals
and re-arrests link without an identity, and nobody without the key can link anything back.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, get_args
from uuid import UUID

from offramp_contracts import EventEnvelope, EventPayload
from offramp_contracts.events.casework import (
    CaseClosed,
    CaseOpened,
    ClientBecameActive,
    ClientBecameInactive,
    ClientEngaged,
    ContactLogged,
    IntakeAssessmentCompleted,
    IntakeWindowMissed,
    NewArrestReported,
    ProsecutorDecisionRecorded,
)
from offramp_contracts.events.circumstances import CircumstancesRecorded
from offramp_contracts.events.intake import (
    EligibilityDecided,
    Race,
    ReferralAdmitted,
    ReferralReceived,
    ReferralReviewed,
    ReferralWaitlisted,
    ReferralWithdrawn,
)
from offramp_contracts.identifiers import person_key

RaceGroup = Race | Literal["two_or_more_races", "not_recorded"]
RACE_GROUPS: tuple[str, ...] = (*get_args(Race), "two_or_more_races", "not_recorded")
ETHNICITY_GROUPS: tuple[str, ...] = ("hispanic_or_latino", "not_hispanic_or_latino", "not_recorded")

FactKind = Literal[
    "decided",
    "failed_rule",
    "reviewed",
    "waitlisted",
    "admitted",
    "withdrawn",
    "assessed",
    "window_missed",
    "prosecutor_decision",
    "contact",
    "engaged",
    "inactive",
    "active",
    "housing",
    "income",
    "employment",
    "arrest",
    "closed",
]
FACT_KINDS: tuple[str, ...] = get_args(FactKind)


class Pseudonymiser:
    """HMAC-SHA-256 of the person key under the site's secret: the same person always gets the
    same pseudonym, and without the secret a pseudonym cannot be recomputed from a name."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the pseudonym key must be at least 16 bytes")
        self._secret = secret

    def __call__(self, key: str) -> str:
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class ReferralFact:
    referral_id: UUID
    jurisdiction: str
    person: str
    door: str
    source: str
    race: str
    ethnicity: str
    referred_on: date
    recorded_at: datetime


@dataclass(frozen=True)
class CaseLink:
    case_id: UUID
    referral_id: UUID
    jurisdiction: str
    recorded_at: datetime


@dataclass(frozen=True)
class Fact:
    """One thing that happened to a referral or its case, on a day, as known from `recorded_at`.
    Case facts name the case; `CaseLink` leads from it to the referral."""

    event_id: UUID
    jurisdiction: str
    kind: FactKind
    value: str | None
    on: date
    recorded_at: datetime
    referral_id: UUID | None = None
    case_id: UUID | None = None


@dataclass(frozen=True)
class Folded:
    """What one event adds to the read model (nothing, for events no report counts)."""

    referral: ReferralFact | None = None
    case: CaseLink | None = None
    facts: tuple[Fact, ...] = ()


def rule_name(rule: str) -> str:
    """A rule's name from the site's policy (`drug_quantity`); anything else a profile might
    one day carry is counted, but not kept as written."""
    return rule if re.fullmatch(r"[a-z0-9_]{1,100}", rule) else "other_rule"


def race_group(races: frozenset[str]) -> str:
    if not races:
        return "not_recorded"
    if len(races) > 1:
        return "two_or_more_races"
    return next(iter(races))


def fold(event: EventEnvelope, payload: EventPayload, pseudonym: Pseudonymiser) -> Folded:
    """The facts of one event. Pure: the same event always folds the same way."""
    day = event.occurred_at.date()

    def fact(kind: FactKind, value: str | None = None, on: date = day, **ids: UUID) -> Fact:
        return Fact(event.event_id, event.jurisdiction, kind, value, on, event.recorded_at, **ids)

    match payload:
        case ReferralReceived(person=person):
            return Folded(
                referral=ReferralFact(
                    referral_id=payload.referral_id,
                    jurisdiction=event.jurisdiction,
                    person=pseudonym(
                        person_key(person.given_name, person.family_name, person.date_of_birth)
                    ),
                    door=payload.door,
                    source=payload.source,
                    race=race_group(frozenset(person.race)),
                    ethnicity=person.ethnicity,
                    referred_on=day,
                    recorded_at=event.recorded_at,
                )
            )
        case EligibilityDecided(referral_id=rid, decision=decision, rules=rules):
            failed = [
                fact("failed_rule", rule_name(r.rule), referral_id=rid)
                for r in rules
                if r.outcome == "failed"
            ]
            return Folded(facts=(fact("decided", decision, referral_id=rid), *failed))
        case ReferralReviewed(referral_id=rid, verdict=verdict):
            return Folded(facts=(fact("reviewed", verdict, referral_id=rid),))
        case ReferralWaitlisted(referral_id=rid):
            return Folded(facts=(fact("waitlisted", referral_id=rid),))
        case ReferralAdmitted(referral_id=rid, from_waitlist=from_waitlist):
            how = "from_waitlist" if from_waitlist else "direct"
            return Folded(facts=(fact("admitted", how, referral_id=rid),))
        case ReferralWithdrawn(referral_id=rid):
            return Folded(facts=(fact("withdrawn", referral_id=rid),))
        case CaseOpened(case_id=cid, referral_id=rid):
            return Folded(case=CaseLink(cid, rid, event.jurisdiction, event.recorded_at))
        case IntakeAssessmentCompleted(case_id=cid, within_intake_window=within):
            timing = "no_window" if within is None else "within" if within else "late"
            return Folded(facts=(fact("assessed", timing, case_id=cid),))
        case IntakeWindowMissed(case_id=cid):
            return Folded(facts=(fact("window_missed", case_id=cid),))
        case ProsecutorDecisionRecorded(case_id=cid, decision=decision):
            return Folded(facts=(fact("prosecutor_decision", decision, case_id=cid),))
        case ContactLogged(case_id=cid, contacted_at=at):
            return Folded(facts=(fact("contact", on=at.date(), case_id=cid),))
        case ClientEngaged(case_id=cid):
            return Folded(facts=(fact("engaged", case_id=cid),))
        case ClientBecameInactive(case_id=cid, inactive_since=since):
            return Folded(facts=(fact("inactive", on=since.date(), case_id=cid),))
        case ClientBecameActive(case_id=cid):
            return Folded(facts=(fact("active", case_id=cid),))
        case CircumstancesRecorded(case_id=cid, as_of=as_of):
            statuses = (
                ("housing", payload.housing),
                ("income", payload.income),
                ("employment", payload.employment),
            )
            return Folded(
                facts=tuple(
                    fact(kind, value, on=as_of, case_id=cid)  # type: ignore[arg-type]
                    for kind, value in statuses
                    if value is not None
                )
            )
        case NewArrestReported(case_id=cid, arrested_on=on):
            return Folded(facts=(fact("arrest", on=on, case_id=cid),))
        case CaseClosed(case_id=cid, reason=reason):
            return Folded(facts=(fact("closed", reason, case_id=cid),))
    return Folded()
