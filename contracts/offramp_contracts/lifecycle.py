"""A participant's case as a pure projection of its events: what audit, outcomes and casework
all fold a case's stream into, so their readings of a case cannot drift apart.

- `evolve(state, payload)` folds one stored fact into the case. Facts are facts: it never
  refuses, so an auditor can rebuild a case as it stood at any instant from the ledger
  (`replay(payloads)` is the fold from the start).
- `coarse_status(state)` is all law enforcement and prosecutors ever learn of a case
  (DESIGN.md rule 7, the Golden Rule).

Which events may happen to a case in its present state is casework's rule, not a shared one:
the guards live in casework's domain (`casework.domain.transitions`), beside its decider.

A case moves through three phases: `intake` (opened, the intake assessment not yet done),
`enrolled` (assessed) and `closed`. Beside the phase it keeps what the timeline and the
reports need: whether the participant has engaged, is inactive, or waits for the liaison
prosecutor's decision. Inactivity, relapse and missed goals never close a case (rule 5).

Pure: no I/O and no clock; times come from the events.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

from offramp_contracts.events.base import Door, EventPayload, StaffRef
from offramp_contracts.events.casework import (
    CaseClosed,
    CaseManagerAssigned,
    CaseOpened,
    ClientBecameActive,
    ClientBecameInactive,
    ClientEngaged,
    ClosureReason,
    CoarseStatusName,
    ContactLogged,
    IntakeAssessmentCompleted,
    IntakeWindowMissed,
    InterventionPlanUpdated,
    NewArrestReported,
    NonComplianceReported,
    ProgressReportDue,
    ProsecutorDecisionRecorded,
    ServiceOutcome,
    ServiceReferralMade,
    ServiceReferralOutcomeRecorded,
)
from offramp_contracts.events.circumstances import CircumstancesRecorded
from offramp_contracts.events.consent import ConsentGranted, ConsentRevoked, InformationDisclosed

Phase = Literal["intake", "enrolled", "closed"]
CoarseStatus = CoarseStatusName
ReviewReason = Literal["intake_window_missed", "non_compliance"]
GoalStatus = Literal["open", "achieved", "dropped"]
IntakeWindowOutcome = Literal["pending", "met", "missed", "closed_before_intake"]
"""How an arrest diversion's intake window came out, as the liaison prosecutor may know it."""
ReleaseStatus = Literal["granted", "revoked"]
"""A release as the stream holds it; whether it has expired depends on the clock, which is
casework's business (`casework.domain.consent`)."""

FINAL_SERVICE_OUTCOMES: frozenset[ServiceOutcome] = frozenset({"completed", "declined"})

CASE_EVENTS: frozenset[type[EventPayload]] = frozenset(
    {
        CaseOpened,
        CaseManagerAssigned,
        IntakeAssessmentCompleted,
        IntakeWindowMissed,
        ContactLogged,
        ClientEngaged,
        ClientBecameInactive,
        ClientBecameActive,
        InterventionPlanUpdated,
        ServiceReferralMade,
        ServiceReferralOutcomeRecorded,
        ProgressReportDue,
        NonComplianceReported,
        ProsecutorDecisionRecorded,
        NewArrestReported,
        CircumstancesRecorded,
        CaseClosed,
        ConsentGranted,
        ConsentRevoked,
        InformationDisclosed,
    }
)
"""The events of a case's own stream; a case's history in the ledger also holds its referral's
intake events, which the projection leaves as they are."""


@dataclass(frozen=True)
class CaseState:
    case_id: UUID
    referral_id: UUID
    door: Door
    referring_officer: StaffRef
    policy_version: str
    phase: Phase = "intake"
    case_manager: StaffRef | None = None
    intake_window_missed: bool = False
    assessed: bool = False
    prosecutor_review: ReviewReason | None = None
    """Set while the liaison prosecutor owes a decision (continue, or file the charge)."""
    engaged: bool = False
    inactive: bool = False
    inactive_since: datetime | None = None
    active_again: ClientBecameActive | None = None
    """The last time an inactivity ended, with its reason and the contact's date."""
    contacts: int = 0
    last_contact_at: datetime | None = None
    goals: Mapping[UUID, GoalStatus] = field(default_factory=dict)
    service_referrals: Mapping[UUID, ServiceOutcome | None] = field(default_factory=dict)
    progress_reports: int = 0
    non_compliance_reports: int = 0
    new_arrests: int = 0
    closure_reason: ClosureReason | None = None
    releases: Mapping[UUID, ReleaseStatus] = field(default_factory=dict)
    disclosures: int = 0

    @property
    def is_open(self) -> bool:
        return self.phase != "closed"


