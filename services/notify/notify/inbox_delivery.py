"""Putting messages in people's in-app inboxes, once per event."""

from uuid import NAMESPACE_URL, uuid5

import asyncpg

from notify.domain.messages import messages_for
from offramp_contracts import payload_of
from servicekit.inbox import Delivered


async def deliver_in_app(conn: asyncpg.Connection, delivered: Delivered) -> None:
    """Runs inside the inbox transaction; the message id is derived from the event and the
    recipient, so even a replayed dead letter cannot put the same message in twice."""
    event = delivered.event
    for message in messages_for(payload_of(event)):
        await conn.execute(
            """INSERT INTO in_app_messages (message_id, jurisdiction, recipient_subject,
                   recipient_agency, subject, body, referral_id, caused_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (message_id) DO NOTHING""",
            uuid5(
                NAMESPACE_URL,
                f"{event.event_id}/{message.recipient.agency}/{message.recipient.subject}",
            ),
            event.jurisdiction,
            message.recipient.subject,
            message.recipient.agency,
            message.subject,
            message.body,
            message.referral_id,
            event.event_id,
        )
