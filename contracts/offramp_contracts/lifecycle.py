"""A participant's case as a pure state machine over its events.

Two functions and one reading of the state:

- `evolve(state, payload)` folds one stored fact into the case. Facts are facts: it never
  refuses, so an auditor can rebuild a case as it stood at any instant from the ledger
  (`replay(payloads)` is the fold from the start).
- `accept(state, payload)` is the decision side: it refuses (`TransitionRefused`) an event that
  may not happen to the case in its present state, and otherwise returns the evolved state.
  Casework runs every event it is about to store through it, so an impossible command stores
  nothing.
- `coarse_status(state)` is all law enforcement and prosecutors ever learn of a case
  (DESIGN.md rule 7, the Golden Rule).

A case moves through three phases: `intake` (opened, the intake assessment not yet done),
`enrolled` (assessed) and `closed`. Beside the phase it keeps what the timeline and the
reports need: whether the participant has engaged, is inactive, or waits for the liaison
prosecutor's decision. Inactivity, relapse and missed goals never close a case (rule 5).

Pure: no I/O and no clock; times come from the events.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
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

_CASEWORK: tuple[type[EventPayload], ...] = (
    CaseManagerAssigned,
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
)
_RECORD_KEEPING: frozenset[type[EventPayload]] = frozenset({ConsentRevoked, InformationDisclosed})
"""What still happens to a closed case: its care is over, but a participant may revoke a release
and a release that outlives the case may still be used (DESIGN.md rule 10)."""

ALLOWED: Mapping[Phase, frozenset[type[EventPayload]]] = MappingProxyType(
    {
        "intake": frozenset(
            {*_CASEWORK, *_RECORD_KEEPING, IntakeAssessmentCompleted, IntakeWindowMissed}
        ),
        "enrolled": frozenset({*_CASEWORK, *_RECORD_KEEPING}),
        "closed": _RECORD_KEEPING,
    }
)
"""The events each phase lets happen; the guards in `refusal` narrow them further."""


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


class TransitionRefused(ValueError):
    """The event may not happen to the case as it stands; `reason` says why, for a person."""

    def __init__(self, reason: str, *, case_closed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.case_closed = case_closed


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


def refusal(state: CaseState | None, payload: EventPayload) -> TransitionRefused | None:
    """Why `payload` may not happen now, or None if it may."""
    if state is None:
        if isinstance(payload, CaseOpened):
            return None
        return TransitionRefused(f"there is no case yet for {payload.event_type}")
    if state.phase == "closed" and type(payload) not in ALLOWED["closed"]:
        return TransitionRefused(
            f"case {state.case_id} was closed ({state.closure_reason}); it accepts no more changes",
            case_closed=True,
        )
    if isinstance(payload, CaseOpened):
        return TransitionRefused(f"case {state.case_id} is already open")
    if type(payload) not in ALLOWED[state.phase]:
        return TransitionRefused(_phase_refusal(state, payload))
    return _guard(state, payload)


def _phase_refusal(state: CaseState, payload: EventPayload) -> str:
    if isinstance(payload, IntakeAssessmentCompleted):
        return "the intake assessment was already completed; the participant is enrolled"
    if isinstance(payload, IntakeWindowMissed):
        return "the intake assessment was completed, so no intake window can be missed"
    return f"{payload.event_type} cannot happen to a case in phase {state.phase}"


def _guard(state: CaseState, payload: EventPayload) -> TransitionRefused | None:
    reason: str | None = None
    match payload:
        case CaseManagerAssigned(case_manager=manager):
            if manager == state.case_manager:
                reason = f"{manager.subject} is already the case manager"
        case IntakeWindowMissed():
            if state.door != "arrest_diversion":
                reason = f"a {state.door} case has no intake window"
            elif state.intake_window_missed:
                reason = "the intake window was already missed"
        case ClientEngaged():
            if state.engaged:
                reason = "the participant is already engaged"
            elif state.contacts == 0:
                reason = "the participant engages with their first logged contact"
        case ClientBecameInactive():
            if state.inactive:
                reason = "the participant is already inactive"
        case ClientBecameActive():
            if not state.inactive:
                reason = "the participant is not inactive"
        case InterventionPlanUpdated(goal_id=goal_id, change=change):
            reason = _goal_refusal(state, goal_id, change)
        case ServiceReferralMade(service_referral_id=referral_id):
            if referral_id in state.service_referrals:
                reason = f"service referral {referral_id} already exists"
        case ServiceReferralOutcomeRecorded(service_referral_id=referral_id):
            if referral_id not in state.service_referrals:
                reason = f"there is no service referral {referral_id} in this case"
            elif state.service_referrals[referral_id] in FINAL_SERVICE_OUTCOMES:
                reason = (
                    f"service referral {referral_id} is already "
                    f"{state.service_referrals[referral_id]}; make a new referral instead"
                )
        case ProgressReportDue(report_number=number):
            if number != state.progress_reports + 1:
                reason = f"progress report {state.progress_reports + 1} is the next one due"
        case NonComplianceReported():
            if state.door != "arrest_diversion":
                reason = "conditions attach only to arrest diversions"
            elif state.prosecutor_review is not None:
                reason = "the liaison prosecutor has yet to decide on the last report"
        case ProsecutorDecisionRecorded():
            if state.prosecutor_review is None:
                reason = "nothing waits for the liaison prosecutor's decision in this case"
        case ConsentGranted(release_id=release_id):
            if release_id in state.releases:
                reason = f"release {release_id} is already recorded"
        case ConsentRevoked(release_id=release_id):
            reason = _release_refusal(state, release_id)
        case InformationDisclosed(release_ids=release_ids):
            reason = next(filter(None, (_release_refusal(state, r) for r in release_ids)), None)
    return TransitionRefused(reason) if reason else None


def _goal_refusal(state: CaseState, goal_id: UUID, change: str) -> str | None:
    status = state.goals.get(goal_id)
    if change == "added":
        return f"goal {goal_id} is already in the plan" if status is not None else None
    if status is None:
        return f"there is no goal {goal_id} in the plan"
    if status != "open":
        return f"goal {goal_id} was {status}; add a new goal instead"
    return None


def _release_refusal(state: CaseState, release_id: UUID) -> str | None:
    status = state.releases.get(release_id)
    if status is None:
        return f"there is no release {release_id} in this case"
    if status == "revoked":
        return f"release {release_id} was revoked"
    return None


def accept(state: CaseState | None, payload: EventPayload) -> CaseState:
    """The state after `payload`, or `TransitionRefused` if it may not happen now."""
    refused = refusal(state, payload)
    if refused is not None:
        raise refused
    return evolve(state, payload)


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
