"""What each casework command means in events: pure functions from the case as it stands (and
the command's inputs) to the events to store.

Each returns candidate events; the case's guards (`casework.domain.transitions.accept`) then
refuse any of them the case's state does not allow, so a command is either stored whole or
refused whole. The timeline's decisions return an empty list when the moment has passed (a
contact came in, the assessment was done): a timer firing late is never an error.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from offramp_contracts.events.base import EventPayload, StaffRef
from offramp_contracts.events.casework import (
    CaseClosed,
    CaseManagerAssigned,
    ClientBecameActive,
    ClientBecameInactive,
    ClientEngaged,
    ClosureReason,
    ContactLogged,
    ContactMethod,
    IntakeAssessment,
    IntakeAssessmentCompleted,
    IntakeWindowMissed,
    InterventionPlanUpdated,
    NewArrestReported,
    NonComplianceReported,
    ProgressReportDue,
    ProsecutorDecision,
    ProsecutorDecisionRecorded,
    ReactivationReason,
    ServiceReferralMade,
    ServiceReferralOutcomeRecorded,
)
from offramp_contracts.events.circumstances import (
    CircumstancesRecorded,
    EmploymentStatus,
    HousingStatus,
    IncomeStatus,
)
from offramp_contracts.lifecycle import CaseState, coarse_status
from servicekit.refusals import Refusal

if TYPE_CHECKING:
    # For the types only: the commands use `Circumstances`, defined here, so importing them
    # when running would be circular. The decisions only read their fields.
    from casework.domain.case import (
        AssignCaseManager,
        ChangeGoal,
        RecordServiceOutcome,
        ReferToService,
        ReportNewArrest,
    )


class InvalidCommand(Refusal, ValueError):
    """The command itself is wrong whatever the case's state (an unknown condition, a reason
    only the prosecutor may give): the caller must change what they send."""

    status = 422
    kind = "invalid-command"
    title = "The command is not valid"


def intake_deadline(door: str, opened_at: datetime, window: timedelta | None) -> datetime | None:
    """Only an arrest diversion starts the intake clock (DESIGN.md rule 4)."""
    if door != "arrest_diversion" or window is None:
        return None
    return opened_at + window


def complete_intake_assessment(
    state: CaseState,
    *,
    assessed_by: StaffRef,
    assessment: IntakeAssessment,
    release_signed_on: date,
    at: datetime,
    deadline: datetime | None,
    circumstances: "Circumstances | None" = None,
) -> list[EventPayload]:
    """An assessment after the deadline whose timer has not fired yet still counts as late:
    the missed window is recorded first, so the prosecutor hears of it either way. The
    circumstances found at the assessment are its baseline for the outcomes reports."""
    events: list[EventPayload] = []
    late = deadline is not None and at > deadline
    if late and deadline is not None and not state.intake_window_missed:
        events.append(_window_missed(state, deadline))
    within: bool | None = None
    if state.door == "arrest_diversion":
        within = not (late or state.intake_window_missed)
    events.append(
        IntakeAssessmentCompleted(
            case_id=state.case_id,
            referral_id=state.referral_id,
            door=state.door,
            assessed_by=assessed_by,
            within_intake_window=within,
            release_signed_on=release_signed_on,
            assessment=assessment,
        )
    )
    if circumstances is not None:
        events.append(
            record_circumstances(state, by=assessed_by, circumstances=circumstances, at_intake=True)
        )
    return events


@dataclass(frozen=True)
class Circumstances:
    """Housing, income and employment status from `as_of` on; None where unchanged."""

    as_of: date
    housing: HousingStatus | None = None
    income: IncomeStatus | None = None
    employment: EmploymentStatus | None = None


def record_circumstances(
    state: CaseState, *, by: StaffRef, circumstances: Circumstances, at_intake: bool = False
) -> CircumstancesRecorded:
    if (circumstances.housing, circumstances.income, circumstances.employment) == (None,) * 3:
        raise InvalidCommand("give at least one of housing, income and employment")
    return CircumstancesRecorded(
        case_id=state.case_id,
        referral_id=state.referral_id,
        recorded_by=by,
        as_of=circumstances.as_of,
        at_intake=at_intake,
        housing=circumstances.housing,
        income=circumstances.income,
        employment=circumstances.employment,
    )


def miss_intake_window(state: CaseState, deadline: datetime) -> list[EventPayload]:
    if state.phase != "intake" or state.intake_window_missed or state.door != "arrest_diversion":
        return []
    return [_window_missed(state, deadline)]


def _window_missed(state: CaseState, deadline: datetime) -> IntakeWindowMissed:
    return IntakeWindowMissed(
        case_id=state.case_id,
        referral_id=state.referral_id,
        referring_officer=state.referring_officer,
        window_ended_at=deadline,
    )


def log_contact(
    state: CaseState,
    *,
    contact_id: UUID,
    logged_by: StaffRef,
    contacted_at: datetime,
    method: ContactMethod,
    notes: str,
    inactivity_period: timedelta,
) -> list[EventPayload]:
    """The first contact engages the participant. An inactive participant is active again on a
    contact since the inactivity began, and on one logged late that happened less than the
    inactivity period before it began: with that contact the period had not run out. (Case
    managers often log a day late.) A contact older than that leaves them inactive."""
    events: list[EventPayload] = [
        ContactLogged(
            case_id=state.case_id,
            contact_id=contact_id,
            logged_by=logged_by,
            contacted_at=contacted_at,
            method=method,
            notes=notes,
        )
    ]
    if not state.engaged:
        events.append(ClientEngaged(case_id=state.case_id, contact_id=contact_id))
    reason = _reactivation(state, contacted_at, inactivity_period)
    if reason is not None:
        events.append(
            ClientBecameActive(
                case_id=state.case_id,
                contact_id=contact_id,
                reason=reason,
                contacted_at=contacted_at,
            )
        )
    return events


def _reactivation(
    state: CaseState, contacted_at: datetime, period: timedelta
) -> ReactivationReason | None:
    if not state.inactive:
        return None
    since = state.inactive_since
    if since is None or contacted_at >= since:
        return "contact_after_inactivity"
    if contacted_at + period > since:
        return "contact_logged_late"
    return None


def become_inactive(
    state: CaseState, *, opened_at: datetime, period: timedelta, at: datetime
) -> list[EventPayload]:
    """Inactive once `period` has passed since the last contact (or the opening, if none)."""
    since = state.last_contact_at or opened_at
    if not state.is_open or state.inactive or at < since + period:
        return []
    return [
        ClientBecameInactive(
            case_id=state.case_id, last_contact_at=state.last_contact_at, inactive_since=at
        )
    ]


def report_progress(state: CaseState, number: int) -> list[EventPayload]:
    """The referring officer's periodic report: the coarse status and nothing else."""
    if not state.is_open or state.progress_reports >= number:
        return []
    return [
        ProgressReportDue(
            case_id=state.case_id,
            referral_id=state.referral_id,
            referring_officer=state.referring_officer,
            report_number=number,
            coarse_status=coarse_status(state),
        )
    ]


