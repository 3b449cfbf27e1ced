"""Notify's use cases: those that change where notifications go (e-mail addresses, a person's
own and an office's, and partners' webhook subscriptions), and the inbox and deliveries as
people and operators read and act on them.

Each change of where notifications go is one command through servicekit's command loop, in
one transaction: the event on its stream, the outbox row that takes it to the bus (and so to the audit ledger) and the projection
row (`adapters/channel_tables.py`) commit together or not at all. The events say who may be
told where (an e-mail domain, a webhook origin); the addresses, URLs and signing secrets stay in
the projection rows alone. Marking a message read and retrying a parked delivery change only
notify's own tables, as they did before there were use cases (no event says so yet).
"""

from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

import asyncpg
import uuid6

from notify.adapters import channel_tables, inbox, notification_store
from notify.adapters.channel_tables import OfficeAddressRow, SubscriptionRow
from notify.adapters.inbox import InboxRow, Reader
from notify.adapters.notification_store import DeliveryRow
from notify.adapters.webhooks import checked_addresses, new_secret
from notify.domain import contacts, subscriptions
from notify.domain.contacts import AddressCommand, AddressState
from notify.domain.destinations import DestinationPolicy, UnsafeDestination
from notify.domain.subscriptions import SubscriptionCommand, SubscriptionState
from offramp_contracts.events.notify import NotificationRecipient
from servicekit import command_loop
from servicekit.auth import ROLES
from servicekit.command_loop import Decider, Origin
from servicekit.eventstore import EventStore
from servicekit.refusals import Refusal

# Commands: what a caller asks, in the words of the HTTP API -----------------------------------


@dataclass(frozen=True)
class RegisterMyEmail:
    """The caller's own address (`Origin.actor` says whose)."""

    email: str


@dataclass(frozen=True)
class ForgetMyEmail:
    pass


@dataclass(frozen=True)
class SetOfficeEmail:
    agency: str
    role: str
    email: str


@dataclass(frozen=True)
class ForgetOfficeEmail:
    agency: str
    role: str


@dataclass(frozen=True)
class SubscribeWebhook:
    agency: str
    url: str
    description: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class EndWebhookSubscription:
    subscription_id: UUID


@dataclass(frozen=True)
class ReadInbox:
    """Messages to the reader and to their office, newest first."""

    reader: Reader
    unread_only: bool = False


@dataclass(frozen=True)
class MarkRead:
    message_id: UUID


@dataclass(frozen=True)
class RetryDelivery:
    """A parked delivery of the operator's jurisdiction gets a fresh round of attempts."""

    delivery_id: UUID


# Refusals -------------------------------------------------------------------------------------


class UnknownRole(Refusal):
    status = 422
    kind = "unknown-role"
    title = "Unknown role"

    def __init__(self, role: str) -> None:
        super().__init__(f"Use one of {sorted(ROLES)}, not {role!r}.")


class UnsafeWebhookUrl(Refusal):
    status = 422
    kind = "unsafe-webhook-url"
    title = "This webhook URL is not allowed"


class IdempotencyKeyReused(Refusal):
    status = 422
    kind = "idempotency-key-reused"
    title = "Refused"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"The Idempotency-Key {key!r} was already used for a different webhook "
            "subscription; send it with a new key."
        )


class NoSuchMessage(Refusal):
    status = 404
    kind = "not-found"
    title = "No such message"

    def __init__(self, message_id: UUID) -> None:
        super().__init__(f"You have no message {message_id}.")


class NoEmailAddress(Refusal):
    status = 404
    kind = "not-found"
    title = "No e-mail address"

    def __init__(self) -> None:
        super().__init__("Register one with PUT /me/email.")


class NoSuchParkedDelivery(Refusal):
    status = 404
    kind = "not-found"
    title = "No such parked delivery"

    def __init__(self, delivery_id: UUID) -> None:
        super().__init__(
            f"Delivery {delivery_id} is not parked in your jurisdiction; list them with "
            "GET /deliveries?status=parked."
        )


# Results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscribed:
    subscription: SubscriptionRow
    replayed: bool


# Handlers -------------------------------------------------------------------------------------


