"""Where notifications go, as notify's tables hold it: `person_addresses`, `office_addresses`
and `webhook_subscriptions`. They are projections of the address and subscription streams,
written in the same transaction as the events, and they alone keep what the events must not
carry: the e-mail addresses and each subscription's URL and signing secret."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from offramp_contracts.events.notify import NotificationRecipient


@dataclass(frozen=True)
class OfficeAddressRow:
    agency: str
    role: str
    email: str
    set_by: str
    updated_at: datetime


@dataclass(frozen=True)
class SubscriptionRow:
    subscription_id: UUID
    jurisdiction: str
    agency: str
    url: str
    secret: str
    description: str
    created_by: str
    created_at: datetime
    active: bool


_SUBSCRIPTION = """subscription_id, jurisdiction, agency, url, secret, description, created_by,
                   created_at, active"""


# E-mail addresses ---------------------------------------------------------------------------


async def email_of(
    conn: asyncpg.Connection, jurisdiction: str, recipient: NotificationRecipient, *, lock: bool
) -> str | None:
    """The address a person or an office has now; `lock` holds its row until the transaction
    ends, so two changes of one address are taken one after the other."""
    held = " FOR UPDATE" if lock else ""
    if recipient.subject is not None:
        email: str | None = await conn.fetchval(
            """SELECT email FROM person_addresses
               WHERE jurisdiction = $1 AND agency = $2 AND subject = $3"""
            + held,
            jurisdiction,
            recipient.agency,
            recipient.subject,
        )
        return email
    email = await conn.fetchval(
        """SELECT email FROM office_addresses
           WHERE jurisdiction = $1 AND agency = $2 AND role = $3"""
        + held,
        jurisdiction,
        recipient.agency,
        recipient.role,
    )
    return email


async def keep_person_email(
    conn: asyncpg.Connection, jurisdiction: str, recipient: NotificationRecipient, email: str
) -> None:
    await conn.execute(
        """INSERT INTO person_addresses (jurisdiction, agency, subject, email)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (jurisdiction, agency, subject)
           DO UPDATE SET email = EXCLUDED.email, updated_at = now()""",
        jurisdiction,
        recipient.agency,
        recipient.subject,
        email,
    )


async def keep_office_email(
    conn: asyncpg.Connection,
    jurisdiction: str,
    recipient: NotificationRecipient,
    email: str,
    set_by: str,
) -> OfficeAddressRow:
    row = await conn.fetchrow(
        """INSERT INTO office_addresses (jurisdiction, agency, role, email, set_by)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (jurisdiction, agency, role)
           DO UPDATE SET email = EXCLUDED.email, set_by = EXCLUDED.set_by, updated_at = now()
           RETURNING agency, role, email, set_by, updated_at""",
        jurisdiction,
        recipient.agency,
        recipient.role,
        email,
        set_by,
    )
    return OfficeAddressRow(**dict(row))


async def forget_email(
    conn: asyncpg.Connection, jurisdiction: str, recipient: NotificationRecipient
) -> None:
    if recipient.subject is not None:
        await conn.execute(
            """DELETE FROM person_addresses
               WHERE jurisdiction = $1 AND agency = $2 AND subject = $3""",
            jurisdiction,
            recipient.agency,
            recipient.subject,
        )
        return
    await conn.execute(
        "DELETE FROM office_addresses WHERE jurisdiction = $1 AND agency = $2 AND role = $3",
        jurisdiction,
        recipient.agency,
        recipient.role,
    )


async def office_addresses(conn: asyncpg.Connection, jurisdiction: str) -> list[OfficeAddressRow]:
    rows = await conn.fetch(
        """SELECT agency, role, email, set_by, updated_at FROM office_addresses
           WHERE jurisdiction = $1 ORDER BY agency, role""",
        jurisdiction,
    )
    return [OfficeAddressRow(**dict(row)) for row in rows]


# Webhook subscriptions ----------------------------------------------------------------------


async def subscription(
    conn: asyncpg.Connection, subscription_id: UUID, *, lock: bool = False
) -> SubscriptionRow | None:
    held = " FOR UPDATE" if lock else ""
    row = await conn.fetchrow(
        f"SELECT {_SUBSCRIPTION} FROM webhook_subscriptions WHERE subscription_id = $1{held}",
        subscription_id,
    )
    return SubscriptionRow(**dict(row)) if row is not None else None


async def insert_subscription(
    conn: asyncpg.Connection,
    *,
    subscription_id: UUID,
    jurisdiction: str,
    agency: str,
    url: str,
    secret: str,
    description: str,
    created_by: str,
) -> SubscriptionRow:
    row = await conn.fetchrow(
        f"""INSERT INTO webhook_subscriptions (subscription_id, jurisdiction, agency, url, secret,
                                               description, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            RETURNING {_SUBSCRIPTION}""",
        subscription_id,
        jurisdiction,
        agency,
        url,
        secret,
        description,
        created_by,
    )
    return SubscriptionRow(**dict(row))


async def deactivate_subscription(conn: asyncpg.Connection, subscription_id: UUID) -> None:
    await conn.execute(
        "UPDATE webhook_subscriptions SET active = false WHERE subscription_id = $1",
        subscription_id,
    )


async def subscriptions(conn: asyncpg.Connection, jurisdiction: str) -> list[SubscriptionRow]:
    rows = await conn.fetch(
        f"""SELECT {_SUBSCRIPTION} FROM webhook_subscriptions
            WHERE jurisdiction = $1 ORDER BY created_at""",
        jurisdiction,
    )
    return [SubscriptionRow(**dict(row)) for row in rows]