def coarse_status(state: CaseState) -> CoarseStatus:
    """The Golden Rule's categories: the only thing officers and prosecutors learn of a case.

    Reported non-compliance shows until the prosecutor decides; a missed intake window or
    inactivity shows as not engaged, never as anything worse."""
    if state.phase == "closed":
        return "closed"
    if state.prosecutor_review == "non_compliance":
        return "non_compliant"
    if state.inactive or state.prosecutor_review == "intake_window_missed":
        return "not_engaged"
    if state.engaged:
        return "engaged"
    return "working_with_case_manager"


def intake_window_outcome(state: CaseState) -> IntakeWindowOutcome | None:
    """None for a door without an intake window. A window once missed stays missed, even if
    the assessment is done later: the case went back to the prosecutor."""
    if state.door != "arrest_diversion":
        return None
    if state.intake_window_missed:
        return "missed"
    if state.assessed:
        return "met"
    return "closed_before_intake" if state.phase == "closed" else "pending"


def evolve(state: CaseState | None, payload: EventPayload) -> CaseState:
    """Fold one stored fact into the case. Events of other contexts leave it as it was."""
    if state is None:
        if not isinstance(payload, CaseOpened):
            raise ValueError(f"a case's history starts with CaseOpened, not {payload.event_type}")
        return CaseState(
            case_id=payload.case_id,
            referral_id=payload.referral_id,
            door=payload.door,
            referring_officer=payload.referring_officer,
            policy_version=payload.policy_version,
        )
    match payload:
        case CaseManagerAssigned(case_manager=manager):
            return replace(state, case_manager=manager)
        case IntakeAssessmentCompleted():
            return replace(state, phase="enrolled", assessed=True)
        case IntakeWindowMissed():
            return replace(state, intake_window_missed=True, prosecutor_review=_review(state))
        case ContactLogged(contacted_at=at):
            latest = at if state.last_contact_at is None else max(at, state.last_contact_at)
            return replace(state, contacts=state.contacts + 1, last_contact_at=latest)
        case ClientEngaged():
            return replace(state, engaged=True)
        case ClientBecameInactive(inactive_since=since):
            return replace(state, inactive=True, inactive_since=since)
        case ClientBecameActive():
            return replace(state, inactive=False, inactive_since=None, active_again=payload)
        case InterventionPlanUpdated(goal_id=goal_id, change=change):
            status: GoalStatus = (
                "achieved" if change == "achieved" else "dropped" if change == "dropped" else "open"
            )
            return replace(state, goals={**state.goals, goal_id: status})
        case ServiceReferralMade(service_referral_id=referral_id):
            return replace(state, service_referrals={**state.service_referrals, referral_id: None})
        case ServiceReferralOutcomeRecorded(service_referral_id=referral_id, outcome=outcome):
            return replace(
                state, service_referrals={**state.service_referrals, referral_id: outcome}
            )
        case ProgressReportDue(report_number=number):
            return replace(state, progress_reports=max(state.progress_reports, number))
        case NonComplianceReported():
            return replace(
                state,
                non_compliance_reports=state.non_compliance_reports + 1,
                prosecutor_review="non_compliance",
            )
        case ProsecutorDecisionRecorded():
            return replace(state, prosecutor_review=None)
        case NewArrestReported():
            return replace(state, new_arrests=state.new_arrests + 1)
        case CaseClosed(reason=reason):
            return replace(state, phase="closed", closure_reason=reason, prosecutor_review=None)
        case ConsentGranted(release_id=release_id):
            return replace(state, releases={**state.releases, release_id: "granted"})
        case ConsentRevoked(release_id=release_id):
            return replace(state, releases={**state.releases, release_id: "revoked"})
        case InformationDisclosed():
            return replace(state, disclosures=state.disclosures + 1)
    return state


def _review(state: CaseState) -> ReviewReason:
    # A pending non-compliance review outranks the window: the prosecutor answers it first.
    return state.prosecutor_review or "intake_window_missed"


def replay(payloads: Iterable[EventPayload]) -> CaseState | None:
    """The case after every payload of its stream, in order; None before CaseOpened."""
    state: CaseState | None = None
    for payload in payloads:
        state = evolve(state, payload)
    return state
