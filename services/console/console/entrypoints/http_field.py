"""Officers and prosecutors: the referral form, my referrals, the inbox, the review queue and
alerts. What these pages show is what intake, casework and notify answer these roles: the
coarse status only, never anything learned in care."""

from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Header, Request, Response
from fastapi.responses import FileResponse, JSONResponse

from console.adapters.services import ServiceError
from console.domain.session import Session
from console.entrypoints.web import Csrf, Deps, Me, go, needs, render
from offramp_contracts.identifiers import case_id_for_referral

router = APIRouter()
Officer = Annotated[Session, Depends(needs("officer"))]
Prosecutor = Annotated[Session, Depends(needs("prosecutor"))]
LawEnforcement = Annotated[Session, Depends(needs("officer", "prosecutor"))]
SERVICE_WORKER = Path(__file__).parent / "static" / "sw.js"


def referrer_of(me: Session) -> str:
    """Who a referral kept on a device was made by: sent again, it goes only under their name."""
    return f"{me.subject}@{me.agency}"


@router.get("/")
async def home(me: Me) -> Response:
    return go(me.home)


@router.get("/sw.js", include_in_schema=False)
async def service_worker() -> Response:
    """The worker that keeps an officer's referral on the device until intake has it. Served
    from the root so that its scope can be `/officer`; never cached, so a new one takes over."""
    return FileResponse(
        SERVICE_WORKER,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/officer")
async def referral_form(request: Request, me: Officer, deps: Deps) -> Response:
    form = await deps.console.referral_form(me.token)
    context = {"form": form, "referred_by": referrer_of(me)}
    return render(request, "officer/refer.html", context, me=me)


@router.post("/officer/referrals", dependencies=[Csrf])
async def refer(
    request: Request,
    me: Officer,
    deps: Deps,
    idempotency_header: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    fields = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    key = idempotency_header or fields.get("idempotency_key", "")
    from_queue = request.headers.get("X-Offline-Queue") == "1"
    made_by = fields.get("referred_by", "")
    if made_by and made_by != referrer_of(me):
        # Kept on a shared device by another officer: never sent under this person's name.
        message = (
            f"This referral was saved on this device by {made_by}: sign in as them to send it."
        )
        if from_queue:
            return JSONResponse({"message": message, "keep": True}, status_code=409)
        raise ServiceError("console", 409, message)
    try:
        offset = int(fields.get("utc_offset_minutes") or 0)
        referral = await deps.console.refer(me.token, fields, key, offset)
    except ServiceError as error:
        if from_queue:
            return JSONResponse({"message": error.message}, status_code=error.status)
        form = await deps.console.referral_form(me.token)
        context = {
            "form": form,
            "error": error.message,
            "values": fields,
            "referred_by": referrer_of(me),
        }
        return render(request, "officer/refer.html", context, me=me, status=error.status)
    if from_queue:
        return JSONResponse(
            {"referral_id": referral["referral_id"], "status": referral["status"]},
            status_code=201,
        )
    return go(f"/officer/referrals?made={referral['referral_id']}")


@router.get("/officer/referrals")
async def my_referrals(request: Request, me: Officer, deps: Deps, made: str = "") -> Response:
    referrals = await deps.services.intake.my_referrals(me.token)
    for referral in referrals:
        referral["case_id"] = str(case_id_for_referral(UUID(referral["referral_id"])))
    return render(request, "officer/referrals.html", {"referrals": referrals, "made": made}, me=me)


@router.post("/officer/arrests", dependencies=[Csrf])
async def report_arrest(
    request: Request,
    me: LawEnforcement,
    deps: Deps,
    case_id: Annotated[UUID, Form()],
    arrested_on: Annotated[str, Form()],
) -> Response:
    await deps.services.casework.command(me.token, case_id, "arrests", {"arrested_on": arrested_on})
    return render(request, "parts/notice.html", {"message": "The new arrest is recorded."}, me=me)


@router.get("/inbox")
async def inbox(request: Request, me: Me, deps: Deps) -> Response:
    messages = await deps.services.notify.inbox(me.token)
    return render(request, "inbox.html", {"messages": messages}, me=me)


@router.get("/inbox/count")
async def unread_count(request: Request, me: Me, deps: Deps) -> Response:
    try:
        count = await deps.console.unread(me.token)
    except ServiceError:
        count = None
    return render(request, "parts/unread.html", {"count": count}, me=me)


@router.post("/inbox/{message_id}/read", dependencies=[Csrf])
async def mark_read(message_id: UUID, request: Request, me: Me, deps: Deps) -> Response:
    await deps.services.notify.mark_read(me.token, message_id)
    return go("/inbox", request)


@router.get("/reviews")
async def review_queue(request: Request, me: Prosecutor, deps: Deps) -> Response:
    reviews = await deps.services.intake.reviews(me.token)
    return render(request, "prosecutor/reviews.html", {"reviews": reviews}, me=me)


@router.post("/reviews/{referral_id}", dependencies=[Csrf])
async def review(
    referral_id: UUID,
    request: Request,
    me: Prosecutor,
    deps: Deps,
    verdict: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    if not reason.strip():
        raise ServiceError("console", 422, "Please give a reason for the decision.")
    outcome = await deps.services.intake.review(me.token, referral_id, verdict, reason)
    message = f"Referral {str(referral_id)[:8]}: {outcome['status'].replace('_', ' ')}."
    return render(request, "parts/notice.html", {"message": message}, me=me)


@router.get("/alerts")
async def alerts(request: Request, me: Prosecutor, deps: Deps) -> Response:
    messages: list[dict[str, Any]] = await deps.console.alerts(me.token)
    return render(request, "prosecutor/alerts.html", {"messages": messages}, me=me)


@router.post("/alerts/decision", dependencies=[Csrf])
async def record_decision(
    request: Request,
    me: Prosecutor,
    deps: Deps,
    case_id: Annotated[UUID, Form()],
    decision: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    body = {"decision": decision, "reason": reason}
    await deps.services.casework.command(me.token, case_id, "prosecutor-decision", body)
    return render(request, "parts/notice.html", {"message": "Your decision is recorded."}, me=me)
