"""The case manager's work, the supervisor's reassignment, the prosecutor's decision and new
arrests, over HTTP. Each endpoint turns its body into a decision (casework.domain.decisions)
and runs it as one command; the answer is the case as it now stands and the events stored."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from casework.adapters import roster
from casework.adapters.case_store import Recorded, StoredCase
from casework.commands import Decide, Party
from casework.domain import decisions
from casework.entrypoints.command_request import Sent
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
from casework.entrypoints.http_cases import (
    AT_CARE_AGENCY,
    CASE_RECORD,
    Cases,
    CaseStaff,
    CaseView,
    LawEnforcement,
    staff_ref,
)
from offramp_contracts.events.base import EventPayload, StaffRef
from offramp_contracts.events.casework import (
    GoalChange,
    IntakeAssessment,
)
from offramp_contracts.lifecycle import coarse_status
from offramp_contracts.profile import SiteProfile
from servicekit.auth import Principal
from servicekit.http import Runtime, require_role

router = APIRouter(tags=["casework"])
Supervisor = Annotated[Principal, Depends(require_role("supervisor", kinds=AT_CARE_AGENCY))]
Prosecutor = Annotated[Principal, Depends(require_role("prosecutor"))]


def _result(recorded: Recorded, created: UUID | None = None) -> CommandResult:
    return CommandResult(
        case=CaseView.of(recorded.case),
        stored=[e.event_type for e in recorded.events],
        id=created,
    )


async def _run(
    cases: Cases, case_id: UUID, caller: Principal, party: Party, decide: Decide, sent: Sent
) -> Recorded:
    recorded = await cases.run(
        case_id, caller, party, decide, correlation_id=sent.correlation_id, key=sent.key
    )
    if recorded.replayed:
        sent.replayed()
    return recorded


@router.post(
    "/cases/{case_id}/intake-assessment", response_model=CommandResult, openapi_extra=CASE_RECORD
)
async def complete_intake_assessment(
    case_id: UUID, body: IntakeAssessmentIn, staff: CaseStaff, cases: Cases, sent: Sent
) -> CommandResult:
    """Needs assessed and the signed release recorded: the participant is enrolled."""
    at = datetime.now(UTC)

    def decide(case: StoredCase, _: SiteProfile) -> Sequence[EventPayload]:
        return decisions.complete_intake_assessment(
            case.state,
            assessed_by=staff_ref(staff),
            assessment=IntakeAssessment(needs=body.needs, notes=body.notes),
            release_signed_on=body.release_signed_on,
            at=at,
            deadline=case.intake_deadline,
            circumstances=body.circumstances.circumstances() if body.circumstances else None,
        )

    return _result(await _run(cases, case_id, staff, "case_staff", decide, sent))


@router.post(
    "/cases/{case_id}/circumstances",
    status_code=201,
    response_model=CommandResult,
    openapi_extra=CASE_RECORD,
)
async def record_circumstances(
    case_id: UUID, body: CircumstancesIn, staff: CaseStaff, cases: Cases, sent: Sent
) -> CommandResult:
    """A change of housing, income or employment status (each counted, never shown outside
    the case-management agency, in the outcomes reports)."""

    def decide(case: StoredCase, _: SiteProfile) -> Sequence[EventPayload]:
        return [
            decisions.record_circumstances(
                case.state, by=staff_ref(staff), circumstances=body.circumstances()
            )
        ]

    return _result(await _run(cases, case_id, staff, "case_staff", decide, sent))


@router.post(
    "/cases/{case_id}/contacts",
    status_code=201,
    response_model=CommandResult,
    openapi_extra=CASE_RECORD,
)
async def log_contact(
    case_id: UUID, body: ContactIn, staff: CaseStaff, cases: Cases, sent: Sent
) -> CommandResult:
    contact_id = sent.new_id(staff)

    def decide(case: StoredCase, profile: SiteProfile) -> Sequence[EventPayload]:
        return decisions.log_contact(
            case.state,
            contact_id=contact_id,
            logged_by=staff_ref(staff),
            contacted_at=body.contacted_at,
            method=body.method,
            notes=body.notes,
            inactivity_period=profile.inactivity_period,
        )

    return _result(await _run(cases, case_id, staff, "case_staff", decide, sent), contact_id)


@router.post(
    "/cases/{case_id}/goals",
    status_code=201,
    response_model=CommandResult,
    openapi_extra=CASE_RECORD,
)
async def add_goal(
    case_id: UUID, body: GoalIn, staff: CaseStaff, cases: Cases, sent: Sent
) -> CommandResult:
    goal_id = sent.new_id(staff)
    return await _goal(cases, case_id, goal_id, "added", body.description, staff, sent)


@router.patch(
    "/cases/{case_id}/goals/{goal_id}", response_model=CommandResult, openapi_extra=CASE_RECORD
)
async def update_goal(
    case_id: UUID, goal_id: UUID, body: GoalIn, staff: CaseStaff, cases: Cases, sent: Sent
) -> CommandResult:
    return await _goal(cases, case_id, goal_id, "updated", body.description, staff, sent)


@router.post(
    "/cases/{case_id}/goals/{goal_id}/achieved",
    response_model=CommandResult,
    openapi_extra=CASE_RECORD,
)
async def achieve_goal(
    case_id: UUID,
    goal_id: UUID,
    body: GoalChangeIn,
    staff: CaseStaff,
    cases: Cases,
    sent: Sent,
) -> CommandResult:
    return await _goal(cases, case_id, goal_id, "achieved", body.description, staff, sent)


@router.post(
    "/cases/{case_id}/goals/{goal_id}/dropped",
    response_model=CommandResult,
    openapi_extra=CASE_RECORD,
)
async def drop_goal(
    case_id: UUID,
    goal_id: UUID,
    body: GoalChangeIn,
    staff: CaseStaff,
    cases: Cases,
    sent: Sent,
) -> CommandResult:
    """Dropping a goal is no failure of the participant's: plans change (harm reduction)."""
    return await _goal(cases, case_id, goal_id, "dropped", body.description, staff, sent)


