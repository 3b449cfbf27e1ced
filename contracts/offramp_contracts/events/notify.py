"""Events of the notify context: what was delivered to whom, through which channel, and where
notifications may go (webhook subscriptions, e-mail addresses).

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


# Where notifications go. A place where information leaves notify is a fact the ledger must
# see; what would let someone else use that place (a secret, a credential in a URL, a mailbox)
# stays in notify's own tables, which can forget it: the ledger never can.


class WebhookSubscribed(EventPayload):
    """An operator subscribed a partner system's endpoint to an agency's notifications: from now
    on, what notify tells that agency's people and offices is also sent there.

    Never carries the subscription's `whsec_` signing secret: notify makes it, shows it once to
    the operator, and keeps it only in its `webhook_subscriptions` row (the projection), since
    signing needs it. Nor the URL's path and query, where partners' systems often put a token
    of their own: `origin` (scheme, host and a port other than the default) says where the
    notifications leave the county's systems; the whole URL stays in the row."""

    event_type: ClassVar[str] = "WebhookSubscribed"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "notify"

    subscription_id: UUID
    agency: str = Field(
        min_length=1, max_length=200, description="The agency whose notifications are sent."
    )
    origin: str = Field(
        min_length=1,
        max_length=300,
        description="The endpoint's scheme, host and non-default port, e.g. https://cms.example.",
    )


class WebhookUnsubscribed(EventPayload):
    """An operator deactivated a webhook subscription: no new deliveries go to it, and pending
    ones are parked at their next attempt."""

    event_type: ClassVar[str] = "WebhookUnsubscribed"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "notify"

    subscription_id: UUID
    agency: str = Field(min_length=1, max_length=200)
    origin: str = Field(min_length=1, max_length=300)


class EmailAddressSet(EventPayload):
    """A person registered their own e-mail address, or an operator set an office's (every
    member of `recipient.agency` holding `recipient.role`): what that recipient is told in the
    inbox is also e-mailed from now on.

    Never carries the address: a mailbox is contact data, kept only in notify's
    `person_addresses` / `office_addresses` row (the projection) so that removing it forgets
    it. `domain`, the part after the `@`, says which mail system the messages leave for (the
    agency's own, a partner's, a public provider)."""

    event_type: ClassVar[str] = "EmailAddressSet"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "notify"

    recipient: NotificationRecipient
    domain: str = Field(min_length=1, max_length=253)


class EmailAddressRemoved(EventPayload):
    """The recipient's e-mail address was removed (by the person, or an operator for an office):
    nothing more is e-mailed to it, and notify no longer keeps it."""

    event_type: ClassVar[str] = "EmailAddressRemoved"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "notify"

    recipient: NotificationRecipient
