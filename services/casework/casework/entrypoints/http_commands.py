"""The case manager's work, the supervisor's reassignment, the prosecutor's decision and new
arrests, over HTTP. Each route parses its body, calls its use case (`casework.use_cases`) and
answers the case as it now stands and the events stored."""

from collections.abc import Awaitable, Callable
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from casework.adapters.case_store import Recorded
from casework.entrypoints.command_request import Commands, Sent, case_command
from casework.entrypoints.command_schemas import (
    ArrestIn,
    AssignmentIn,
    CircumstancesIn,
    ClosureIn,
    CoarseCommandResult,
    CommandResult,
    ContactIn,
    DecisionIn,
    GoalChangeIn,
    GoalIn,
    IntakeAssessmentIn,
    NonComplianceIn,
    ServiceOutcomeIn,
    ServiceReferralIn,
)
from casework.entrypoints.http_cases import AT_CARE_AGENCY, CaseStaff, CaseView, LawEnforcement
from casework.use_cases import Made
from offramp_contracts.events.casework import GoalChange
from offramp_contracts.lifecycle import coarse_status
from servicekit.auth import Principal
from servicekit.http import require_role

router = APIRouter(tags=["casework"])
Supervisor = Annotated[Principal, Depends(require_role("supervisor", kinds=AT_CARE_AGENCY))]
Prosecutor = Annotated[Principal, Depends(require_role("prosecutor"))]


def _result(sent: Sent, recorded: Recorded, created: UUID | None = None) -> CommandResult:
    sent.answered(recorded)
    return CommandResult(
        case=CaseView.of(recorded.case),
        stored=[e.event_type for e in recorded.events],
        id=created,
    )


def _made(sent: Sent, made: Made) -> CommandResult:
    return _result(sent, made.recorded, made.id)


@case_command(router, "POST", "/cases/{case_id}/intake-assessment", CommandResult)
async def complete_intake_assessment(
    case_id: UUID, body: IntakeAssessmentIn, staff: CaseStaff, commands: Commands, sent: Sent
) -> CommandResult:
    """Needs assessed and the signed release recorded: the participant is enrolled."""
    recorded = await commands.complete_intake_assessment(
        sent.caller(staff),
        case_id,
        needs=body.needs,
        notes=body.notes,
        release_signed_on=body.release_signed_on,
        circumstances=body.circumstances.circumstances() if body.circumstances else None,
    )
    return _result(sent, recorded)


@case_command(router, "POST", "/cases/{case_id}/circumstances", CommandResult, created=True)
async def record_circumstances(
    case_id: UUID, body: CircumstancesIn, staff: CaseStaff, commands: Commands, sent: Sent
) -> CommandResult:
    """A change of housing, income or employment status (each counted, never shown outside
    the case-management agency, in the outcomes reports)."""
    caller = sent.caller(staff)
    return _result(sent, await commands.record_circumstances(caller, case_id, body.circumstances()))


@case_command(router, "POST", "/cases/{case_id}/contacts", CommandResult, created=True)
async def log_contact(
    case_id: UUID, body: ContactIn, staff: CaseStaff, commands: Commands, sent: Sent
) -> CommandResult:
    made = await commands.log_contact(
        sent.caller(staff),
        case_id,
        contacted_at=body.contacted_at,
        method=body.method,
        notes=body.notes,
    )
    return _made(sent, made)


@case_command(router, "POST", "/cases/{case_id}/goals", CommandResult, created=True)
async def add_goal(
    case_id: UUID, body: GoalIn, staff: CaseStaff, commands: Commands, sent: Sent
) -> CommandResult:
    return _made(sent, await commands.add_goal(sent.caller(staff), case_id, body.description))


@case_command(router, "PATCH", "/cases/{case_id}/goals/{goal_id}", CommandResult)
async def update_goal(
    case_id: UUID, goal_id: UUID, body: GoalIn, staff: CaseStaff, commands: Commands, sent: Sent
) -> CommandResult:
    caller = sent.caller(staff)
    return _made(
        sent, await commands.change_goal(caller, case_id, goal_id, "updated", body.description)
    )


