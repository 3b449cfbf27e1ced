"""What operators manage over HTTP: partners' webhook subscriptions, and deliveries that were
parked after their last attempt. Only the `operator` role, only in their own jurisdiction (ADR
0005): a subscription decides where an agency's notifications leave the county's systems, which
is a configuration decision, not a caseworker's."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import AnyHttpUrl, BaseModel, Field

from notify.entrypoints.callers import UseCases, origin_of
from notify.use_cases import EndWebhookSubscription, RetryDelivery, SubscribeWebhook
from servicekit.auth import Principal
from servicekit.http import require_role
from servicekit.idempotency import MAX_KEY, MIN_KEY, idempotent_what

router = APIRouter(tags=["operations"])
Operator = Annotated[Principal, Depends(require_role("operator"))]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=MIN_KEY,
        max_length=MAX_KEY,
        description=(
            "Made up by the client once per subscription (a UUID is best) and sent again with "
            "every retry of it: the retries answer the subscription the first attempt made."
        ),
    ),
]


class NewSubscription(BaseModel):
    agency: str = Field(
        min_length=1,
        max_length=200,
        description="The agency whose notifications (to its people and offices) are sent.",
    )
    url: AnyHttpUrl
    description: str = Field(default="", max_length=500)


class Subscription(BaseModel):
    subscription_id: UUID
    agency: str
    url: str
    description: str
    created_by: str
    created_at: datetime
    active: bool


class CreatedSubscription(Subscription):
    secret: str = Field(
        description="The whsec_ signing secret. Shown only now: store it in the partner system."
    )


@router.post(
    "/webhook-subscriptions",
    status_code=201,
    response_model=CreatedSubscription,
    openapi_extra=idempotent_what("webhook subscription"),
)
async def subscribe(
    body: NewSubscription,
    operator: Operator,
    use_cases: UseCases,
    http: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> CreatedSubscription:
    """The URL must be https, carry no user name or password, and its host resolve to public
    addresses only (checked again before every delivery). The audit ledger records the
    subscription with the URL's origin (scheme and host); its path, query and the secret stay
    in notify."""
    command = SubscribeWebhook(body.agency, str(body.url), body.description, idempotency_key)
    made = await use_cases.subscribe_webhook(command, origin_of(operator, http, "operator"))
    if made.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return CreatedSubscription.model_validate(made.subscription, from_attributes=True)


@router.get("/webhook-subscriptions", response_model=list[Subscription])
async def subscriptions(operator: Operator, use_cases: UseCases) -> list[Subscription]:
    rows = await use_cases.subscriptions(operator.jurisdiction)
    return [Subscription.model_validate(row, from_attributes=True) for row in rows]


@router.delete(
    "/webhook-subscriptions/{subscription_id}",
    status_code=204,
    openapi_extra=idempotent_what("webhook subscription"),
)
async def unsubscribe(
    subscription_id: UUID, operator: Operator, use_cases: UseCases, http: Request
) -> None:
    """Stops new deliveries; pending ones to it are parked at their next attempt."""
    await use_cases.end_webhook_subscription(
        EndWebhookSubscription(subscription_id), origin_of(operator, http, "operator")
    )


class DeliveryView(BaseModel):
    delivery_id: UUID
    channel: str
    destination: str = Field(description="The e-mail address, or the webhook URL.")
    trigger: str | None
    recipient_agency: str
    recipient_subject: str | None
    recipient_role: str | None
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


@router.get("/deliveries", response_model=list[DeliveryView])
async def deliveries(
    operator: Operator,
    use_cases: UseCases,
    status: Literal["parked", "pending", "delivered"] = "parked",
) -> list[DeliveryView]:
    """Parked deliveries (the default) are the ones that need an operator: retry them once the
    receiving end is fixed."""
    rows = await use_cases.deliveries(operator.jurisdiction, status)
    return [DeliveryView(**vars(row)) for row in rows]


@router.post("/deliveries/{delivery_id}/retry", status_code=202)
async def retry(delivery_id: UUID, operator: Operator, use_cases: UseCases) -> dict[str, str]:
    await use_cases.retry_delivery(RetryDelivery(delivery_id), operator.jurisdiction)
    return {"status": "pending"}