async def _goal(
    cases: Cases,
    case_id: UUID,
    goal_id: UUID,
    change: GoalChange,
    description: str,
    staff: Principal,
    sent: Sent,
) -> CommandResult:
    def decide(case: StoredCase, _: SiteProfile) -> Sequence[EventPayload]:
        return decisions.change_goal(
            case.state, goal_id=goal_id, change=change, by=staff_ref(staff), description=description
        )

    return _result(await _run(cases, case_id, staff, "case_staff", decide, sent), goal_id)


@router.post(
    "/cases/{case_id}/service-referrals",
    status_code=201,
    response_model=CommandResult,
    openapi_extra=CASE_RECORD,
)
async def refer_to_service(
    case_id: UUID, body: ServiceReferralIn, staff: CaseStaff, cases: Cases, sent: Sent
) -> CommandResult:
    referral_id = sent.new_id(staff)

    def decide(case: StoredCase, _: SiteProfile) -> Sequence[EventPayload]:
        return decisions.refer_to_service(
            case.state,
            service_referral_id=referral_id,
            service=body.service,
            provider=body.provider,
            by=staff_ref(staff),
            notes=body.notes,
        )

    return _result(await _run(cases, case_id, staff, "case_staff", decide, sent), referral_id)


@router.post(
    "/cases/{case_id}/service-referrals/{service_referral_id}/outcome",
    response_model=CommandResult,
    openapi_extra=CASE_RECORD,
)
async def record_service_outcome(
    case_id: UUID,
    service_referral_id: UUID,
    body: ServiceOutcomeIn,
    staff: CaseStaff,
    cases: Cases,
    sent: Sent,
) -> CommandResult:
    def decide(case: StoredCase, _: SiteProfile) -> Sequence[EventPayload]:
        return decisions.record_service_outcome(
            case.state,
            service_referral_id=service_referral_id,
            outcome=body.outcome,
            by=staff_ref(staff),
            notes=body.notes,
        )

    return _result(await _run(cases, case_id, staff, "case_staff", decide, sent))


