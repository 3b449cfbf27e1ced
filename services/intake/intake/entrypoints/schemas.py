"""What intake's HTTP API accepts and returns. Input is checked beyond its shape (no future
dates, no unknown fields); output to officers carries the coarse status and nothing else."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from intake.adapters.tables import ReferralRow, ReviewRow
from intake.domain.referral_form import ReferralForm
from offramp_contracts.events.base import Door
from offramp_contracts.events.intake import Offence, Person, Screening
from offramp_contracts.profile import ReferralSource
from servicekit.inputs import iso_8601_only

OLDEST_BIRTH = date(1900, 1, 1)


def _today() -> date:
    return datetime.now(UTC).date()


def _plausible_day(value: date, what: str) -> date:
    """A day in a person's life: not in the future, not before `OLDEST_BIRTH`."""
    if value > _today():
        raise ValueError(f"{what} cannot be in the future")
    if value < OLDEST_BIRTH:
        raise ValueError(f"{what} cannot be before {OLDEST_BIRTH}")
    return value


class PersonIn(Person):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"title": "Person"})

    _iso = field_validator("date_of_birth", mode="before")(iso_8601_only)

    @field_validator("date_of_birth")
    @classmethod
    def plausible_birth(cls, value: date) -> date:
        return _plausible_day(value, "the date of birth")


class OffenceIn(Offence):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"title": "Offence"})

    _iso = field_validator("occurred_at", mode="before")(iso_8601_only)

    @field_validator("occurred_at")
    @classmethod
    def not_in_future(cls, value: datetime) -> datetime:
        if value > datetime.now(UTC):
            raise ValueError("the offence cannot have happened in the future")
        return value


class ScreeningIn(Screening):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"title": "Screening"})

    _iso = field_validator("prior_area_activity_on", mode="before")(iso_8601_only)

    @field_validator("prior_area_activity_on")
    @classmethod
    def not_in_future(cls, value: date | None) -> date | None:
        if value is not None and value > _today():
            raise ValueError("the prior activity cannot have happened in the future")
        return value


class ReferralIn(BaseModel):
    """A referral from the field. Unanswered screening questions are allowed: they send the
    referral to the prosecutor's review instead of letting it pass."""

    model_config = ConfigDict(extra="forbid")

    door: Door
    source: ReferralSource = "law_enforcement"
    person: PersonIn
    offence: OffenceIn
    screening: ScreeningIn = Field(default_factory=ScreeningIn)


class ReferralOut(BaseModel):
    """What an officer (or their supervisor) sees: the coarse status, nothing from screening."""

    referral_id: UUID
    door: str
    status: str
    received_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: ReferralRow) -> "ReferralOut":
        return cls(
            referral_id=row.referral_id,
            door=row.door,
            status=row.status,
            received_at=row.received_at,
            updated_at=row.updated_at,
        )


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Literal["approved", "declined"]
    reason: str = Field(min_length=1, max_length=2000)


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class RuleOut(BaseModel):
    rule: str
    outcome: str
    reason: str


class PendingReview(BaseModel):
    """What the liaison prosecutor needs to decide: who, what offence, and each rule's outcome
    with its reason. The officer's raw screening answers are not shown."""

    referral_id: UUID
    referring_agency: str
    door: str
    person: dict[str, Any]
    offence: dict[str, Any]
    rules: list[RuleOut]
    policy_version: str
    received_at: AwareDatetime

    @classmethod
    def of(cls, row: ReviewRow) -> "PendingReview":
        return cls(**row.__dict__)


class ArrestIn(BaseModel):
    """A new arrest, reported by who was arrested: the name and date of birth as on the
    booking, not a case id (the arresting officer or the prosecutor rarely knows one)."""

    model_config = ConfigDict(extra="forbid")

    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    date_of_birth: date
    arrested_on: date

    _iso = field_validator("date_of_birth", "arrested_on", mode="before")(iso_8601_only)

    @field_validator("date_of_birth", "arrested_on")
    @classmethod
    def not_in_future(cls, value: date) -> date:
        return _plausible_day(value, "the date")


class ArrestOut(BaseModel):
    """Only whether the person is a participant: never which case, case manager or anything
    learned in care."""

    outcome: Literal["recorded_for_a_participant", "not_a_participant"]


class QuestionOut(BaseModel):
    field: str = Field(description="The `screening` field the answer goes in.")
    text: str
    help: str
    doors: list[Door] | None = Field(description="The doors it is asked for; every door if null.")
    kind: Literal["yes_no", "date", "text"] = Field(
        description="How it is answered: yes or no (null if not known), a date, or a short text."
    )


class ReferralFormOut(BaseModel):
    """The site profile in force, as an officer's referral form needs it: the open doors and
    only the screening questions the site's rules read."""

    jurisdiction: str
    site_name: str
    policy_version: str
    doors: list[Door]
    prosecutor_approves: list[Door]
    drug_limit_grams: Decimal | None
    questions: list[QuestionOut]

    @classmethod
    def of(cls, form: ReferralForm) -> "ReferralFormOut":
        return cls(
            jurisdiction=form.jurisdiction,
            site_name=form.site_name,
            policy_version=form.policy_version,
            doors=list(form.doors),
            prosecutor_approves=list(form.prosecutor_approves),
            drug_limit_grams=form.drug_limit_grams,
            questions=[
                QuestionOut(
                    field=q.field,
                    text=q.text,
                    help=q.help,
                    doors=sorted(q.doors) if q.doors is not None else None,
                    kind=q.kind,
                )
                for q in form.questions
            ],
        )
