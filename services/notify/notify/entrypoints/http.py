"""The in-app inbox over HTTP: each person reads their own messages and those sent to an office
they belong to (every member of the agency holding the office's role)."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from servicekit.access import participant_record, shown
from servicekit.http import Authenticated, Runtime
from servicekit.problems import Problem

router = APIRouter(tags=["inbox"])


class InboxMessage(BaseModel):
    message_id: UUID
    subject: str
    body: str
    referral_id: UUID | None
    case_id: UUID | None = None
    trigger: str | None = Field(default=None, description="The event that caused the message.")
    coarse_status: str | None = None
    to_office: str | None = Field(
        default=None, description="The role of the office it was sent to; null if to you alone."
    )
    created_at: datetime
    read_at: datetime | None


_VISIBLE = """
    m.jurisdiction = $1 AND m.recipient_agency = $2
    AND (m.recipient_subject = $3
         OR (m.recipient_subject IS NULL AND m.recipient_role = ANY($4::text[])))
"""


@router.get(
    "/inbox", response_model=list[InboxMessage], openapi_extra=participant_record("inbox_message")
)
async def my_inbox(
    me: Authenticated,
    runtime: Runtime,
    request: Request,
    status: Literal["all", "unread"] = "all",
) -> list[InboxMessage]:
    """Messages to you and to your office, newest first; each names the referral or case it is
    about, so each read is recorded as a read of those."""
    rows = await runtime.pool.fetch(
        f"""SELECT m.message_id, m.subject, m.body, m.referral_id, m.case_id, m.trigger,
                   m.coarse_status, m.created_at,
                   CASE WHEN m.recipient_subject IS NULL THEN m.recipient_role END AS to_office,
                   coalesce(m.read_at, r.read_at) AS read_at
            FROM in_app_messages m
            LEFT JOIN message_reads r ON r.message_id = m.message_id AND r.reader_subject = $3
            WHERE {_VISIBLE}
              AND ($5 = 'all' OR coalesce(m.read_at, r.read_at) IS NULL)
            ORDER BY m.created_at DESC LIMIT 200""",
        me.jurisdiction,
        me.agency,
        me.subject,
        sorted(me.roles),
        status,
    )
    answer = [InboxMessage(**dict(row)) for row in rows]
    shown(request, "referral", {m.referral_id for m in answer if m.referral_id})
    shown(request, "case", {m.case_id for m in answer if m.case_id})
    return answer


@router.post(
    "/inbox/{message_id}/read",
    status_code=204,
    openapi_extra=participant_record("inbox_message", "message_id"),
)
async def mark_read(message_id: UUID, me: Authenticated, runtime: Runtime) -> None:
    """A message to you is marked read; a message to your office is marked read for you only,
    so each member of the office sees what they have not read yet."""
    async with runtime.pool.acquire() as conn, conn.transaction():
        office_message = await conn.fetchval(
            f"SELECT m.recipient_subject IS NULL FROM in_app_messages m "
            f"WHERE m.message_id = $5 AND {_VISIBLE}",
            me.jurisdiction,
            me.agency,
            me.subject,
            sorted(me.roles),
            message_id,
        )
        if office_message is None:
            # Someone else's message is as absent as a missing one: nothing leaks about it.
            raise Problem(404, "not-found", "No such message", f"You have no message {message_id}.")
        if office_message:
            await conn.execute(
                """INSERT INTO message_reads (message_id, reader_subject) VALUES ($1, $2)
                   ON CONFLICT DO NOTHING""",
                message_id,
                me.subject,
            )
        else:
            await conn.execute(
                "UPDATE in_app_messages SET read_at = coalesce(read_at, now()) WHERE message_id = $1",
                message_id,
            )
