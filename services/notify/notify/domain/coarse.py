"""The only facts about a participant that a notification may carry (the Golden Rule).

Texts are built from `CoarseFacts` alone, never from an event's payload. `CoarseFacts` is filled
from an explicit allow-list of payload fields, so a field learned in care (a non-compliance's
details, an assessment, contact notes) cannot reach a text: no rule is ever handed it, and a new
field added to an event stays out until someone adds it here on purpose.
"""

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

CoarseStatus = Literal[
    "working_with_case_manager", "engaged", "not_engaged", "non_compliant", "closed"
]
"""The categories law enforcement may hear about a participant (DESIGN.md rule 7)."""

STATUS_WORDS: Mapping[CoarseStatus, str] = {
    "working_with_case_manager": "working with a case manager",
    "engaged": "engaged",
    "not_engaged": "not engaged",
    "non_compliant": "non-compliant",
    "closed": "closed",
}


class CoarseFacts(BaseModel):
    """Identifiers, dates and coarse categories: nothing a participant said or a case manager
    learned. Every field here is one a prosecutor or an officer may read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    referral_id: UUID | None = None
    case_id: UUID | None = None
    # EligibilityDecided: only whether the rules sent the referral to the prosecutor.
    decision: Literal["eligible", "ineligible", "needs_review"] | None = None
    decided_by: Literal["policy", "prosecutor"] | None = None
    # ProgressReportDue
    coarse_status: CoarseStatus | None = None
    report_number: int | None = None
    # IntakeWindowMissed
    window_ended_at: datetime | None = None
    # NewArrestReported: an arrest is law enforcement's own information, not learned in care.
    arrested_on: date | None = None
    # IntakeAssessmentCompleted: which door, and whether it was done inside the intake window;
    # never the assessment itself.
    door: Literal["arrest_diversion", "social_contact", "community"] | None = None
    within_intake_window: bool | None = None


ALLOWED_FIELDS: frozenset[str] = frozenset(CoarseFacts.model_fields)


def coarse_facts(data: Mapping[str, Any]) -> CoarseFacts:
    """Keep the allow-listed fields of an event's data and drop everything else unread."""
    return CoarseFacts.model_validate({k: v for k, v in data.items() if k in ALLOWED_FIELDS})
