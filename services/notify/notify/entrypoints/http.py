"""The in-app inbox over HTTP: each person reads their own messages and those sent to an office
they belong to (every member of the agency holding the office's role)."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from notify.entrypoints.callers import UseCases, reader_of
from notify.use_cases import MarkRead, ReadInbox
from servicekit.access import participant_record, shown
from servicekit.http import Authenticated

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


@router.get(
    "/inbox", response_model=list[InboxMessage], openapi_extra=participant_record("inbox_message")
)
async def my_inbox(
    me: Authenticated,
    use_cases: UseCases,
    request: Request,
    status: Literal["all", "unread"] = "all",
) -> list[InboxMessage]:
    """Messages to you and to your office, newest first; each names the referral or case it is
    about, so each read is recorded as a read of those."""
    rows = await use_cases.inbox(ReadInbox(reader_of(me), unread_only=status == "unread"))
    answer = [InboxMessage(**vars(row)) for row in rows]
    shown(request, "referral", {m.referral_id for m in answer if m.referral_id})
    shown(request, "case", {m.case_id for m in answer if m.case_id})
    return answer


@router.post(
    "/inbox/{message_id}/read",
    status_code=204,
    openapi_extra=participant_record("inbox_message", "message_id"),
)
async def mark_read(message_id: UUID, me: Authenticated, use_cases: UseCases) -> None:
    """A message to you is marked read; a message to your office is marked read for you only,
    so each member of the office sees what they have not read yet."""
    await use_cases.mark_read(MarkRead(message_id), reader_of(me))
