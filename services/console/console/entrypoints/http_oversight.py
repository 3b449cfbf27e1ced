"""Auditors and operators: the ledger's verification, checkpoints, a case's history and the
case as of an instant, export; the health of every service, parked deliveries and every
service's dead letters, replayed or discarded."""

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from console.adapters.services import ServiceApi, ServiceError
from console.domain.session import Session
from console.entrypoints.web import Csrf, Deps, go, needs, render

router = APIRouter()
Auditor = Annotated[Session, Depends(needs("auditor"))]
Operator = Annotated[Session, Depends(needs("operator"))]
SETTLEMENTS = {"replay": "replayed", "discard": "discarded"}


@router.get("/ledger")
async def ledger(request: Request, me: Auditor, deps: Deps) -> Response:
    verification = await deps.services.audit.verify(me.token)
    checkpoints = await deps.services.audit.checkpoints(me.token)
    if isinstance(checkpoints, dict):
        checkpoints = checkpoints.get("checkpoints", [])
    # An export is proved against a signed checkpoint: it can reach the latest one's size.
    signed = max((int(c.get("tree_size") or 0) for c in checkpoints), default=0)
    context = {"verification": verification, "checkpoints": checkpoints, "signed": signed}
    return render(request, "oversight/ledger.html", context, me=me)


@router.get("/ledger/case")
async def case_history(
    request: Request, me: Auditor, deps: Deps, case_id: str = "", at: str = ""
) -> Response:
    context: dict[str, Any] = {"case_id": case_id, "at": at, "history": None, "as_of": None}
    try:
        wanted = UUID(case_id.strip())
    except ValueError:
        context["error"] = (
            "Give a case number (a UUID such as 0190c5e2-7b1a-7cc3-8a5e-3f1c2d4e5f60)."
        )
        return render(request, "oversight/case.html", context, me=me, status=422)
    try:
        context["history"] = await deps.services.audit.case_history(me.token, wanted)
        if at:
            instant = datetime.fromisoformat(at)
            if instant.tzinfo is None:
                instant = instant.replace(tzinfo=UTC)
            context["as_of"] = await deps.services.audit.as_of(
                me.token, wanted, instant.isoformat()
            )
    except ValueError:
        context["error"] = "Give the instant as a date and time."
    except ServiceError as error:
        context["error"] = error.message
    return render(request, "oversight/case.html", context, me=me)


@router.get("/ledger/export")
async def export(me: Auditor, deps: Deps, first: int = 1, last: int = 1) -> Response:
    content = await deps.services.audit.export(me.token, first, last)
    return Response(
        content,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="ledger-{first}-{last}.json"'},
    )


@router.get("/operations")
async def operations(request: Request, me: Operator, deps: Deps) -> Response:
    health = await deps.console.health()
    parked = await deps.services.notify.deliveries(me.token, "parked")
    return render(request, "oversight/operations.html", {"health": health, "parked": parked}, me=me)


@router.post("/operations/deliveries/{delivery_id}/retry", dependencies=[Csrf])
async def retry(delivery_id: UUID, request: Request, me: Operator, deps: Deps) -> Response:
    await deps.services.notify.retry(me.token, delivery_id)
    return go("/operations", request)


@router.get("/operations/dead-letters")
async def dead_letters(request: Request, me: Operator, deps: Deps) -> Response:
    """Every service's parked messages, each asked with the operator's own token; a service
    that cannot answer is said so beside the others' letters."""

    async def of(api: ServiceApi) -> tuple[str, list[Any], str]:
        try:
            return api.name, list(await api.dead_letters(me.token)), ""
        except ServiceError as error:
            return api.name, [], error.message

    answers = await asyncio.gather(*(of(api) for api in deps.services.all()))
    letters = [{**letter, "service": name} for name, found, _ in answers for letter in found]
    letters.sort(key=lambda letter: str(letter.get("parked_at", "")))
    failures = [(name, message) for name, _, message in answers if message]
    context = {
        "letters": letters,
        "failures": failures,
        "notice": SETTLEMENTS.get(request.query_params.get("done", "")),
    }
    return render(request, "oversight/dead_letters.html", context, me=me)


@router.post("/operations/dead-letters/{service}/{letter_id}/{action}", dependencies=[Csrf])
async def settle(
    service: str, letter_id: int, action: str, request: Request, me: Operator, deps: Deps
) -> Response:
    api = deps.services.named(service)
    if api is None or action not in SETTLEMENTS:
        raise ServiceError("console", 404, "There is no such dead letter.")
    await api.settle_dead_letter(me.token, letter_id, action)
    return go(f"/operations/dead-letters?done={action}", request)
