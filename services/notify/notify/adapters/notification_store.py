"""Notifications as rows: the in-app message (which is the notification itself) and the e-mail
and webhook deliveries owed for it, all written in the caller's transaction."""

import json
from dataclasses import dataclass
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

import asyncpg

from notify.domain.coarse import CoarseFacts
from notify.domain.triggers import Notification, Recipient
from offramp_contracts import EventEnvelope
from servicekit.tracing import trace_headers

DELIVERIES_CHANNEL = "notify_deliveries"


def notification_id(event_id: UUID, recipient: Recipient) -> UUID:
    """Derived from the event and the recipient, so a redelivered or replayed event finds the
    notification it already made. (Kept as it was for people, so older messages still match.)"""
    who = recipient.subject if recipient.subject is not None else f"office:{recipient.role}"
    return uuid5(NAMESPACE_URL, f"{event_id}/{recipient.agency}/{who}")


def delivery_id(message_id: UUID, channel: str, target: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"{message_id}/{channel}/{target}")


async def store_notification(
    conn: asyncpg.Connection, event: EventEnvelope, note: Notification, facts: CoarseFacts
) -> UUID | None:
    """The notification's id, or None if it was already stored (nothing more to do for it)."""
    message_id = notification_id(event.event_id, note.recipient)
    stored = await conn.fetchval(
        """INSERT INTO in_app_messages (message_id, jurisdiction, recipient_subject,
               recipient_agency, recipient_role, audience, trigger, subject, body, referral_id,
               case_id, coarse_status, caused_by, correlation_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
           ON CONFLICT (message_id) DO NOTHING RETURNING true""",
        message_id,
        event.jurisdiction,
        note.recipient.subject,
        note.recipient.agency,
        note.recipient.role,
        note.audience,
        note.trigger,
        note.text.subject,
        note.text.body,
        facts.referral_id,
        facts.case_id,
        note.coarse_status,
        event.event_id,
        event.correlation_id,
    )
    return message_id if stored else None


async def enqueue_deliveries(
    conn: asyncpg.Connection, jurisdiction: str, message_id: UUID, recipient: Recipient
) -> int:
    """One e-mail to the recipient's registered address (if any), one webhook call to each
    active subscription of the recipient's agency. Returns how many were enqueued. Each row
    keeps the current trace context, for its attempts to continue the consumer's trace."""
    if recipient.subject is not None:
        email = await conn.fetchval(
            """SELECT email FROM person_addresses
               WHERE jurisdiction = $1 AND agency = $2 AND subject = $3""",
            jurisdiction,
            recipient.agency,
            recipient.subject,
        )
    else:
        email = await conn.fetchval(
            """SELECT email FROM office_addresses
               WHERE jurisdiction = $1 AND agency = $2 AND role = $3""",
            jurisdiction,
            recipient.agency,
            recipient.role,
        )
    rows: list[tuple[UUID, UUID, str, str, str | None, UUID | None]] = []
    if email:
        rows.append(
            (
                delivery_id(message_id, "email", email),
                message_id,
                jurisdiction,
                "email",
                email,
                None,
            )
        )
    for sub in await conn.fetch(
        """SELECT subscription_id FROM webhook_subscriptions
           WHERE jurisdiction = $1 AND agency = $2 AND active""",
        jurisdiction,
        recipient.agency,
    ):
        sid: UUID = sub["subscription_id"]
        rows.append(
            (
                delivery_id(message_id, "webhook", str(sid)),
                message_id,
                jurisdiction,
                "webhook",
                None,
                sid,
            )
        )
    if not rows:
        return 0
    carried = trace_headers()
    trace_context = json.dumps(carried) if carried else None
    await conn.executemany(
        """INSERT INTO deliveries (delivery_id, message_id, jurisdiction, channel, email,
                                   subscription_id, trace_context)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (delivery_id) DO NOTHING""",
        [(*row, trace_context) for row in rows],
    )
    # Wakes the delivery loop at commit, and only if the transaction commits.
    await conn.execute("SELECT pg_notify($1, '')", DELIVERIES_CHANNEL)
    return len(rows)


@dataclass(frozen=True)
class DeliveryRow:
    delivery_id: UUID
    channel: str
    # The e-mail address, or the webhook URL.
    destination: str
    trigger: str | None
    recipient_agency: str
    recipient_subject: str | None
    recipient_role: str | None
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


async def deliveries_in(pool: asyncpg.Pool, jurisdiction: str, status: str) -> list[DeliveryRow]:
    """The newest 500 e-mail and webhook deliveries of a jurisdiction in `status`, each with
    where it goes and whom it is for."""
    rows = await pool.fetch(
        """SELECT d.delivery_id, d.channel, coalesce(d.email, s.url) AS destination, m.trigger,
                  m.recipient_agency, m.recipient_subject, m.recipient_role, d.status,
                  d.attempts, d.last_error, d.created_at, d.finished_at
           FROM deliveries d
           JOIN in_app_messages m USING (message_id)
           LEFT JOIN webhook_subscriptions s USING (subscription_id)
           WHERE d.jurisdiction = $1 AND d.status = $2
           ORDER BY d.created_at DESC LIMIT 500""",
        jurisdiction,
        status,
    )
    return [DeliveryRow(**dict(row)) for row in rows]


async def retry_parked(pool: asyncpg.Pool, delivery_id: UUID, jurisdiction: str) -> bool:
    """An operator's retry: the delivery gets a fresh round of attempts. False if no such
    delivery is parked in the jurisdiction."""
    result = await pool.execute(
        """UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(),
               finished_at = NULL
           WHERE delivery_id = $1 AND jurisdiction = $2 AND status = 'parked'""",
        delivery_id,
        jurisdiction,
    )
    if result.endswith(" 1"):
        await pool.execute("SELECT pg_notify($1, '')", DELIVERIES_CHANNEL)
        return True
    return False
