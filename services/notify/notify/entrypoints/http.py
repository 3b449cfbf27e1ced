"""The in-app inbox over HTTP: each person reads only their own messages."""

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from servicekit.http import Authenticated, Runtime
from servicekit.problems import Problem

router = APIRouter(tags=["inbox"])


class InboxMessage(BaseModel):
    message_id: UUID
    subject: str
    body: str
    referral_id: UUID | None
    created_at: datetime
    read_at: datetime | None


@router.get("/inbox", response_model=list[InboxMessage])
async def my_inbox(me: Authenticated, runtime: Runtime) -> list[InboxMessage]:
    rows = await runtime.pool.fetch(
        """SELECT message_id, subject, body, referral_id, created_at, read_at
           FROM in_app_messages
           WHERE jurisdiction = $1 AND recipient_agency = $2 AND recipient_subject = $3
           ORDER BY created_at DESC LIMIT 200""",
        me.jurisdiction,
        me.agency,
        me.subject,
    )
    return [InboxMessage(**dict(row)) for row in rows]


@router.post("/inbox/{message_id}/read", status_code=204)
async def mark_read(message_id: UUID, me: Authenticated, runtime: Runtime) -> None:
    result = await runtime.pool.execute(
        """UPDATE in_app_messages SET read_at = coalesce(read_at, now())
           WHERE message_id = $1 AND jurisdiction = $2 AND recipient_agency = $3
             AND recipient_subject = $4""",
        message_id,
        me.jurisdiction,
        me.agency,
        me.subject,
    )
    if result.endswith(" 0"):
        # Someone else's message is as absent as a missing one: nothing leaks about it.
        raise Problem(404, "not-found", "No such message", f"You have no message {message_id}.")
