"""Reading cases over HTTP: the agency's caseload and a case in full for its own agency's staff;
the coarse status alone for the referring officer and the liaison prosecutor."""

from dataclasses import asdict
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from casework.adapters.case_store import StoredCase
from casework.commands import Casework
from casework.container import CaseworkContainer
from casework.domain.case_record import history_of, plan_of
from casework.domain.transitions import TransitionRefused
from offramp_contracts import Actor
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.casework import (
    ClientBecameActive,
    CoarseStatusName,
    ServiceKind,
    ServiceOutcome,
)
from offramp_contracts.lifecycle import (
    GoalStatus,
    IntakeWindowOutcome,
    coarse_status,
)
from offramp_contracts.profile import AgencyKind
from servicekit.access import participant_record, shown
from servicekit.auth import AuthorizationError, Principal
from servicekit.http import Runtime, require_role
from servicekit.refusals import Refusal

router = APIRouter(tags=["cases"])
# Care-staff gates: the site's profile must name the caller's agency as its case-management
# agency, and a token with a law-enforcement role in it never passes (servicekit.http).
AT_CARE_AGENCY: dict[str, AgencyKind] = {"case_manager": "care", "supervisor": "care"}
CaseStaff = Annotated[
    Principal, Depends(require_role("case_manager", "supervisor", kinds=AT_CARE_AGENCY))
]
LawEnforcement = Annotated[Principal, Depends(require_role("officer", "prosecutor"))]
Prosecutor = Annotated[Principal, Depends(require_role("prosecutor"))]
# Every route about one case: reads of it are recorded, and so are refusals (servicekit.access).
CASE_RECORD = participant_record("case", "case_id")


def staff_ref(principal: Principal) -> StaffRef:
    """The caller as the events name a person acting for an agency."""
    return StaffRef(subject=principal.subject, agency=principal.agency)


async def casework_of(runtime: Runtime) -> Casework:
    return runtime.container_as(CaseworkContainer).casework


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
    description: str = Field(description="The goal's wording, as added or last reworded.")
    note: str = Field(description="What was written when it was achieved or dropped.")
    added_at: datetime
    changed_at: datetime


class ServiceReferral(BaseModel):
    service_referral_id: UUID
    service: ServiceKind
    provider: str
    notes: str
    referred_at: datetime
    outcome: ServiceOutcome | None = Field(description="The latest outcome recorded, if any.")
    outcome_notes: str
    outcome_at: datetime | None


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
    active_again: str | None
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
        plan = plan_of(case.events)
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
            active_again=_active_again(s.active_again) if s.active_again else None,
            contacts=s.contacts,
            last_contact_at=s.last_contact_at,
            goals=[Goal(**asdict(g)) for g in plan.goals],
            service_referrals=[ServiceReferral(**asdict(r)) for r in plan.service_referrals],
            progress_reports=s.progress_reports,
            non_compliance_reports=s.non_compliance_reports,
            new_arrests=s.new_arrests,
            closure_reason=s.closure_reason,
        )


def _active_again(event: ClientBecameActive) -> str:
    """Why the participant is active again, for their case manager to read."""
    on = f" on {event.contacted_at:%Y-%m-%d}" if event.contacted_at else ""
    if event.reason == "contact_logged_late":
        return (
            f"active again: a contact{on}, logged after the inactivity was recorded, falls "
            "inside the inactivity period"
        )
    return f"active again: a contact{on} after the inactivity began"


class CoarseView(BaseModel):
    """All that law enforcement learns of a case (DESIGN.md rule 7)."""

    case_id: UUID
    referral_id: UUID
    status: CoarseStatusName


@router.get("/cases", response_model=list[CaseSummary], openapi_extra=participant_record("case"))
async def agency_cases(staff: CaseStaff, cases: Cases, request: Request) -> list[CaseSummary]:
    """Cases of the caller's own agency in the caller's jurisdiction."""
    answer = [CaseSummary(**dict(row)) for row in await cases.agency_cases(staff)]
    shown(request, "case", (c.case_id for c in answer))
    return answer


@router.get("/cases/{case_id}", response_model=CaseView, openapi_extra=CASE_RECORD)
async def case_in_full(case_id: UUID, staff: CaseStaff, cases: Cases) -> CaseView:
    """The case as its case-management agency knows it; for another agency it does not exist
    (404)."""
    return CaseView.of(await cases.read(case_id, staff, "case_staff"))


class HistoryLine(BaseModel):
    """One event of the case as casework recorded it."""

    event_id: UUID
    event_type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: Actor = Field(description="Who caused it: a person, or casework acting on its own.")
    summary: str = Field(description="What happened, in one plain line.")


@router.get("/cases/{case_id}/history", response_model=list[HistoryLine], openapi_extra=CASE_RECORD)
async def case_history(case_id: UUID, staff: CaseStaff, cases: Cases) -> list[HistoryLine]:
    """The case's own history, oldest first, for its case-management agency only: every event
    of its stream with who, when and a line in words. What was learned in care is in these
    lines (a goal's wording, a provider), so no one outside that agency may read them."""
    case = await cases.read(case_id, staff, "case_staff")
    return [HistoryLine(**asdict(entry)) for entry in history_of(case.events)]


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


class DiversionStatus(BaseModel):
    """An arrest diversion as the liaison prosecutor follows it (DESIGN.md rules 4 and 7): the
    coarse status, when the intake window ends and how it came out. Nothing learned in care."""

    case_id: UUID
    referral_id: UUID
    opened_at: datetime
    status: CoarseStatusName
    intake_window_ends_at: datetime | None
    intake_window: IntakeWindowOutcome


@router.get(
    "/diversions",
    response_model=list[DiversionStatus],
    tags=["prosecutor"],
    openapi_extra=participant_record("case"),
)
async def prosecutor_diversions(
    prosecutor: Prosecutor, cases: Cases, request: Request
) -> list[DiversionStatus]:
    """The arrest diversions of the caller's jurisdiction, for its liaison prosecutor's office:
    which are pending intake, which met the window (no filing expected), which missed it."""
    answer = [
        DiversionStatus(
            case_id=row["case_id"],
            referral_id=row["referral_id"],
            opened_at=row["opened_at"],
            status=row["status"],
            intake_window_ends_at=row["intake_deadline"],
            intake_window=row["intake_window"],
        )
        for row in await cases.diversions_for(prosecutor)
    ]
    shown(request, "case", (d.case_id for d in answer))
    return answer


def refusal_of_transition(refused: TransitionRefused) -> Refusal:
    """The case's guards' refusals (`casework.domain.transitions`) as casework answers them:
    409, and a closed case says so."""
    return CaseRefused(refused)


class CaseRefused(Refusal):
    status = 409

    def __init__(self, refused: TransitionRefused) -> None:
        super().__init__(refused.reason)
        if refused.case_closed:
            self.kind, self.title = "case-closed", "The case is closed"
        else:
            self.kind, self.title = "not-allowed-now", "Not possible in the case's present state"
