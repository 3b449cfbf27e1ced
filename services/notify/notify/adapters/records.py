"""NotificationDelivered and NotificationFailed into notify's event store (and from there, by
the outbox, onto the bus and into the ledger).

Each delivery is its own stream, `notification-delivery-<id>`, and its events have ids derived
from the delivery and the outcome: a second attempt to record the same outcome is refused by the
event store, so every outcome is recorded once."""

from datetime import datetime
from uuid import UUID

import asyncpg

from offramp_contracts.events.notify import (
    Channel,
    NotificationDelivered,
    NotificationFailed,
    NotificationRecipient,
)
from servicekit import command_loop
from servicekit.events import derived_event_id, system_actor
from servicekit.eventstore import EventStore


def stream_of(delivery_id: UUID) -> str:
    return f"notification-delivery-{delivery_id}"


async def record_outcome(
    conn: asyncpg.Connection,
    store: EventStore,
    *,
    delivery_id: UUID,
    message: asyncpg.Record,
    channel: Channel,
    attempts: int,
    at: datetime,
    subscription_id: UUID | None = None,
    error: str | None = None,
) -> None:
    """`message` is the in_app_messages row of the notification. Runs in the caller's
    transaction, with the change of the delivery's status."""
    recipient = NotificationRecipient(
        agency=message["recipient_agency"],
        subject=message["recipient_subject"],
        role=message["recipient_role"],
    )
    common = {
        "delivery_id": delivery_id,
        "notification_id": message["message_id"],
        "channel": channel,
        "recipient": recipient,
        "trigger": message["trigger"] or "unknown",
        "caused_by": message["caused_by"],
        "attempts": attempts,
        "subscription_id": subscription_id,
    }
    payload = (
        NotificationDelivered(**common)
        if error is None
        else NotificationFailed(**common, last_error=error[:1000])
    )
    stream_id = stream_of(delivery_id)
    version = await store.stream_version(conn, stream_id)
    origin = command_loop.Origin(
        system_actor("notify"),
        message["jurisdiction"],
        message["correlation_id"] or message["caused_by"],
        message["caused_by"],
    )
    await command_loop.append(
        conn,
        store,
        stream_id,
        version,
        [payload],
        origin,
        occurred_at=at,
        event_ids=[derived_event_id(f"{stream_id}/{payload.event_type}/{attempts}", at)],
    )
