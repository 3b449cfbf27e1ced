"""Deciding what a submitted referral becomes: the events it produces and its coarse status."""

from dataclasses import dataclass
from uuid import UUID

from intake.domain.eligibility import evaluate
from offramp_contracts.events.base import Door, StaffRef
from offramp_contracts.events.intake import (
    EligibilityDecided,
    Offence,
    Person,
    ReferralReceived,
    Screening,
)


@dataclass(frozen=True)
class SubmitReferral:
    referral_id: UUID
    door: Door
    person: Person
    offence: Offence
    referring_officer: StaffRef


def receive_referral(
    command: SubmitReferral, *, open_doors: frozenset[Door], policy_version: str
) -> tuple[ReferralReceived, EligibilityDecided]:
    decision, rules = evaluate(command.door, open_doors)
    received = ReferralReceived(
        referral_id=command.referral_id,
        door=command.door,
        person=command.person,
        source="law_enforcement",
        offence=command.offence,
        screening=Screening(),
        referring_officer=command.referring_officer,
        policy_version=policy_version,
    )
    decided = EligibilityDecided(
        referral_id=command.referral_id,
        decision=decision,
        decided_by="policy",
        rules=rules,
        door=command.door,
        referring_officer=command.referring_officer,
        policy_version=policy_version,
    )
    return received, decided
