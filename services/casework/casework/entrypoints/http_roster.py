"""Supervisors keep their agency's roster of case managers: who is given new cases."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from casework.adapters import roster
from casework.entrypoints.http_cases import AT_CARE_AGENCY, Cases
from servicekit.auth import AuthorizationError, Principal
from servicekit.http import Runtime, require_role
from servicekit.problems import Problem

router = APIRouter(tags=["roster"])
Supervisor = Annotated[Principal, Depends(require_role("supervisor", kinds=AT_CARE_AGENCY))]


class RosterEntryOut(BaseModel):
    subject: str
    active: bool
    open_cases: int


def _case_management_agency(supervisor: Principal, cases: Cases) -> str:
    """A roster belongs to a jurisdiction's case-management agency, as its profiles name it."""
    agencies = {
        profile.agencies.case_management
        for (jurisdiction, _), profile in cases.profiles.profiles.items()
        if jurisdiction == supervisor.jurisdiction
    }
    if supervisor.agency not in agencies:
        raise AuthorizationError(
            f"{supervisor.agency} is not the case-management agency of {supervisor.jurisdiction}"
        )
    return supervisor.agency


@router.get("/case-managers", response_model=list[RosterEntryOut])
async def agency_roster(
    supervisor: Supervisor, cases: Cases, runtime: Runtime
) -> list[RosterEntryOut]:
    """The agency's case managers with their open caseloads."""
    agency = _case_management_agency(supervisor, cases)
    async with runtime.pool.acquire() as conn:
        entries = await roster.roster(conn, jurisdiction=supervisor.jurisdiction, agency=agency)
    return [RosterEntryOut(**e.__dict__) for e in entries]


@router.put("/case-managers/{subject}", status_code=204)
async def register_case_manager(
    subject: str, supervisor: Supervisor, cases: Cases, runtime: Runtime
) -> Response:
    """Adds the case manager to the roster (or makes them active again): they take new cases."""
    agency = _case_management_agency(supervisor, cases)
    if not subject.strip() or len(subject) > 200:
        raise Problem(
            422,
            "invalid-subject",
            "Not a valid subject",
            "Name the case manager as in their token.",
        )
    async with runtime.pool.acquire() as conn:
        await roster.register(
            conn,
            jurisdiction=supervisor.jurisdiction,
            agency=agency,
            subject=subject,
            by=supervisor.subject,
        )
    return Response(status_code=204)


@router.delete("/case-managers/{subject}", status_code=204)
async def deactivate_case_manager(
    subject: str, supervisor: Supervisor, cases: Cases, runtime: Runtime
) -> Response:
    """No new cases go to them; their open cases stay theirs until reassigned."""
    agency = _case_management_agency(supervisor, cases)
    async with runtime.pool.acquire() as conn:
        found = await roster.deactivate(
            conn,
            jurisdiction=supervisor.jurisdiction,
            agency=agency,
            subject=subject,
            by=supervisor.subject,
        )
    if not found:
        raise Problem(
            404, "not-on-roster", "Not on the roster", f"{subject} is not on {agency}'s roster."
        )
    return Response(status_code=204)
