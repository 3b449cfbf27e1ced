"""Events of the intake context: referrals, their eligibility, review, waitlist and withdrawal."""

from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from offramp_contracts.events.base import Context, Door, EventPayload, StaffRef
from offramp_contracts.profile import ReferralSource

Race = Literal[
    "american_indian_or_alaska_native",
    "asian",
    "black_or_african_american",
    "native_hawaiian_or_other_pacific_islander",
    "white",
    "other",
]
"""The OMB race categories, for equity reporting; a person may name several or none."""

Ethnicity = Literal["hispanic_or_latino", "not_hispanic_or_latino", "not_recorded"]

OffenceCategory = Literal[
    "drug_possession",
    "drug_delivery",
    "prostitution",
    "theft",
    "trespass",
    "other_low_level",
]
DRUG_OFFENCES: frozenset[OffenceCategory] = frozenset({"drug_possession", "drug_delivery"})


class PersonIdentifier(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["state_id", "drivers_license", "fbi_number", "booking_number", "other"]
    value: str = Field(min_length=1, max_length=100)


class Person(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    date_of_birth: date
    identifiers: tuple[PersonIdentifier, ...] = Field(default=(), max_length=10)
    race: frozenset[Race] = frozenset()
    ethnicity: Ethnicity = "not_recorded"


class Offence(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    category: OffenceCategory
    description: str = Field(default="", max_length=2000)
    place: str = Field(default="", max_length=500)
    occurred_at: AwareDatetime
    drug_quantity_grams: Decimal | None = Field(
        default=None, ge=0, le=100_000, description="For drug offences: the weight seized."
    )


class Screening(BaseModel):
    """The officer's answers to the questions the site's rules ask. `None` means not answered,
    which makes the rule `unknown` and sends the referral to review, never to a silent pass."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prior_violent_felony: bool | None = None
    exploits_minors: bool | None = None
    promotes_prostitution: bool | None = None
    dealing_above_subsistence: bool | None = None
    confidential_informant: bool | None = None
    pending_drug_court_case: bool | None = None
    pending_mental_health_court_case: bool | None = None
    no_contact_order_with_participant: bool | None = None
    complainant_objects: bool | None = None
    prior_area_activity_verified: bool | None = Field(
        default=None,
        description="Social contact: prior low-level activity inside the programme area verified.",
    )
    prior_area_activity_on: date | None = Field(
        default=None, description="The date of the most recent verified activity."
    )
    prior_area_activity_place: str | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description=(
            "Where that activity was: the precinct, beat or ZIP code, in the unit of the site's "
            "programme area."
        ),
    )


class ReferralReceived(EventPayload):
    """Holds the person's identity and the screening answers: it stays inside intake's store, the
    bus and the ledger, and is never shown to another officer or agency.

    v3: the screening says where prior activity was, and a community partner may be the source.
    `referring_officer` is whoever entered the referral (an officer, or a community referrer)."""

    event_type: ClassVar[str] = "ReferralReceived"
    schema_version: ClassVar[int] = 3
    context: ClassVar[Context] = "intake"

    referral_id: UUID
    door: Door
    source: ReferralSource
    person: Person
    offence: Offence
    screening: Screening
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
    """Decided by the site's rules, or by the liaison prosecutor after a review. A referral that
    needs review has two: `needs_review` from the rules, then the prosecutor's final one.

    Carries the door and the referring officer so that other contexts can act on it alone,
    without ever reading the person's details from ReferralReceived."""

    event_type: ClassVar[str] = "EligibilityDecided"
    schema_version: ClassVar[int] = 2
    context: ClassVar[Context] = "intake"

    referral_id: UUID
    decision: Decision
    decided_by: Literal["policy", "prosecutor"]
    rules: tuple[RuleResult, ...]
    door: Door
    referring_officer: StaffRef
    policy_version: str = Field(min_length=1, max_length=100)


class ReferralReviewed(EventPayload):
    """The liaison prosecutor's verdict on a referral that waited for them."""

    event_type: ClassVar[str] = "ReferralReviewed"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "intake"

    referral_id: UUID
    verdict: Literal["approved", "declined"]
    reason: str = Field(min_length=1, max_length=2000)
    reviewer: StaffRef


class ReferralWaitlisted(EventPayload):
    """Eligible, but the site is full: the referral waits for a place, arrest diversions first."""

    event_type: ClassVar[str] = "ReferralWaitlisted"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "intake"

    referral_id: UUID
    door: Door
    referring_officer: StaffRef


class ReferralAdmitted(EventPayload):
    """An eligible referral has a place in the programme: casework opens its case from this.

    Separate from EligibilityDecided because a full site admits later, from its waitlist."""

    event_type: ClassVar[str] = "ReferralAdmitted"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "intake"

    referral_id: UUID
    door: Door
    referring_officer: StaffRef
    policy_version: str = Field(min_length=1, max_length=100)
    from_waitlist: bool


class ReferralWithdrawn(EventPayload):
    """Withdrawn by the referring officer or a supervisor before a case opened."""

    event_type: ClassVar[str] = "ReferralWithdrawn"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "intake"

    referral_id: UUID
    withdrawn_by: StaffRef
    reason: str = Field(min_length=1, max_length=2000)


class ParticipantArrestReported(EventPayload):
    """A new arrest, reported by the person's identifiers (not a case id) by an officer or a
    prosecutor, matched a current participant by the person key their referral was made with.

    Names the referral, never the person: the identifiers stay in the report's request. Casework
    records it on the case as NewArrestReported (DESIGN.md rule 9)."""

    event_type: ClassVar[str] = "ParticipantArrestReported"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "intake"

    report_id: UUID
    referral_id: UUID
    reported_by: StaffRef
    reporter_role: Literal["officer", "prosecutor"]
    arrested_on: date
