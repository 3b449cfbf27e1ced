"""Case managers, supervisors and public defenders: the caseload, a case, its intake assessment
and releases of information (every element 42 CFR 2.31 requires), the roster, and a client's
program status under a valid release with the redisclosure notice."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, get_args
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request, Response

from console.adapters.services import ServiceError
from console.domain.session import Session
from console.entrypoints.web import Csrf, Deps, go, needs, render
from offramp_contracts.events.casework import ClosureReason, ServiceKind, ServiceOutcome
from offramp_contracts.lifecycle import FINAL_SERVICE_OUTCOMES

router = APIRouter()
CaseStaff = Annotated[Session, Depends(needs("case_manager", "supervisor"))]
Supervisor = Annotated[Session, Depends(needs("supervisor"))]
Defender = Annotated[Session, Depends(needs("public_defender"))]

NEEDS = (
    "housing",
    "food",
    "substance_use_treatment",
    "detox",
    "mental_health",
    "medical",
    "income_and_benefits",
    "employment_and_job_training",
    "education",
    "civil_legal",
    "id_documents",
)
INFORMATION = (
    ("program_status", "Program status"),
    ("attendance", "Attendance"),
    ("assessed_needs", "Assessed needs"),
    ("service_referrals", "Service referrals"),
    ("substance_use_treatment", "Substance-use treatment information"),
)
# What the plan, service-referral and closing forms offer, from the published language.
PLAN_CHOICES: dict[str, Any] = {
    "service_kinds": get_args(ServiceKind),
    "service_outcomes": get_args(ServiceOutcome),
    "final_outcomes": FINAL_SERVICE_OUTCOMES,
    # A case closes as charges_filed only by the prosecutor's decision; casework refuses it here.
    "closure_reasons": tuple(r for r in get_args(ClosureReason) if r != "charges_filed"),
}
RECIPIENT_ROLES = (
    ("public_defender", "Public defender"),
    ("case_manager", "Another care agency's case manager"),
)


@router.get("/caseload")
async def caseload(request: Request, me: CaseStaff, deps: Deps) -> Response:
    cases = await deps.console.caseload(me.token)
    return render(request, "care/caseload.html", {"cases": cases}, me=me)


@router.get("/cases/{case_id}")
async def case_page(
    case_id: UUID, request: Request, me: CaseStaff, deps: Deps, done: str = ""
) -> Response:
    return await render_case(case_id, request, me, deps, done=done)


async def render_case(
    case_id: UUID,
    request: Request,
    me: Session,
    deps: Deps,
    *,
    done: str = "",
    release_error: str = "",
    refused: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The case page; `refused` names the section whose form a service refused, and why."""
    page = await deps.console.case_page(me.token, case_id, supervisor=me.has_role("supervisor"))
    context = {
        **page,
        **PLAN_CHOICES,
        "release_error": release_error,
        "refused": refused or {},
        "needs": NEEDS,
        "information": INFORMATION,
        "recipient_roles": RECIPIENT_ROLES,
        "today": date.today().isoformat(),
        "in_180_days": (datetime.now(UTC) + timedelta(days=180)).date().isoformat(),
        "done": done,
    }
    return render(request, "care/case.html", context, me=me, status=status)


@router.post("/cases/{case_id}/intake-assessment", dependencies=[Csrf])
async def intake_assessment(
    case_id: UUID,
    request: Request,
    me: CaseStaff,
    deps: Deps,
    release_signed_on: Annotated[str, Form()],
    notes: Annotated[str, Form()] = "",
) -> Response:
    form = await request.form()
    needs = [str(n) for n in form.getlist("needs")]
    body = {"needs": needs, "notes": notes, "release_signed_on": release_signed_on}
    await deps.services.casework.command(me.token, case_id, "intake-assessment", body)
    return go(f"/cases/{case_id}?done=assessment")


@router.post("/cases/{case_id}/contacts", dependencies=[Csrf])
async def contact(
    case_id: UUID,
    request: Request,
    me: CaseStaff,
    deps: Deps,
    method: Annotated[str, Form()],
    notes: Annotated[str, Form()] = "",
) -> Response:
    body = {"contacted_at": datetime.now(UTC).isoformat(), "method": method, "notes": notes}
    await deps.services.casework.command(me.token, case_id, "contacts", body)
    return go(f"/cases/{case_id}?done=contact")


