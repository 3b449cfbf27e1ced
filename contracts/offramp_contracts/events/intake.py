"""Events of the intake context: referrals and their eligibility."""

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from offramp_contracts.events.base import Context, Door, EventPayload, StaffRef


class Person(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    date_of_birth: date


class Offence(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    category: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    occurred_at: AwareDatetime


class ReferralReceived(EventPayload):
    event_type: ClassVar[str] = "ReferralReceived"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "intake"

    referral_id: UUID
    door: Door
    person: Person
    offence: Offence
    referring_officer: StaffRef
    policy_version: str = Field(min_length=1, max_length=100)


RuleOutcome = Literal["passed", "failed", "unknown"]
Decision = Literal["eligible", "ineligible", "needs_review"]


class RuleResult(BaseModel):
    """One rule of the site's policy and why it came out as it did."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str = Field(min_length=1, max_length=100)
    outcome: RuleOutcome
    reason: str = Field(min_length=1, max_length=500)


class EligibilityDecided(EventPayload):
    """Carries the door and the referring officer so that casework can open a case from this
    event alone, without ever reading the person's details from ReferralReceived."""

    event_type: ClassVar[str] = "EligibilityDecided"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "intake"

    referral_id: UUID
    decision: Decision
    rules: tuple[RuleResult, ...]
    door: Door
    referring_officer: StaffRef
    policy_version: str = Field(min_length=1, max_length=100)
