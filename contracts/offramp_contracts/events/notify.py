"""Events of the notify context: what was delivered to whom, through which channel.

They record that a person or an office was told, never what the message said: the text stays in
notify's own store, and the ledger keeps the fact of the delivery."""

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from offramp_contracts.events.base import Context, EventPayload

Channel = Literal["in_app", "email", "webhook"]


class NotificationRecipient(BaseModel):
    """A person (`subject`) of an agency, or an office: every member of `agency` holding `role`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agency: str = Field(min_length=1, max_length=200)
    subject: str | None = Field(default=None, min_length=1, max_length=200)
    role: str | None = Field(default=None, min_length=1, max_length=50)


class NotificationDelivered(EventPayload):
    """A notification reached its channel: stored in the in-app inbox, accepted by the SMTP
    server, or answered with a 2xx by a partner's webhook endpoint. Recorded once per delivery,
    however many times the delivery was attempted or its cause redelivered."""

    event_type: ClassVar[str] = "NotificationDelivered"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "notify"

    delivery_id: UUID
    notification_id: UUID
    channel: Channel
    recipient: NotificationRecipient
    trigger: str = Field(min_length=1, max_length=100, description="The event type that caused it.")
    caused_by: UUID
    attempts: int = Field(ge=1)
    subscription_id: UUID | None = Field(default=None, description="For webhooks: whose endpoint.")


class NotificationFailed(EventPayload):
    """A delivery that kept failing and was parked for an operator after its last attempt."""

    event_type: ClassVar[str] = "NotificationFailed"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "notify"

    delivery_id: UUID
    notification_id: UUID
    channel: Channel
    recipient: NotificationRecipient
    trigger: str = Field(min_length=1, max_length=100)
    caused_by: UUID
    attempts: int = Field(ge=1)
    subscription_id: UUID | None = None
    last_error: str = Field(max_length=1000)
