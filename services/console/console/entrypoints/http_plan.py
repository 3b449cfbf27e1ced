"""The rest of a case manager's work on a case page: the intervention plan's goals, service
referrals and their outcomes, closing the case; and a supervisor's reassignment. Casework
decides every one; a refusal it gives for what was asked (409, 422) stays on the case page
beside the form it came from, in words."""

from collections.abc import Awaitable
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request, Response

from console.adapters.services import ServiceError
from console.domain.session import Session
from console.entrypoints.http_care import CaseStaff, render_case
from console.entrypoints.web import Csrf, Deps, go, needs

router = APIRouter()
Supervisor = Annotated[Session, Depends(needs("supervisor"))]
Section = Literal["plan", "services", "closure", "assignment"]


async def _on_case_page(
    case_id: UUID,
    request: Request,
    me: Session,
    deps: Deps,
    section: Section,
    done: str,
    command: Awaitable[Any],
) -> Response:
    try:
        await command
    except ServiceError as refused:
        if refused.status not in (409, 422):
            raise
        return await render_case(
            case_id, request, me, deps, refused={section: refused.message}, status=refused.status
        )
    return go(f"/cases/{case_id}?done={done}#{section}")


@router.post("/cases/{case_id}/goals", dependencies=[Csrf])
async def add_goal(
    case_id: UUID,
    request: Request,
    me: CaseStaff,
    deps: Deps,
    description: Annotated[str, Form()] = "",
) -> Response:
    command = deps.services.casework.add_goal(me.token, case_id, description.strip())
    return await _on_case_page(case_id, request, me, deps, "plan", "goal", command)


@router.post("/cases/{case_id}/goals/{goal_id}", dependencies=[Csrf])
async def change_goal(
    case_id: UUID,
    goal_id: UUID,
    request: Request,
    me: CaseStaff,
    deps: Deps,
    change: Annotated[Literal["updated", "achieved", "dropped"], Form()],
    description: Annotated[str, Form()] = "",
) -> Response:
    command = deps.services.casework.change_goal(
        me.token, case_id, goal_id, change, description.strip()
    )
    return await _on_case_page(case_id, request, me, deps, "plan", f"goal-{change}", command)


@router.post("/cases/{case_id}/service-referrals", dependencies=[Csrf])
async def refer_to_service(
    case_id: UUID,
    request: Request,
    me: CaseStaff,
    deps: Deps,
    service: Annotated[str, Form()],
    provider: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
) -> Response:
    command = deps.services.casework.refer_to_service(
        me.token, case_id, service, provider.strip(), notes
    )
    return await _on_case_page(case_id, request, me, deps, "services", "service-referral", command)


@router.post(
    "/cases/{case_id}/service-referrals/{service_referral_id}/outcome", dependencies=[Csrf]
)
async def record_service_outcome(
    case_id: UUID,
    service_referral_id: UUID,
    request: Request,
    me: CaseStaff,
    deps: Deps,
    outcome: Annotated[str, Form()],
    notes: Annotated[str, Form()] = "",
) -> Response:
    command = deps.services.casework.record_service_outcome(
        me.token, case_id, service_referral_id, outcome, notes
    )
    return await _on_case_page(case_id, request, me, deps, "services", "service-outcome", command)


@router.post("/cases/{case_id}/closure", dependencies=[Csrf])
async def close_case(
    case_id: UUID,
    request: Request,
    me: CaseStaff,
    deps: Deps,
    reason: Annotated[str, Form()],
) -> Response:
    command = deps.services.casework.close(me.token, case_id, reason)
    return await _on_case_page(case_id, request, me, deps, "closure", "closed", command)


@router.post("/cases/{case_id}/case-manager", dependencies=[Csrf])
async def reassign(
    case_id: UUID,
    request: Request,
    me: Supervisor,
    deps: Deps,
    case_manager: Annotated[str, Form()],
) -> Response:
    command = deps.services.casework.reassign(me.token, case_id, case_manager.strip())
    return await _on_case_page(case_id, request, me, deps, "assignment", "reassigned", command)
