"""Which events may happen to a case in its present state: casework's guards over the case
projection of `offramp_contracts.lifecycle` (the state every reader folds).

`accept(state, payload)` refuses (`TransitionRefused`) an event that may not happen to the case
as it stands, and otherwise returns the evolved state. The case's decider
(`casework.domain.case`) runs every event it decides through it, so an impossible command is
refused whole and stores nothing.

Pure: no I/O and no clock.
"""

from collections.abc import Mapping
from types import MappingProxyType
from uuid import UUID

from offramp_contracts.events.base import EventPayload
from offramp_contracts.events.casework import (
    CaseClosed,
    CaseManagerAssigned,
    CaseOpened,
    ClientBecameActive,
    ClientBecameInactive,
    ClientEngaged,
    ContactLogged,
    IntakeAssessmentCompleted,
    IntakeWindowMissed,
    InterventionPlanUpdated,
    NewArrestReported,
    NonComplianceReported,
    ProgressReportDue,
    ProsecutorDecisionRecorded,
    ServiceReferralMade,
    ServiceReferralOutcomeRecorded,
)
from offramp_contracts.events.circumstances import CircumstancesRecorded
from offramp_contracts.events.consent import ConsentGranted, ConsentRevoked, InformationDisclosed
from offramp_contracts.lifecycle import FINAL_SERVICE_OUTCOMES, CaseState, Phase, evolve

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


class TransitionRefused(ValueError):
    """The event may not happen to the case as it stands; `reason` says why, for a person."""

    def __init__(self, reason: str, *, case_closed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.case_closed = case_closed


def refusal(state: CaseState | None, payload: EventPayload) -> TransitionRefused | None:
    """Why `payload` may not happen now, or None if it may."""
    if state is None:
        if isinstance(payload, CaseOpened):
            return None
        return TransitionRefused(f"there is no case yet for {payload.event_type}")
    closed = closed_refusal(state, type(payload))
    if closed is not None:
        return closed
    if isinstance(payload, CaseOpened):
        return TransitionRefused(f"case {state.case_id} is already open")
    if type(payload) not in ALLOWED[state.phase]:
        return TransitionRefused(_phase_refusal(state, payload))
    return _guard(state, payload)


def closed_refusal(
    state: CaseState, kind: type[EventPayload], *, hint: str = "it accepts no more changes"
) -> TransitionRefused | None:
    """Why a closed case refuses an event of `kind` (None if the case is open, or the event is
    record keeping): asked before a command does work that a closed case makes pointless."""
    if state.phase != "closed" or kind in ALLOWED["closed"]:
        return None
    return TransitionRefused(
        f"case {state.case_id} was closed ({state.closure_reason}); {hint}", case_closed=True
    )


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