@router.post("/cases/{case_id}/releases", dependencies=[Csrf])
async def record_release(
    case_id: UUID,
    request: Request,
    me: CaseStaff,
    deps: Deps,
) -> Response:
    form = await request.form()
    text = {k: str(v).strip() for k, v in form.items() if isinstance(v, str)}
    expires_at = text.get("expires_at")
    body: dict[str, Any] = {
        "participant": str(case_id),
        "discloser": text.get("discloser") or None,
        "information": [str(i) for i in form.getlist("information")],
        "recipient": {
            "agency": text.get("recipient_agency") or None,
            "role": text.get("recipient_role") or None,
            "subject": text.get("recipient_subject") or None,
        },
        "purpose": text.get("purpose") or None,
        "right_to_revoke": {
            "statement": text.get("revoke_statement") or None,
            "how": text.get("revoke_how") or None,
        },
        "expires_at": f"{expires_at}T23:59:59Z" if expires_at else None,
        "expires_on": "case_closed" if text.get("expires_on_case_closed") else None,
        "signature": {
            "signed_by": text.get("signed_by") or None,
            "representative": text.get("representative") or None,
            "signed_on": text.get("signed_on") or None,
        },
    }
    try:
        await deps.services.casework.post(f"/cases/{case_id}/releases", me.token, body)
    except ServiceError as refused:
        if refused.status != 422:
            raise
        # The form stays on the page with what casework says is missing, element by element.
        return await render_case(
            case_id, request, me, deps, release_error=refused.message, status=422
        )
    return go(f"/cases/{case_id}?done=release")


@router.post("/cases/{case_id}/non-compliance", dependencies=[Csrf])
async def non_compliance(
    case_id: UUID,
    me: CaseStaff,
    deps: Deps,
    condition: Annotated[str, Form()],
    details: Annotated[str, Form()] = "",
) -> Response:
    body = {"condition": condition, "details": details}
    await deps.services.casework.command(me.token, case_id, "non-compliance", body)
    return go(f"/cases/{case_id}?done=non-compliance")


@router.post("/cases/{case_id}/releases/{release_id}/revocation", dependencies=[Csrf])
async def revoke_release(
    case_id: UUID,
    release_id: UUID,
    me: CaseStaff,
    deps: Deps,
    method: Annotated[str, Form()],
) -> Response:
    await deps.services.casework.revoke(me.token, case_id, release_id, method)
    return go(f"/cases/{case_id}?done=revoked")


@router.get("/roster")
async def roster(request: Request, me: Supervisor, deps: Deps) -> Response:
    people = await deps.services.casework.roster(me.token)
    cases = await deps.services.casework.cases(me.token)
    load = Counter(c.get("case_manager") for c in cases if c.get("status") != "closed")
    return render(
        request, "care/roster.html", {"people": people, "load": load, "cases": cases}, me=me
    )


@router.post("/roster", dependencies=[Csrf])
async def add_to_roster(me: Supervisor, deps: Deps, subject: Annotated[str, Form()]) -> Response:
    await deps.services.casework.add_case_manager(me.token, subject.strip())
    return go("/roster")


@router.post("/roster/{subject}/retire", dependencies=[Csrf])
async def retire(subject: str, me: Supervisor, deps: Deps) -> Response:
    await deps.services.casework.retire_case_manager(me.token, subject)
    return go("/roster")


@router.get("/clients")
async def client_status(request: Request, me: Defender, deps: Deps, case_id: str = "") -> Response:
    disclosure: dict[str, Any] | None = None
    error = ""
    if case_id:
        try:
            disclosure = await deps.services.casework.disclosure(me.token, UUID(case_id.strip()))
        except ValueError:
            error = "A case number looks like 0190c5e2-7b1a-7cc3-8a5e-3f1c2d4e5f60."
        except ServiceError as refused:
            error = refused.message
    context = {"disclosure": disclosure, "case_id": case_id, "error": error}
    return render(request, "care/clients.html", context, me=me)
