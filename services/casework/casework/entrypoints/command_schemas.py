"""What casework's commands take over HTTP and what they answer: the bodies of the case
manager's, the supervisor's and the prosecutor's commands, strict about what they accept (no
unknown field, dates in ISO 8601 and never in the future), and the case as it then stands."""

from datetime import UTC, date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from casework.domain.decisions import Circumstances
from casework.entrypoints.http_cases import CaseView
from offramp_contracts.events.casework import (
    ClosureReason,
    CoarseStatusName,
    ContactMethod,
    Need,
    ProsecutorDecision,
    ServiceKind,
    ServiceOutcome,
)
from offramp_contracts.events.circumstances import EmploymentStatus, HousingStatus, IncomeStatus
from servicekit.inputs import IsoDate, IsoInstant


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _not_future(value: datetime | date) -> datetime | date:
    now = datetime.now(UTC)
    if (value > now) if isinstance(value, datetime) else (value > now.date()):
        raise ValueError("cannot be in the future")
    return value


class CircumstancesIn(Body):
    """Housing, income and employment status from `as_of` (default today) on; give what is
    known or what changed, at least one."""

    as_of: IsoDate | None = Field(default=None, description="The day they hold from.")
    housing: HousingStatus | None = None
    income: IncomeStatus | None = None
    employment: EmploymentStatus | None = None

    @field_validator("as_of")
    @classmethod
    def not_in_future(cls, value: date | None) -> date | None:
        return None if value is None else _not_future(value)

    @model_validator(mode="after")
    def names_at_least_one(self) -> "CircumstancesIn":
        if self.housing is None and self.income is None and self.employment is None:
            raise ValueError("give at least one of housing, income and employment")
        return self

    def circumstances(self) -> Circumstances:
        return Circumstances(
            as_of=self.as_of or datetime.now(UTC).date(),
            housing=self.housing,
            income=self.income,
            employment=self.employment,
        )


class IntakeAssessmentIn(Body):
    needs: frozenset[Need]
    notes: str = Field(default="", max_length=8000)
    release_signed_on: IsoDate = Field(description="When the participant signed the release.")
    circumstances: CircumstancesIn | None = Field(
        default=None,
        description="Housing, income and employment found at the assessment (the baseline).",
    )

    _check = field_validator("release_signed_on")(_not_future)


class ContactIn(Body):
    contacted_at: IsoInstant
    method: ContactMethod
    notes: str = Field(default="", max_length=8000)

    _check = field_validator("contacted_at")(_not_future)


class GoalIn(Body):
    description: str = Field(min_length=1, max_length=2000)


class GoalChangeIn(Body):
    description: str = Field(default="", max_length=2000)


class ServiceReferralIn(Body):
    service: ServiceKind
    provider: str = Field(min_length=1, max_length=200)
    notes: str = Field(default="", max_length=4000)


class ServiceOutcomeIn(Body):
    outcome: ServiceOutcome
    notes: str = Field(default="", max_length=4000)


class NonComplianceIn(Body):
    condition: str = Field(min_length=1, max_length=200)
    details: str = Field(default="", max_length=4000)


class DecisionIn(Body):
    decision: ProsecutorDecision
    reason: str = Field(default="", max_length=2000)


class ArrestIn(Body):
    arrested_on: IsoDate

    _check = field_validator("arrested_on")(_not_future)


class ClosureIn(Body):
    reason: ClosureReason


class AssignmentIn(Body):
    case_manager: str = Field(min_length=1, max_length=200)


class CommandResult(BaseModel):
    case: CaseView
    stored: list[str] = Field(description="The event types stored, in order.")
    id: UUID | None = Field(default=None, description="The id of what was created, if anything.")


class CoarseCommandResult(BaseModel):
    """What a command by law enforcement answers: the case's coarse status and what was stored,
    nothing of the case view (DESIGN.md rule 7)."""

    case_id: UUID
    referral_id: UUID
    status: CoarseStatusName
    stored: list[str] = Field(description="The event types stored, in order.")