@router.post(
    "/cases/{case_id}/non-compliance", response_model=CommandResult, openapi_extra=CASE_RECORD
)
async def report_non_compliance(
    case_id: UUID, body: NonComplianceIn, staff: CaseStaff, cases: Cases, sent: Sent
) -> CommandResult:
    """Only where the site attaches conditions, and only one of them (otherwise 422)."""

    def decide(case: StoredCase, profile: SiteProfile) -> Sequence[EventPayload]:
        return decisions.report_non_compliance(
            case.state,
            condition=body.condition,
            details=body.details,
            site_conditions=profile.conditions,
        )

    return _result(await _run(cases, case_id, staff, "case_staff", decide, sent))


@router.post(
    "/cases/{case_id}/prosecutor-decision",
    response_model=CoarseCommandResult,
    openapi_extra=CASE_RECORD,
)
async def record_prosecutor_decision(
    case_id: UUID, body: DecisionIn, prosecutor: Prosecutor, cases: Cases, sent: Sent
) -> CoarseCommandResult:
    """After a missed intake window or reported non-compliance; filing closes the case. The
    prosecutor is answered with the coarse status only, like every law-enforcement read."""

    def decide(case: StoredCase, _: SiteProfile) -> Sequence[EventPayload]:
        return decisions.record_prosecutor_decision(
            case.state, decision=body.decision, prosecutor=staff_ref(prosecutor), reason=body.reason
        )

    recorded = await _run(cases, case_id, prosecutor, "prosecutor", decide, sent)
    return CoarseCommandResult(
        case_id=case_id,
        referral_id=recorded.case.state.referral_id,
        status=coarse_status(recorded.case.state),
        stored=[e.event_type for e in recorded.events],
    )


@router.post(
    "/cases/{case_id}/arrests", status_code=201, response_model=None, openapi_extra=CASE_RECORD
)
async def report_new_arrest(
    case_id: UUID, body: ArrestIn, caller: LawEnforcement, cases: Cases, sent: Sent
) -> dict[str, object]:
    """An officer or the prosecutor reports a new arrest; they learn nothing of the case."""

    def decide(case: StoredCase, _: SiteProfile) -> Sequence[EventPayload]:
        role = "prosecutor" if caller.has_role("prosecutor") else "officer"
        return decisions.report_new_arrest(
            case.state, reported_by=staff_ref(caller), role=role, arrested_on=body.arrested_on
        )

    recorded = await _run(cases, case_id, caller, "law_enforcement", decide, sent)
    return {"case_id": str(case_id), "stored": [e.event_type for e in recorded.events]}


@router.post("/cases/{case_id}/closure", response_model=CommandResult, openapi_extra=CASE_RECORD)
async def close_case(
    case_id: UUID, body: ClosureIn, staff: CaseStaff, cases: Cases, sent: Sent
) -> CommandResult:
    """Graduated is the case manager's judgement; there are no fixed criteria."""

    def decide(case: StoredCase, _: SiteProfile) -> Sequence[EventPayload]:
        return decisions.close_case(case.state, reason=body.reason)

    return _result(await _run(cases, case_id, staff, "case_staff", decide, sent))


@router.put(
    "/cases/{case_id}/case-manager", response_model=CommandResult, openapi_extra=CASE_RECORD
)
async def reassign(
    case_id: UUID,
    body: AssignmentIn,
    supervisor: Supervisor,
    cases: Cases,
    runtime: Runtime,
    sent: Sent,
) -> CommandResult:
    """A supervisor gives the case to an active case manager on their agency's roster."""
    await cases.read(case_id, supervisor, "case_staff")  # another agency's case: 404 first
    async with runtime.pool.acquire() as conn:
        active = await roster.is_active(
            conn,
            jurisdiction=supervisor.jurisdiction,
            agency=supervisor.agency,
            subject=body.case_manager,
        )
    if not active:
        raise decisions.InvalidCommand(
            f"{body.case_manager} is not an active case manager of {supervisor.agency}; "
            "register them on the roster first"
        )

    def decide(case: StoredCase, _: SiteProfile) -> Sequence[EventPayload]:
        return decisions.assign(
            case.state, case_manager=StaffRef(subject=body.case_manager, agency=case.agency)
        )

    return _result(await _run(cases, case_id, supervisor, "case_staff", decide, sent))
