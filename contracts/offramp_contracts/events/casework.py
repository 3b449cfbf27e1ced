"""Events of the casework context: a participant's case."""

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from offramp_contracts.events.base import Context, Door, EventPayload, StaffRef


class CaseOpened(EventPayload):
    event_type: ClassVar[str] = "CaseOpened"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    referral_id: UUID
    door: Door
    referring_officer: StaffRef
    policy_version: str = Field(min_length=1, max_length=100)


class CaseManagerAssigned(EventPayload):
    event_type: ClassVar[str] = "CaseManagerAssigned"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    case_manager: StaffRef
    previous_case_manager: StaffRef | None = None


class ClientEngaged(EventPayload):
    """The participant's first logged contact with their case manager."""

    event_type: ClassVar[str] = "ClientEngaged"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    contact_id: UUID


class NonComplianceReported(EventPayload):
    """`condition` names which of the site's conditions was not met, in the site's own words;
    `details` is case-management material and never leaves that agency (the Golden Rule)."""

    event_type: ClassVar[str] = "NonComplianceReported"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    condition: str = Field(min_length=1, max_length=200)
    details: str = Field(default="", max_length=4000)


ClosureReason = Literal[
    "graduated", "declined", "charges_filed", "moved", "deceased", "transferred"
]


class CaseClosed(EventPayload):
    """The end of a participant's time in the programme; it frees a place at the site.

    Graduation is the case manager's judgement: there are no fixed criteria (DESIGN.md rule 5)."""

    event_type: ClassVar[str] = "CaseClosed"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    referral_id: UUID
    reason: ClosureReason