def _goal_ended(
    change: GoalChange, name: str, doc: str | None = None
) -> Callable[..., Awaitable[CommandResult]]:
    """The route that marks a goal `achieved` or `dropped`: the two differ only in the word."""

    async def route(
        case_id: UUID,
        goal_id: UUID,
        body: GoalChangeIn,
        staff: CaseStaff,
        commands: Commands,
        sent: Sent,
    ) -> CommandResult:
        caller = sent.caller(staff)
        return _made(
            sent, await commands.change_goal(caller, case_id, goal_id, change, body.description)
        )

    # The name gives the operation its id and summary, as a function written out would.
    route.__name__, route.__qualname__, route.__doc__ = name, name, doc
    return case_command(
        router, "POST", f"/cases/{{case_id}}/goals/{{goal_id}}/{change}", CommandResult
    )(route)


achieve_goal = _goal_ended("achieved", "achieve_goal")
drop_goal = _goal_ended(
    "dropped",
    "drop_goal",
    "Dropping a goal is no failure of the participant's: plans change (harm reduction).",
)


@case_command(router, "POST", "/cases/{case_id}/service-referrals", CommandResult, created=True)
async def refer_to_service(
    case_id: UUID, body: ServiceReferralIn, staff: CaseStaff, commands: Commands, sent: Sent
) -> CommandResult:
    made = await commands.refer_to_service(
        sent.caller(staff), case_id, service=body.service, provider=body.provider, notes=body.notes
    )
    return _made(sent, made)


@case_command(
    router,
    "POST",
    "/cases/{case_id}/service-referrals/{service_referral_id}/outcome",
    CommandResult,
)
async def record_service_outcome(
    case_id: UUID,
    service_referral_id: UUID,
    body: ServiceOutcomeIn,
    staff: CaseStaff,
    commands: Commands,
    sent: Sent,
) -> CommandResult:
    recorded = await commands.record_service_outcome(
        sent.caller(staff),
        case_id,
        service_referral_id,
        outcome=body.outcome,
        notes=body.notes,
    )
    return _result(sent, recorded)


@case_command(router, "POST", "/cases/{case_id}/non-compliance", CommandResult)
async def report_non_compliance(
    case_id: UUID, body: NonComplianceIn, staff: CaseStaff, commands: Commands, sent: Sent
) -> CommandResult:
    """Only where the site attaches conditions, and only one of them (otherwise 422)."""
    recorded = await commands.report_non_compliance(
        sent.caller(staff), case_id, condition=body.condition, details=body.details
    )
    return _result(sent, recorded)


@case_command(router, "POST", "/cases/{case_id}/prosecutor-decision", CoarseCommandResult)
async def record_prosecutor_decision(
    case_id: UUID, body: DecisionIn, prosecutor: Prosecutor, commands: Commands, sent: Sent
) -> CoarseCommandResult:
    """After a missed intake window or reported non-compliance; filing closes the case. The
    prosecutor is answered with the coarse status only, like every law-enforcement read."""
    recorded = sent.answered(
        await commands.record_prosecutor_decision(
            sent.caller(prosecutor), case_id, decision=body.decision, reason=body.reason
        )
    )
    return CoarseCommandResult(
        case_id=case_id,
        referral_id=recorded.case.state.referral_id,
        status=coarse_status(recorded.case.state),
        stored=[e.event_type for e in recorded.events],
    )


@case_command(router, "POST", "/cases/{case_id}/arrests", None, created=True)
async def report_new_arrest(
    case_id: UUID, body: ArrestIn, caller: LawEnforcement, commands: Commands, sent: Sent
) -> dict[str, object]:
    """An officer or the prosecutor reports a new arrest; they learn nothing of the case."""
    recorded = sent.answered(
        await commands.report_new_arrest(sent.caller(caller), case_id, body.arrested_on)
    )
    return {"case_id": str(case_id), "stored": [e.event_type for e in recorded.events]}


@case_command(router, "POST", "/cases/{case_id}/closure", CommandResult)
async def close_case(
    case_id: UUID, body: ClosureIn, staff: CaseStaff, commands: Commands, sent: Sent
) -> CommandResult:
    """Graduated is the case manager's judgement; there are no fixed criteria."""
    return _result(sent, await commands.close_case(sent.caller(staff), case_id, body.reason))


@case_command(router, "PUT", "/cases/{case_id}/case-manager", CommandResult)
async def reassign(
    case_id: UUID, body: AssignmentIn, supervisor: Supervisor, commands: Commands, sent: Sent
) -> CommandResult:
    """A supervisor gives the case to an active case manager on their agency's roster."""
    caller = sent.caller(supervisor)
    return _result(sent, await commands.reassign(caller, case_id, body.case_manager))
