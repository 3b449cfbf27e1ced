"""Where e-mail goes: each person registers their own address with their own token; an operator
sets the address of an office (e.g. the prosecutor's office's shared mailbox). See ADR 0005."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, EmailStr, Field

from notify.entrypoints.callers import UseCases, origin_of
from notify.use_cases import ForgetMyEmail, ForgetOfficeEmail, RegisterMyEmail, SetOfficeEmail
from offramp_contracts.events.notify import NotificationRecipient
from servicekit.auth import Principal
from servicekit.http import Authenticated, require_role
from servicekit.idempotency import idempotent_what

router = APIRouter(tags=["contact addresses"])
Operator = Annotated[Principal, Depends(require_role("operator"))]
# As an agency is named in tokens and events.
Agency = Annotated[str, Path(min_length=1, max_length=200)]


class EmailAddress(BaseModel):
    # email-validator's syntax rules (RFC 5321/5322, no lookups): a pattern let `a,b@x.yz` and
    # `a@b.c;d` through (issue 14). It also refuses special-use domains such as `.test`.
    email: EmailStr = Field(max_length=254, examples=["officer-17@pontiac-pd.example"])


class OfficeAddress(BaseModel):
    agency: str
    role: str
    email: str
    set_by: str
    updated_at: datetime


@router.put(
    "/me/email", response_model=EmailAddress, openapi_extra=idempotent_what("e-mail address")
)
async def register_my_email(
    body: EmailAddress, me: Authenticated, use_cases: UseCases, http: Request
) -> EmailAddress:
    """From now on, what you are told in the inbox is also sent to this address. The audit
    ledger records that you set one, and its domain; the address stays in notify."""
    await use_cases.register_my_email(RegisterMyEmail(body.email), origin_of(me, http))
    return body


@router.get("/me/email", response_model=EmailAddress)
async def my_email(me: Authenticated, use_cases: UseCases) -> EmailAddress:
    me_as_recipient = NotificationRecipient(agency=me.agency, subject=me.subject)
    return EmailAddress(email=await use_cases.my_email(me.jurisdiction, me_as_recipient))


@router.delete("/me/email", status_code=204, openapi_extra=idempotent_what("e-mail address"))
async def forget_my_email(me: Authenticated, use_cases: UseCases, http: Request) -> None:
    await use_cases.forget_my_email(ForgetMyEmail(), origin_of(me, http))


@router.put(
    "/offices/{agency}/{role}/email",
    response_model=OfficeAddress,
    openapi_extra=idempotent_what("office address"),
)
async def set_office_email(
    agency: Agency,
    role: str,
    body: EmailAddress,
    operator: Operator,
    use_cases: UseCases,
    http: Request,
) -> OfficeAddress:
    """The address that messages to an office (all of `agency`'s holders of `role`) go to."""
    row = await use_cases.set_office_email(
        SetOfficeEmail(agency, role, body.email), origin_of(operator, http, "operator")
    )
    return OfficeAddress(**vars(row))


@router.get("/offices", response_model=list[OfficeAddress])
async def office_addresses(operator: Operator, use_cases: UseCases) -> list[OfficeAddress]:
    rows = await use_cases.office_addresses(operator.jurisdiction)
    return [OfficeAddress(**vars(row)) for row in rows]


@router.delete(
    "/offices/{agency}/{role}/email",
    status_code=204,
    openapi_extra=idempotent_what("office address"),
)
async def forget_office_email(
    agency: Agency, role: str, operator: Operator, use_cases: UseCases, http: Request
) -> None:
    await use_cases.forget_office_email(
        ForgetOfficeEmail(agency, role), origin_of(operator, http, "operator")
    )
