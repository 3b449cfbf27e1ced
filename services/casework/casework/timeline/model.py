"""Inputs of the timeline's workflow and activities: one pydantic model each, so fields can be
added compatibly. Kept free of I/O imports: the workflow sandbox imports this module."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from offramp_contracts.events.base import Door, StaffRef

WORKFLOW_NAME = "CaseTimeline"


def workflow_id_for(case_id: UUID) -> str:
    return f"case-timeline-{case_id}"


class TimelineStart(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: UUID
    referral_id: UUID
    jurisdiction: str
    door: Door
    referring_officer: StaffRef
    policy_version: str
    correlation_id: UUID
    # The EligibilityDecided event that opened the case.
    causation_id: UUID


class TimelineStep(BaseModel):
    """One step's activity input: the start plus what makes its event id repeatable."""

    model_config = ConfigDict(frozen=True)

    start: TimelineStart
    workflow_id: str
    at: datetime
