"""The consumer's use case: an event arrives, notify keeps what it needs to know who plays which
part, and tells whoever the rules say, once per event (DESIGN.md rules 7-9)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from notify.adapters.notification_store import delivery_id, enqueue_deliveries, store_notification
from notify.adapters.read_models import parties_for, remember_parties
from notify.adapters.records import record_outcome
from notify.domain.coarse import coarse_facts
from notify.domain.triggers import TRIGGERS, notifications_for
from offramp_contracts import EventEnvelope, event_catalogue, payload_of
from servicekit.eventstore import EventStore
from servicekit.inbox import Delivered
from servicekit.profiles import ProfileBook


def current_data(event: EventEnvelope) -> dict[str, Any]:
    """The event's data at its current schema version when this code knows the type (so old
    versions are upcast and the data is validated); as sent otherwise."""
    if event.event_type in event_catalogue():
        return payload_of(event).model_dump(mode="json")
    return dict(event.data)


@dataclass(frozen=True)
class TellWhoNeedsToKnow:
    """An inbox handler: runs inside the inbox transaction, so the read models, the in-app
    messages, their NotificationDelivered events and the deliveries owed commit with the
    handled event id, or not at all."""

    store: EventStore
    profiles: ProfileBook

    async def __call__(self, conn: asyncpg.Connection, delivered: Delivered) -> None:
        event = delivered.event
        data = current_data(event)
        await remember_parties(conn, event.jurisdiction, data)
        if event.event_type not in TRIGGERS:
            return
        facts = coarse_facts(data)
        parties = await parties_for(
            conn,
            event.jurisdiction,
            facts,
            data.get("policy_version"),
            self.profiles,
            event.occurred_at.date(),
        )
        if facts.referral_id is None and parties.referral_id is not None:
            # An officer knows the referral, not the case: name it in what they are told.
            facts = facts.model_copy(update={"referral_id": parties.referral_id})
        for note in notifications_for(event.event_type, facts, parties):
            message_id = await store_notification(conn, event, note, facts)
            if message_id is None:
                continue  # told already: a replay of an event handled under another consumer
            message = await conn.fetchrow(
                "SELECT * FROM in_app_messages WHERE message_id = $1", message_id
            )
            await record_outcome(
                conn,
                self.store,
                delivery_id=delivery_id(message_id, "in_app", ""),
                message=message,
                channel="in_app",
                attempts=1,
                at=datetime.now(UTC),
            )
            await enqueue_deliveries(conn, event.jurisdiction, message_id, note.recipient)
