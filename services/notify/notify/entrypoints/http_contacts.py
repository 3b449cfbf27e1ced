"""Where e-mail goes: each person registers their own address with their own token; an operator
sets the address of an office (e.g. the prosecutor's office's shared mailbox). See ADR 0005."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, EmailStr, Field

from servicekit.auth import ROLES, Principal
from servicekit.http import Authenticated, Runtime, require_role
from servicekit.problems import Problem

router = APIRouter(tags=["contact addresses"])
Operator = Annotated[Principal, Depends(require_role("operator"))]


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


@router.put("/me/email", response_model=EmailAddress)
async def register_my_email(
    body: EmailAddress, me: Authenticated, runtime: Runtime
) -> EmailAddress:
    """From now on, what you are told in the inbox is also sent to this address."""
    await runtime.pool.execute(
        """INSERT INTO person_addresses (jurisdiction, agency, subject, email)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (jurisdiction, agency, subject)
           DO UPDATE SET email = EXCLUDED.email, updated_at = now()""",
        me.jurisdiction,
        me.agency,
        me.subject,
        body.email,
    )
    return body


@router.get("/me/email", response_model=EmailAddress)
async def my_email(me: Authenticated, runtime: Runtime) -> EmailAddress:
    email = await runtime.pool.fetchval(
        """SELECT email FROM person_addresses
           WHERE jurisdiction = $1 AND agency = $2 AND subject = $3""",
        me.jurisdiction,
        me.agency,
        me.subject,
    )
    if email is None:
        raise Problem(404, "not-found", "No e-mail address", "Register one with PUT /me/email.")
    return EmailAddress(email=email)


@router.delete("/me/email", status_code=204)
async def forget_my_email(me: Authenticated, runtime: Runtime) -> None:
    await runtime.pool.execute(
        "DELETE FROM person_addresses WHERE jurisdiction = $1 AND agency = $2 AND subject = $3",
        me.jurisdiction,
        me.agency,
        me.subject,
    )


@router.put("/offices/{agency}/{role}/email", response_model=OfficeAddress)
async def set_office_email(
    agency: str, role: str, body: EmailAddress, operator: Operator, runtime: Runtime
) -> OfficeAddress:
    """The address that messages to an office (all of `agency`'s holders of `role`) go to."""
    if role not in ROLES:
        raise Problem(
            422, "unknown-role", "Unknown role", f"Use one of {sorted(ROLES)}, not {role!r}."
        )
    row = await runtime.pool.fetchrow(
        """INSERT INTO office_addresses (jurisdiction, agency, role, email, set_by)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (jurisdiction, agency, role)
           DO UPDATE SET email = EXCLUDED.email, set_by = EXCLUDED.set_by, updated_at = now()
           RETURNING agency, role, email, set_by, updated_at""",
        operator.jurisdiction,
        agency,
        role,
        body.email,
        operator.subject,
    )
    return OfficeAddress(**dict(row))


@router.get("/offices", response_model=list[OfficeAddress])
async def office_addresses(operator: Operator, runtime: Runtime) -> list[OfficeAddress]:
    rows = await runtime.pool.fetch(
        """SELECT agency, role, email, set_by, updated_at FROM office_addresses
           WHERE jurisdiction = $1 ORDER BY agency, role""",
        operator.jurisdiction,
    )
    return [OfficeAddress(**dict(row)) for row in rows]


@router.delete("/offices/{agency}/{role}/email", status_code=204)
async def forget_office_email(agency: str, role: str, operator: Operator, runtime: Runtime) -> None:
    await runtime.pool.execute(
        "DELETE FROM office_addresses WHERE jurisdiction = $1 AND agency = $2 AND role = $3",
        operator.jurisdiction,
        agency,
        role,
    )
