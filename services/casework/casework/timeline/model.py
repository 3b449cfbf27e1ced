"""Inputs and outputs of the timeline's workflow and activities: one pydantic model each, so
fields can be added compatibly. Kept free of I/O imports: the workflow sandbox imports this
module."""

from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from offramp_contracts.events.base import Door, StaffRef

WORKFLOW_NAME = "CaseTimeline"
FACT_SIGNAL = "fact_recorded"
FACTS_QUERY = "facts"


def workflow_id_for(case_id: UUID) -> str:
    return f"case-timeline-{case_id}"


class TimelinePolicy(BaseModel):
    """The durations of the site profile version the case started under, resolved once when the
    case opens: the workflow never reads a profile, so a later profile change cannot alter it."""

    model_config = ConfigDict(frozen=True)

    case_management_agency: str
    intake_window: timedelta | None  # None: the door has no intake window
    progress_report_interval: timedelta
    inactivity_period: timedelta


class TimelineStart(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: UUID
    referral_id: UUID
    jurisdiction: str
    door: Door
    referring_officer: StaffRef
    policy_version: str
    correlation_id: UUID
    # The ReferralAdmitted event that opened the case.
    causation_id: UUID
    policy: TimelinePolicy


class TimelineStep(BaseModel):
    """One step's activity input: the start plus what makes its event id repeatable. `at` is
    the instant the step stands for (the opening, a deadline), not when the activity runs."""

    model_config = ConfigDict(frozen=True)

    start: TimelineStart
    workflow_id: str
    at: datetime
    number: int = 0  # which progress report


class TimelineFacts(BaseModel):
    """What the timeline needs to know of the case, as stored. Activities return it, so after
    every step the workflow holds the truth even if a signal was lost."""

    model_config = ConfigDict(frozen=True)

    closed: bool = False
    intake_done: bool = False
    intake_window_missed: bool = False
    inactive: bool = False
    last_contact_at: datetime | None = None
    progress_reports: int = 0


FactKind = Literal["contact", "intake_assessed", "closed"]


class CaseFact(BaseModel):
    """A signal: a fact was stored. Carries the event's id so a repeated signal is ignored."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    kind: FactKind
    at: datetime
