"""A participant's case as a decider (ADR 0011): the commands a case takes, `decide(command,
state) -> events`, `evolve` (the shared projection of `offramp_contracts.lifecycle`) and the
initial state (no case yet).

`decide` asks `casework.domain.decisions` (and `consent`) what a command means in events, then
runs each of them through the case's guards (`casework.domain.transitions.accept`): a command is
refused whole (`TransitionRefused`, `InvalidCommand`, a consent refusal) or decided whole. A
timeline command whose moment has passed decides nothing, which is never an error.

Commands carry what the case's own stream does not hold: the caller, the clock, the site's
rules and, for releases and disclosures, what the use case read from the stream beside the
state (the releases, the parties). Pure: no I/O and no clock.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from casework.domain import consent, decisions
from casework.domain.consent import CaseParties, ReleaseForm
from casework.domain.decisions import Circumstances
from casework.domain.disclosure import Disclosure
from casework.domain.releases import ConsentRecord
from casework.domain.transitions import TransitionRefused, accept, closed_refusal
from offramp_contracts.events.base import EventPayload, StaffRef
from offramp_contracts.events.casework import (
    ClosureReason,
    ContactMethod,
    GoalChange,
    IntakeAssessment,
    ProsecutorDecision,
    ServiceKind,
    ServiceOutcome,
)
from offramp_contracts.events.consent import ConsentGranted, RevocationMethod
from offramp_contracts.lifecycle import CaseState, evolve
from servicekit.command_loop import Decider, fold

# The case manager's and the supervisor's commands ---------------------------------------------


@dataclass(frozen=True)
class CompleteIntakeAssessment:
    assessed_by: StaffRef
    assessment: IntakeAssessment
    release_signed_on: date
    at: datetime
    deadline: datetime | None
    circumstances: Circumstances | None = None


@dataclass(frozen=True)
class RecordCircumstances:
    by: StaffRef
    circumstances: Circumstances


@dataclass(frozen=True)
class LogContact:
    contact_id: UUID
    logged_by: StaffRef
    contacted_at: datetime
    method: ContactMethod
    notes: str
    inactivity_period: timedelta


@dataclass(frozen=True)
class ChangeGoal:
    goal_id: UUID
    change: GoalChange
    by: StaffRef
    description: str


@dataclass(frozen=True)
class ReferToService:
    service_referral_id: UUID
    service: ServiceKind
    provider: str
    by: StaffRef
    notes: str


@dataclass(frozen=True)
class RecordServiceOutcome:
    service_referral_id: UUID
    outcome: ServiceOutcome
    by: StaffRef
    notes: str


@dataclass(frozen=True)
class ReportNonCompliance:
    condition: str
    details: str
    site_conditions: tuple[str, ...]


@dataclass(frozen=True)
class CloseCase:
    reason: ClosureReason


@dataclass(frozen=True)
class AssignCaseManager:
    case_manager: StaffRef


@dataclass(frozen=True)
class GrantRelease:
    form: ReleaseForm
    parties: CaseParties
    release_id: UUID
    recorded_by: StaffRef
    now: datetime


@dataclass(frozen=True)
class RevokeRelease:
    record: ConsentRecord
    release_id: UUID
    revoked_at: datetime
    method: RevocationMethod
    recorded_by: StaffRef
    now: datetime


@dataclass(frozen=True)
class RecordDisclosure:
    """What `casework.domain.disclosure.disclose` decided a requester receives; the command
    records its `InformationDisclosed`."""

    disclosure: Disclosure


# Law enforcement's commands ------------------------------------------------------------------


@dataclass(frozen=True)
class RecordProsecutorDecision:
    decision: ProsecutorDecision
    prosecutor: StaffRef
    reason: str


@dataclass(frozen=True)
class ReportNewArrest:
    reported_by: StaffRef
    role: str
    arrested_on: date


# The timeline's commands ---------------------------------------------------------------------


@dataclass(frozen=True)
class MissIntakeWindow:
    deadline: datetime


@dataclass(frozen=True)
class BecomeInactive:
    opened_at: datetime
    period: timedelta
    at: datetime


@dataclass(frozen=True)
class ReportProgress:
    number: int


CaseCommand = (
    CompleteIntakeAssessment
    | RecordCircumstances
    | LogContact
    | ChangeGoal
    | ReferToService
    | RecordServiceOutcome
    | ReportNonCompliance
    | CloseCase
    | AssignCaseManager
    | GrantRelease
    | RevokeRelease
    | RecordDisclosure
    | RecordProsecutorDecision
    | ReportNewArrest
    | MissIntakeWindow
    | BecomeInactive
    | ReportProgress
)


def decide(command: CaseCommand, state: CaseState | None) -> list[EventPayload]:
    """The events `command` stores on the case as it stands, each one allowed by the guards."""
    if state is None:
        raise TransitionRefused(f"there is no case yet for {type(command).__name__}")
    events = _candidates(command, state)
    fold(accept, state, events)  # raises TransitionRefused for the first the case refuses
    return events


def _candidates(command: CaseCommand, state: CaseState) -> list[EventPayload]:
    match command:
        case CompleteIntakeAssessment():
            return decisions.complete_intake_assessment(
                state,
                assessed_by=command.assessed_by,
                assessment=command.assessment,
                release_signed_on=command.release_signed_on,
                at=command.at,
                deadline=command.deadline,
                circumstances=command.circumstances,
            )
        case RecordCircumstances(by=by, circumstances=circumstances):
            return [decisions.record_circumstances(state, by=by, circumstances=circumstances)]
        case LogContact():
            return decisions.log_contact(
                state,
                contact_id=command.contact_id,
                logged_by=command.logged_by,
                contacted_at=command.contacted_at,
                method=command.method,
                notes=command.notes,
                inactivity_period=command.inactivity_period,
            )
        case ChangeGoal():
            return decisions.change_goal(state, command)
        case ReferToService():
            return decisions.refer_to_service(state, command)
        case RecordServiceOutcome():
            return decisions.record_service_outcome(state, command)
        case ReportNonCompliance(condition=condition, details=details, site_conditions=site):
            return decisions.report_non_compliance(
                state, condition=condition, details=details, site_conditions=site
            )
        case CloseCase(reason=reason):
            return decisions.close_case(state, reason=reason)
        case AssignCaseManager():
            return decisions.assign(state, command)
        case GrantRelease():
            # A closed case is refused before the form is judged: no completing it helps.
            refused = closed_refusal(
                state,
                ConsentGranted,
                hint=f"it takes no new release. Its past disclosures stay listed at "
                f"GET /cases/{state.case_id}/disclosures",
            )
            if refused is not None:
                raise refused
            return [
                consent.grant(
                    command.form,
                    command.parties,
                    release_id=command.release_id,
                    recorded_by=command.recorded_by,
                    now=command.now,
                )
            ]
        case RevokeRelease():
            return [
                consent.revoke(
                    command.record,
                    case_id=state.case_id,
                    release_id=command.release_id,
                    revoked_at=command.revoked_at,
                    method=command.method,
                    recorded_by=command.recorded_by,
                    now=command.now,
                )
            ]
        case RecordDisclosure(disclosure=disclosure):
            return [disclosure.event]
        case RecordProsecutorDecision(decision=decision, prosecutor=prosecutor, reason=reason):
            return decisions.record_prosecutor_decision(
                state, decision=decision, prosecutor=prosecutor, reason=reason
            )
        case ReportNewArrest():
            return decisions.report_new_arrest(state, command)
        case MissIntakeWindow(deadline=deadline):
            return decisions.miss_intake_window(state, deadline)
        case BecomeInactive(opened_at=opened_at, period=period, at=at):
            return decisions.become_inactive(state, opened_at=opened_at, period=period, at=at)
        case ReportProgress(number=number):
            return decisions.report_progress(state, number)


def _evolve(state: CaseState | None, event: EventPayload) -> CaseState | None:
    return evolve(state, event)


CASE: Decider[CaseCommand, CaseState | None] = Decider(decide, _evolve, None)
"""The case's decider: no case until its CaseOpened (which the timeline stores when it opens
the case, not a command of this decider)."""
