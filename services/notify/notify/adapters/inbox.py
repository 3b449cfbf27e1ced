"""The in-app inbox as stored: the messages a reader may see (their own, and those to an
office whose role they hold in its agency), and who has read which."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg


@dataclass(frozen=True)
class Reader:
    """Whom the inbox is read for, as their token names them."""

    jurisdiction: str
    agency: str
    subject: str
    roles: frozenset[str]


@dataclass(frozen=True)
class InboxRow:
    message_id: UUID
    subject: str
    body: str
    referral_id: UUID | None
    case_id: UUID | None
    trigger: str | None
    coarse_status: str | None
    # The role of the office it was sent to; None if to the reader alone.
    to_office: str | None
    created_at: datetime
    read_at: datetime | None


_VISIBLE = """
    m.jurisdiction = $1 AND m.recipient_agency = $2
    AND (m.recipient_subject = $3
         OR (m.recipient_subject IS NULL AND m.recipient_role = ANY($4::text[])))
"""


def _whose(reader: Reader) -> tuple[str, str, str, list[str]]:
    return reader.jurisdiction, reader.agency, reader.subject, sorted(reader.roles)


async def messages_for(pool: asyncpg.Pool, reader: Reader, *, unread_only: bool) -> list[InboxRow]:
    """The newest 200 messages the reader may see; an office's message counts as read for
    each member once they read it."""
    rows = await pool.fetch(
        f"""SELECT m.message_id, m.subject, m.body, m.referral_id, m.case_id, m.trigger,
                   m.coarse_status, m.created_at,
                   CASE WHEN m.recipient_subject IS NULL THEN m.recipient_role END AS to_office,
                   coalesce(m.read_at, r.read_at) AS read_at
            FROM in_app_messages m
            LEFT JOIN message_reads r ON r.message_id = m.message_id AND r.reader_subject = $3
            WHERE {_VISIBLE}
              AND ($5 = 'all' OR coalesce(m.read_at, r.read_at) IS NULL)
            ORDER BY m.created_at DESC LIMIT 200""",
        *_whose(reader),
        "unread" if unread_only else "all",
    )
    return [InboxRow(**dict(row)) for row in rows]


async def mark_read(conn: asyncpg.Connection, reader: Reader, message_id: UUID) -> bool:
    """False if the reader may not see the message (someone else's is as absent as a missing
    one). A message to them is marked read; one to their office, read by them only."""
    office_message = await conn.fetchval(
        f"SELECT m.recipient_subject IS NULL FROM in_app_messages m "
        f"WHERE m.message_id = $5 AND {_VISIBLE}",
        *_whose(reader),
        message_id,
    )
    if office_message is None:
        return False
    if office_message:
        await conn.execute(
            """INSERT INTO message_reads (message_id, reader_subject) VALUES ($1, $2)
               ON CONFLICT DO NOTHING""",
            message_id,
            reader.subject,
        )
    else:
        await conn.execute(
            "UPDATE in_app_messages SET read_at = coalesce(read_at, now()) WHERE message_id = $1",
            message_id,
        )
    return True
