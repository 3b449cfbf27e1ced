"""What operators manage over HTTP: partners' webhook subscriptions, and deliveries that were
parked after their last attempt. Only the `operator` role, only in their own jurisdiction (ADR
0005): a subscription decides where an agency's notifications leave the county's systems, which
is a configuration decision, not a caseworker's."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends
from pydantic import AnyHttpUrl, BaseModel, Field

from notify.adapters.webhooks import checked_addresses, new_secret
from notify.container import NotifyContainer
from notify.delivery_loop import retry_parked
from notify.domain.destinations import UnsafeDestination
from servicekit.auth import Principal
from servicekit.http import Runtime, require_role
from servicekit.problems import Problem

router = APIRouter(tags=["operations"])
Operator = Annotated[Principal, Depends(require_role("operator"))]


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


@router.post("/webhook-subscriptions", status_code=201, response_model=CreatedSubscription)
async def subscribe(
    body: NewSubscription, operator: Operator, runtime: Runtime
) -> CreatedSubscription:
    """The URL must be https, carry no user name or password, and its host resolve to public
    addresses only (checked again before every delivery)."""
    policy = runtime.container_as(NotifyContainer).destinations
    try:
        await checked_addresses(policy, str(body.url))
    except UnsafeDestination as refused:
        raise Problem(
            422, "unsafe-webhook-url", "This webhook URL is not allowed", f"{refused}."
        ) from refused
    row = await runtime.pool.fetchrow(
        """INSERT INTO webhook_subscriptions (subscription_id, jurisdiction, agency, url, secret,
                                              description, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           RETURNING subscription_id, agency, url, secret, description, created_by, created_at,
                     active""",
        uuid4(),
        operator.jurisdiction,
        body.agency,
        str(body.url),
        new_secret(),
        body.description,
        operator.subject,
    )
    return CreatedSubscription(**dict(row))


@router.get("/webhook-subscriptions", response_model=list[Subscription])
async def subscriptions(operator: Operator, runtime: Runtime) -> list[Subscription]:
    rows = await runtime.pool.fetch(
        """SELECT subscription_id, agency, url, description, created_by, created_at, active
           FROM webhook_subscriptions WHERE jurisdiction = $1 ORDER BY created_at""",
        operator.jurisdiction,
    )
    return [Subscription(**dict(row)) for row in rows]


@router.delete("/webhook-subscriptions/{subscription_id}", status_code=204)
async def unsubscribe(subscription_id: UUID, operator: Operator, runtime: Runtime) -> None:
    """Stops new deliveries; pending ones to it are parked at their next attempt."""
    result = await runtime.pool.execute(
        """UPDATE webhook_subscriptions SET active = false
           WHERE subscription_id = $1 AND jurisdiction = $2""",
        subscription_id,
        operator.jurisdiction,
    )
    if result.endswith(" 0"):
        raise Problem(
            404, "not-found", "No such subscription", f"No subscription {subscription_id}."
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
    runtime: Runtime,
    status: Literal["parked", "pending", "delivered"] = "parked",
) -> list[DeliveryView]:
    """Parked deliveries (the default) are the ones that need an operator: retry them once the
    receiving end is fixed."""
    rows = await runtime.pool.fetch(
        """SELECT d.delivery_id, d.channel, coalesce(d.email, s.url) AS destination, m.trigger,
                  m.recipient_agency, m.recipient_subject, m.recipient_role, d.status,
                  d.attempts, d.last_error, d.created_at, d.finished_at
           FROM deliveries d
           JOIN in_app_messages m USING (message_id)
           LEFT JOIN webhook_subscriptions s USING (subscription_id)
           WHERE d.jurisdiction = $1 AND d.status = $2
           ORDER BY d.created_at DESC LIMIT 500""",
        operator.jurisdiction,
        status,
    )
    return [DeliveryView(**dict(row)) for row in rows]


@router.post("/deliveries/{delivery_id}/retry", status_code=202)
async def retry(delivery_id: UUID, operator: Operator, runtime: Runtime) -> dict[str, str]:
    if not await retry_parked(runtime.pool, delivery_id, operator.jurisdiction):
        raise Problem(
            404,
            "not-found",
            "No such parked delivery",
            f"Delivery {delivery_id} is not parked in your jurisdiction; list them with "
            "GET /deliveries?status=parked.",
        )
    return {"status": "pending"}
