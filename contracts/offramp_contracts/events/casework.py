"""Events of the casework context: a participant's case."""

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

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


# --- Everything below was added with the case timeline and the case manager's work. ----------
#
# The Golden Rule (DESIGN.md rule 7): nothing learned in care reaches law enforcement or a
# prosecutor. Events that notify passes on to officers and prosecutors (ProgressReportDue,
# IntakeWindowMissed, NonComplianceReported, ProsecutorDecisionRecorded, NewArrestReported,
# CaseClosed) carry coarse facts only; NonComplianceReported.details is the one exception and is
# documented as case-management material. Any other field learned in care is marked
# `x-case-management-only` in its JSON Schema (see `CARE_ONLY`): a consumer that tells anyone
# outside the case-management agency drops those fields, or the whole event.

CARE_ONLY: JsonDict = {"x-case-management-only": True}
"""JSON Schema marker of a field learned in care: it never leaves the case-management agency."""

Need = Literal[
    "housing",
    "food",
    "substance_use_treatment",
    "detox",
    "mental_health",
    "medical",
    "income_and_benefits",
    "employment_and_job_training",
    "education",
    "civil_legal",
    "id_documents",
]
"""The needs an intake assessment covers (DESIGN.md rule 6)."""

ContactMethod = Literal["in_person", "phone", "text", "outreach", "video"]
GoalChange = Literal["added", "updated", "achieved", "dropped"]
ServiceKind = Literal[
    "counselling",
    "support_group",
    "detox",
    "substance_use_treatment",
    "harm_reduction",
    "housing",
    "mental_health",
    "medical",
    "benefits",
    "employment",
    "education",
    "legal_aid",
    "id_documents",
    "other",
]
ServiceOutcome = Literal["connected", "completed", "declined", "not_reached", "waitlisted"]
CoarseStatusName = Literal[
    "working_with_case_manager", "engaged", "not_engaged", "non_compliant", "closed"
]
"""The only categories law enforcement hears about a participant (DESIGN.md rule 7)."""


class IntakeAssessment(BaseModel):
    """What the intake assessment found: case-management material only."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    needs: frozenset[Need] = Field(description="Needs the participant and case manager named.")
    notes: str = Field(default="", max_length=8000)


class IntakeAssessmentCompleted(EventPayload):
    """The intake assessment is done and the participant is enrolled.

    The top-level fields are coarse: for an arrest diversion completed within the window the
    liaison prosecutor may be told that no filing is expected. `assessment` is case-management
    material and never leaves that agency. The signed release of information is recorded by
    its date of signature; what it permits is the consent records' business."""

    event_type: ClassVar[str] = "IntakeAssessmentCompleted"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    referral_id: UUID
    door: Door
    assessed_by: StaffRef
    within_intake_window: bool | None = Field(
        description="Arrest diversion: completed before the window ended; None: the door has none."
    )
    release_signed_on: date
    assessment: IntakeAssessment = Field(json_schema_extra=CARE_ONLY)


class IntakeWindowMissed(EventPayload):
    """An arrest diversion's intake window ended without an intake assessment: the case goes
    back to the liaison prosecutor, who decides whether to file. Nothing is filed by itself."""

    event_type: ClassVar[str] = "IntakeWindowMissed"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    referral_id: UUID
    referring_officer: StaffRef
    window_ended_at: AwareDatetime


class ContactLogged(EventPayload):
    """A contact between the participant and their case manager (or the outreach team)."""

    event_type: ClassVar[str] = "ContactLogged"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    contact_id: UUID
    logged_by: StaffRef
    contacted_at: AwareDatetime
    method: ContactMethod
    notes: str = Field(default="", max_length=8000, json_schema_extra=CARE_ONLY)


class ClientBecameInactive(EventPayload):
    """No contact for the site's inactivity period. The participant stays enrolled: nobody is
    closed or penalised for inactivity (DESIGN.md rule 5)."""

    event_type: ClassVar[str] = "ClientBecameInactive"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    last_contact_at: AwareDatetime | None = Field(
        description="The last contact before the period ran out; None if there never was one."
    )
    inactive_since: AwareDatetime


ReactivationReason = Literal["contact_after_inactivity", "contact_logged_late"]
"""Why an inactive participant is active again: a contact since the inactivity began, or one
logged late that happened inside the inactivity period, so the period had not really run out."""


class ClientBecameActive(EventPayload):
    """An inactive participant is active again, because of the contact named.

    v2: says why (`reason`) and when that contact happened."""

    event_type: ClassVar[str] = "ClientBecameActive"
    schema_version: ClassVar[int] = 2
    context: ClassVar[Context] = "casework"

    case_id: UUID
    contact_id: UUID
    reason: ReactivationReason
    contacted_at: AwareDatetime | None = Field(
        description="When the contact happened; None only for facts recorded before v2."
    )


class InterventionPlanUpdated(EventPayload):
    """One change to one goal of the participant's individual intervention plan."""

    event_type: ClassVar[str] = "InterventionPlanUpdated"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    goal_id: UUID
    change: GoalChange
    updated_by: StaffRef
    description: str = Field(default="", max_length=2000, json_schema_extra=CARE_ONLY)


class ServiceReferralMade(EventPayload):
    """The case manager referred the participant to a provider."""

    event_type: ClassVar[str] = "ServiceReferralMade"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    service_referral_id: UUID
    service: ServiceKind = Field(json_schema_extra=CARE_ONLY)
    provider: str = Field(min_length=1, max_length=200, json_schema_extra=CARE_ONLY)
    referred_by: StaffRef
    notes: str = Field(default="", max_length=4000, json_schema_extra=CARE_ONLY)


class ServiceReferralOutcomeRecorded(EventPayload):
    """What came of a service referral. `completed` and `declined` are final."""

    event_type: ClassVar[str] = "ServiceReferralOutcomeRecorded"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    service_referral_id: UUID
    outcome: ServiceOutcome
    recorded_by: StaffRef
    notes: str = Field(default="", max_length=4000, json_schema_extra=CARE_ONLY)


class ProgressReportDue(EventPayload):
    """The site's reporting interval came round: the referring officer is owed a progress
    report, in the coarse categories only. Nothing else about the case is in it."""

    event_type: ClassVar[str] = "ProgressReportDue"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    referral_id: UUID
    referring_officer: StaffRef
    report_number: int = Field(ge=1)
    coarse_status: CoarseStatusName


ProsecutorDecision = Literal["continue", "file_charge"]


class ProsecutorDecisionRecorded(EventPayload):
    """The liaison prosecutor's decision after a missed intake window or reported
    non-compliance: keep the participant in the programme, or file the original charge (which
    the prosecutor does, outside this system; the case then closes as charges_filed)."""

    event_type: ClassVar[str] = "ProsecutorDecisionRecorded"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    referral_id: UUID
    decision: ProsecutorDecision
    prosecutor: StaffRef
    reason: str = Field(default="", max_length=2000)


class NewArrestReported(EventPayload):
    """A participant was arrested again. Counts in outcomes; it closes nothing by itself."""

    event_type: ClassVar[str] = "NewArrestReported"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "casework"

    case_id: UUID
    referral_id: UUID
    reported_by: StaffRef
    reporter_role: Literal["officer", "prosecutor"]
    arrested_on: date
