"""Reading cases over HTTP: the agency's caseload and a case in full for its own agency's staff;
the coarse status alone for the referring officer and the liaison prosecutor."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from casework.adapters.case_store import StoredCase
from casework.commands import CaseNotFound, Casework
from casework.domain.decisions import InvalidCommand
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.casework import CoarseStatusName, ServiceOutcome
from offramp_contracts.lifecycle import GoalStatus, TransitionRefused, coarse_status
from servicekit.access import participant_record, shown
from servicekit.auth import AuthorizationError, Principal
from servicekit.http import Runtime, require_role
from servicekit.problems import problem_response

router = APIRouter(tags=["cases"])
CaseStaff = Annotated[Principal, Depends(require_role("case_manager", "supervisor"))]
LawEnforcement = Annotated[Principal, Depends(require_role("officer", "prosecutor"))]
# Every route about one case: reads of it are recorded, and so are refusals (servicekit.access).
CASE_RECORD = participant_record("case", "case_id")


def staff_ref(principal: Principal) -> StaffRef:
    """The caller as the events name a person acting for an agency."""
    return StaffRef(subject=principal.subject, agency=principal.agency)


def casework_of(runtime: Runtime) -> Casework:
    casework: Casework = runtime.extras["casework"]
    return casework


Cases = Annotated[Casework, Depends(casework_of)]


class CaseSummary(BaseModel):
    case_id: UUID
    referral_id: UUID
    door: str
    status: str
    phase: str
    case_manager: str | None
    opened_at: datetime
    intake_deadline: datetime | None = Field(
        default=None, description="Arrest diversion in intake: when the intake window closes."
    )
    last_contact_at: datetime | None = None


class Goal(BaseModel):
    goal_id: UUID
    status: GoalStatus


class ServiceReferral(BaseModel):
    service_referral_id: UUID
    outcome: ServiceOutcome | None


class CaseView(BaseModel):
    """The whole case, for its case-management agency only."""

    case_id: UUID
    referral_id: UUID
    door: str
    policy_version: str
    phase: str
    coarse_status: CoarseStatusName
    case_manager: str | None
    opened_at: datetime
    intake_deadline: datetime | None
    intake_window_missed: bool
    awaiting_prosecutor: str | None
    engaged: bool
    inactive: bool
    contacts: int
    last_contact_at: datetime | None
    goals: list[Goal]
    service_referrals: list[ServiceReferral]
    progress_reports: int
    non_compliance_reports: int
    new_arrests: int
    closure_reason: str | None

    @classmethod
    def of(cls, case: StoredCase) -> "CaseView":
        s = case.state
        return cls(
            case_id=s.case_id,
            referral_id=s.referral_id,
            door=s.door,
            policy_version=s.policy_version,
            phase=s.phase,
            coarse_status=coarse_status(s),
            case_manager=s.case_manager.subject if s.case_manager else None,
            opened_at=case.opened_at,
            intake_deadline=case.intake_deadline,
            intake_window_missed=s.intake_window_missed,
            awaiting_prosecutor=s.prosecutor_review,
            engaged=s.engaged,
            inactive=s.inactive,
            contacts=s.contacts,
            last_contact_at=s.last_contact_at,
            goals=[Goal(goal_id=g, status=st) for g, st in s.goals.items()],
            service_referrals=[
                ServiceReferral(service_referral_id=r, outcome=o)
                for r, o in s.service_referrals.items()
            ],
            progress_reports=s.progress_reports,
            non_compliance_reports=s.non_compliance_reports,
            new_arrests=s.new_arrests,
            closure_reason=s.closure_reason,
        )


class CoarseView(BaseModel):
    """All that law enforcement learns of a case (DESIGN.md rule 7)."""

    case_id: UUID
    referral_id: UUID
    status: CoarseStatusName


@router.get("/cases", response_model=list[CaseSummary], openapi_extra=participant_record("case"))
async def agency_cases(staff: CaseStaff, runtime: Runtime, request: Request) -> list[CaseSummary]:
    """Cases of the caller's own agency in the caller's jurisdiction."""
    rows = await runtime.pool.fetch(
        """SELECT case_id, referral_id, door, status, phase, case_manager, opened_at,
                  intake_deadline, last_contact_at FROM cases
           WHERE jurisdiction = $1 AND case_agency = $2 ORDER BY opened_at DESC""",
        staff.jurisdiction,
        staff.agency,
    )
    answer = [CaseSummary(**dict(row)) for row in rows]
    shown(request, "case", (c.case_id for c in answer))
    return answer


@router.get("/cases/{case_id}", response_model=CaseView, openapi_extra=CASE_RECORD)
async def case_in_full(case_id: UUID, staff: CaseStaff, cases: Cases) -> CaseView:
    """The case as its case-management agency knows it; another agency is refused (403)."""
    return CaseView.of(await cases.read(case_id, staff, "case_staff"))


@router.get("/cases/{case_id}/status", response_model=CoarseView, openapi_extra=CASE_RECORD)
async def coarse_case_status(case_id: UUID, caller: LawEnforcement, cases: Cases) -> CoarseView:
    """The referring officer's or the liaison prosecutor's view: the coarse status only."""
    case = await cases.read(case_id, caller, "law_enforcement")
    if not caller.has_role("prosecutor"):
        officer = case.state.referring_officer
        if (caller.subject, caller.agency) != (officer.subject, officer.agency):
            raise AuthorizationError("only the officer who made the referral may see its status")
    return CoarseView(
        case_id=case.case_id, referral_id=case.state.referral_id, status=coarse_status(case.state)
    )


def install_casework_problems(app: FastAPI) -> None:
    """Casework's refusals as RFC 9457 problems: 404 unknown case, 409 the case's state does not
    allow it (a closed case says so), 422 the command itself is wrong."""

    @app.exception_handler(CaseNotFound)
    async def _not_found(request: Request, exc: CaseNotFound) -> JSONResponse:
        return problem_response(request, 404, "case-not-found", "No such case", str(exc))

    @app.exception_handler(TransitionRefused)
    async def _refused(request: Request, exc: TransitionRefused) -> JSONResponse:
        if exc.case_closed:
            return problem_response(request, 409, "case-closed", "The case is closed", exc.reason)
        return problem_response(
            request, 409, "not-allowed-now", "Not possible in the case's present state", exc.reason
        )

    @app.exception_handler(InvalidCommand)
    async def _invalid(request: Request, exc: InvalidCommand) -> JSONResponse:
        return problem_response(
            request, 422, "invalid-command", "The command is not valid", str(exc)
        )
