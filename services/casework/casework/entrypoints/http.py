"""Casework's HTTP API."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from servicekit.auth import Principal
from servicekit.http import Runtime, require_role

router = APIRouter(tags=["cases"])
CaseStaff = Annotated[Principal, Depends(require_role("case_manager", "supervisor"))]


class CaseSummary(BaseModel):
    case_id: UUID
    referral_id: UUID
    door: str
    status: str
    case_manager: str | None
    opened_at: datetime


@router.get("/cases", response_model=list[CaseSummary])
async def agency_cases(staff: CaseStaff, runtime: Runtime) -> list[CaseSummary]:
    """Cases of the caller's own agency in the caller's jurisdiction."""
    rows = await runtime.pool.fetch(
        """SELECT case_id, referral_id, door, status, case_manager, opened_at FROM cases
           WHERE jurisdiction = $1 AND case_agency = $2 ORDER BY opened_at DESC""",
        staff.jurisdiction,
        staff.agency,
    )
    return [CaseSummary(**dict(row)) for row in rows]