def change_goal(state: CaseState, command: "ChangeGoal") -> list[EventPayload]:
    return [
        InterventionPlanUpdated(
            case_id=state.case_id,
            goal_id=command.goal_id,
            change=command.change,
            updated_by=command.by,
            description=command.description,
        )
    ]


def refer_to_service(state: CaseState, command: "ReferToService") -> list[EventPayload]:
    return [
        ServiceReferralMade(
            case_id=state.case_id,
            service_referral_id=command.service_referral_id,
            service=command.service,
            provider=command.provider,
            referred_by=command.by,
            notes=command.notes,
        )
    ]


def record_service_outcome(state: CaseState, command: "RecordServiceOutcome") -> list[EventPayload]:
    return [
        ServiceReferralOutcomeRecorded(
            case_id=state.case_id,
            service_referral_id=command.service_referral_id,
            outcome=command.outcome,
            recorded_by=command.by,
            notes=command.notes,
        )
    ]


def report_non_compliance(
    state: CaseState, *, condition: str, details: str, site_conditions: tuple[str, ...]
) -> list[EventPayload]:
    """Only a condition the site attaches can be breached (DESIGN.md rule 8)."""
    if not site_conditions:
        raise InvalidCommand(
            "this site attaches no conditions to a diversion, so there is nothing to breach"
        )
    if condition not in site_conditions:
        raise InvalidCommand(
            f"{condition!r} is not one of the site's conditions: "
            + "; ".join(repr(c) for c in site_conditions)
        )
    return [NonComplianceReported(case_id=state.case_id, condition=condition, details=details)]


def record_prosecutor_decision(
    state: CaseState, *, decision: ProsecutorDecision, prosecutor: StaffRef, reason: str
) -> list[EventPayload]:
    """Filing is the prosecutor's act, done outside this system; recording it closes the case."""
    events: list[EventPayload] = [
        ProsecutorDecisionRecorded(
            case_id=state.case_id,
            referral_id=state.referral_id,
            decision=decision,
            prosecutor=prosecutor,
            reason=reason,
        )
    ]
    if decision == "file_charge":
        events.append(
            CaseClosed(case_id=state.case_id, referral_id=state.referral_id, reason="charges_filed")
        )
    return events


def report_new_arrest(state: CaseState, command: "ReportNewArrest") -> list[EventPayload]:
    return [
        NewArrestReported(
            case_id=state.case_id,
            referral_id=state.referral_id,
            reported_by=command.reported_by,
            reporter_role="prosecutor" if command.role == "prosecutor" else "officer",
            arrested_on=command.arrested_on,
        )
    ]


def close_case(state: CaseState, *, reason: ClosureReason) -> list[EventPayload]:
    if reason == "charges_filed":
        raise InvalidCommand(
            "a case closes as charges_filed only through the liaison prosecutor's decision to "
            "file the original charge"
        )
    return [CaseClosed(case_id=state.case_id, referral_id=state.referral_id, reason=reason)]


def assign(state: CaseState, command: "AssignCaseManager") -> list[EventPayload]:
    return [
        CaseManagerAssigned(
            case_id=state.case_id,
            case_manager=command.case_manager,
            previous_case_manager=state.case_manager,
        )
    ]