def _address_decider(*, listed: bool) -> Decider[AddressCommand, AddressState]:
    """`listed`: whether the projection holds an address now. One set before these events
    existed has a row and no stream; starting from the row keeps its removal recorded. For any
    address set since, the stream's own events decide, whatever the start."""
    return Decider(contacts.decide, contacts.evolve, AddressState(registered=listed))


def _subscription_decider(
    row: SubscriptionRow | None,
) -> Decider[SubscriptionCommand, SubscriptionState]:
    """Starts from the projection row for the same reason as `_address_decider`."""
    listed = (
        SubscriptionState(True, row.active, row.agency, subscriptions.origin_of(row.url))
        if row is not None
        else SubscriptionState()
    )
    return Decider(subscriptions.decide, subscriptions.evolve, listed)


@dataclass(frozen=True)
class NotifyUseCases:
    pool: asyncpg.Pool
    store: EventStore
    destinations: DestinationPolicy

    # E-mail addresses -------------------------------------------------------------------------

    async def register_my_email(self, command: RegisterMyEmail, origin: Origin) -> None:
        """From now on, what the caller is told in the inbox is also sent to this address."""
        me = _person(origin)
        async with self.pool.acquire() as conn, conn.transaction():
            await self._change_address(conn, contacts.SetEmailAddress(me, command.email), origin)
            await channel_tables.keep_person_email(conn, origin.jurisdiction, me, command.email)

    async def forget_my_email(self, command: ForgetMyEmail, origin: Origin) -> None:
        me = _person(origin)
        async with self.pool.acquire() as conn, conn.transaction():
            await self._change_address(conn, contacts.RemoveEmailAddress(me), origin)
            await channel_tables.forget_email(conn, origin.jurisdiction, me)

    async def set_office_email(self, command: SetOfficeEmail, origin: Origin) -> OfficeAddressRow:
        """The address that messages to an office (all of `agency`'s holders of `role`) go to."""
        if command.role not in ROLES:
            raise UnknownRole(command.role)
        office = NotificationRecipient(agency=command.agency, role=command.role)
        async with self.pool.acquire() as conn, conn.transaction():
            await self._change_address(
                conn, contacts.SetEmailAddress(office, command.email), origin
            )
            return await channel_tables.keep_office_email(
                conn, origin.jurisdiction, office, command.email, origin.actor.subject
            )

    async def forget_office_email(self, command: ForgetOfficeEmail, origin: Origin) -> None:
        if command.role not in ROLES:
            return  # no such office, so no address to forget (as before: 204)
        office = NotificationRecipient(agency=command.agency, role=command.role)
        async with self.pool.acquire() as conn, conn.transaction():
            await self._change_address(conn, contacts.RemoveEmailAddress(office), origin)
            await channel_tables.forget_email(conn, origin.jurisdiction, office)

    async def _change_address(
        self, conn: asyncpg.Connection, command: AddressCommand, origin: Origin
    ) -> None:
        # The row's lock takes two changes of one address one after the other; the first
        # address of a recipient has no row to lock, and the event store's optimistic
        # concurrency refuses the second of two such (409, to be sent again).
        listed = await channel_tables.email_of(
            conn, origin.jurisdiction, command.recipient, lock=True
        )
        await command_loop.handle_command(
            conn,
            self.store,
            contacts.stream_of(origin.jurisdiction, command.recipient),
            _address_decider(listed=listed is not None),
            command,
            origin,
        )

    # Webhook subscriptions --------------------------------------------------------------------

    async def subscribe_webhook(self, command: SubscribeWebhook, origin: Origin) -> Subscribed:
        """The URL must be https, carry no user name or password, and its host resolve to
        public addresses only (checked again before every delivery). With an Idempotency-Key
        the subscription's id comes from the key, so a retry that reaches here (its first
        answer was lost before it could be kept) answers the subscription already made."""
        subscription_id = _subscription_id(command, origin)
        async with self.pool.acquire() as conn:
            earlier = await channel_tables.subscription(conn, subscription_id)
        if earlier is not None:
            return Subscribed(_same_subscription(earlier, command, origin), replayed=True)
        try:
            # Before the transaction: resolving the host may take seconds.
            await checked_addresses(self.destinations, command.url)
        except UnsafeDestination as refused:
            raise UnsafeWebhookUrl(f"{refused}.") from refused
        async with self.pool.acquire() as conn, conn.transaction():
            await command_loop.handle_command(
                conn,
                self.store,
                subscriptions.stream_of(subscription_id),
                _subscription_decider(None),
                subscriptions.Subscribe(subscription_id, command.agency, command.url),
                origin,
            )
            made = await channel_tables.insert_subscription(
                conn,
                subscription_id=subscription_id,
                jurisdiction=origin.jurisdiction,
                agency=command.agency,
                url=command.url,
                secret=new_secret(),
                description=command.description,
                created_by=origin.actor.subject,
            )
        return Subscribed(made, replayed=False)

    async def end_webhook_subscription(
        self, command: EndWebhookSubscription, origin: Origin
    ) -> None:
        """Stops new deliveries; pending ones to it are parked at their next attempt."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await channel_tables.subscription(conn, command.subscription_id, lock=True)
            if row is None or row.jurisdiction != origin.jurisdiction:
                raise subscriptions.NoSuchSubscription(command.subscription_id)
            await command_loop.handle_command(
                conn,
                self.store,
                subscriptions.stream_of(command.subscription_id),
                _subscription_decider(row),
                subscriptions.Unsubscribe(command.subscription_id),
                origin,
            )
            await channel_tables.deactivate_subscription(conn, command.subscription_id)

    # The inbox and the deliveries ---------------------------------------------------------------

    async def inbox(self, query: ReadInbox) -> list[InboxRow]:
        return await inbox.messages_for(self.pool, query.reader, unread_only=query.unread_only)

    async def mark_read(self, command: MarkRead, reader: Reader) -> None:
        """A message to the reader is marked read; a message to their office is marked read
        for them only, so each member of the office sees what they have not read yet."""
        async with self.pool.acquire() as conn, conn.transaction():
            if not await inbox.mark_read(conn, reader, command.message_id):
                raise NoSuchMessage(command.message_id)

    async def deliveries(self, jurisdiction: str, status: str) -> list[DeliveryRow]:
        return await notification_store.deliveries_in(self.pool, jurisdiction, status)

    async def retry_delivery(self, command: RetryDelivery, jurisdiction: str) -> None:
        if not await notification_store.retry_parked(self.pool, command.delivery_id, jurisdiction):
            raise NoSuchParkedDelivery(command.delivery_id)

    # Reads ------------------------------------------------------------------------------------

    async def my_email(self, jurisdiction: str, me: NotificationRecipient) -> str:
        async with self.pool.acquire() as conn:
            email = await channel_tables.email_of(conn, jurisdiction, me, lock=False)
        if email is None:
            raise NoEmailAddress()
        return email

    async def office_addresses(self, jurisdiction: str) -> list[OfficeAddressRow]:
        async with self.pool.acquire() as conn:
            return await channel_tables.office_addresses(conn, jurisdiction)

    async def subscriptions(self, jurisdiction: str) -> list[SubscriptionRow]:
        async with self.pool.acquire() as conn:
            return await channel_tables.subscriptions(conn, jurisdiction)


def _person(origin: Origin) -> NotificationRecipient:
    return NotificationRecipient(agency=origin.actor.agency, subject=origin.actor.subject)


def _subscription_id(command: SubscribeWebhook, origin: Origin) -> UUID:
    if command.idempotency_key is None:
        return uuid6.uuid7()
    caller = (origin.jurisdiction, origin.actor.agency, origin.actor.subject)
    name = "\x1f".join((*caller, command.idempotency_key))
    return uuid5(NAMESPACE_URL, "offramp:notify:webhook-subscription:" + name)


def _same_subscription(
    row: SubscriptionRow, command: SubscribeWebhook, origin: Origin
) -> SubscriptionRow:
    asked = (origin.jurisdiction, command.agency, command.url, command.description)
    if (row.jurisdiction, row.agency, row.url, row.description) != asked:
        raise IdempotencyKeyReused(command.idempotency_key or "")
    return row
