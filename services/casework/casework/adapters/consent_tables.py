"""The read models of releases and disclosures, kept in the transaction that stores their events
(`CaseStore.record` calls `project`), and the queries that read them."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from casework.domain.releases import Release
from offramp_contracts import EventEnvelope, payload_of
from offramp_contracts.events.consent import ConsentGranted, ConsentRevoked, InformationDisclosed


async def project(conn: asyncpg.Connection, events: Sequence[EventEnvelope]) -> None:
    for event in events:
        payload = payload_of(event)
        if isinstance(payload, ConsentGranted):
            await conn.execute(
                """INSERT INTO releases (release_id, case_id, jurisdiction, recipient_agency,
                                         recipient_role, recipient_subject, expires_at,
                                         expires_on, recorded_at, granted)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)""",
                payload.release_id,
                payload.case_id,
                event.jurisdiction,
                payload.recipient.agency,
                payload.recipient.role,
                payload.recipient.subject,
                payload.expires_at,
                payload.expires_on,
                event.occurred_at,
                payload.model_dump_json(),
            )
        elif isinstance(payload, ConsentRevoked):
            await conn.execute(
                "UPDATE releases SET revoked_at = $2, revocation = $3::jsonb WHERE release_id = $1",
                payload.release_id,
                payload.revoked_at,
                payload.model_dump_json(),
            )
        elif isinstance(payload, InformationDisclosed):
            await conn.execute(
                """INSERT INTO disclosures (disclosure_id, case_id, jurisdiction, disclosed_at,
                                            recipient_subject, recipient_agency, recipient_role,
                                            information, release_ids, notice)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
                event.event_id,
                payload.case_id,
                event.jurisdiction,
                event.occurred_at,
                payload.recipient.subject,
                payload.recipient.agency,
                payload.recipient_role,
                sorted(payload.information),
                payload.release_ids,
                payload.redisclosure_notice,
            )


async def releases_of(conn: asyncpg.Connection, case_id: UUID) -> list[Release]:
    rows = await conn.fetch(
        "SELECT granted, recorded_at, revocation FROM releases WHERE case_id = $1 "
        "ORDER BY recorded_at, release_id",
        case_id,
    )
    return [
        Release(
            granted=ConsentGranted.model_validate_json(row["granted"]),
            recorded_at=row["recorded_at"],
            revocation=ConsentRevoked.model_validate_json(row["revocation"])
            if row["revocation"]
            else None,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class DisclosureRow:
    disclosure_id: UUID
    disclosed_at: datetime
    recipient_subject: str
    recipient_agency: str
    recipient_role: str
    information: list[str]
    release_ids: list[UUID]
    notice: str


async def disclosures_of(
    conn: asyncpg.Connection, case_id: UUID, *, since: datetime
) -> list[DisclosureRow]:
    """A case's disclosures from `since` on, the latest first."""
    rows = await conn.fetch(
        """SELECT disclosure_id, disclosed_at, recipient_subject, recipient_agency,
                  recipient_role, information, release_ids, notice
           FROM disclosures WHERE case_id = $1 AND disclosed_at >= $2
           ORDER BY disclosed_at DESC, disclosure_id""",
        case_id,
        since,
    )
    return [DisclosureRow(**dict(row)) for row in rows]


async def case_jurisdiction(conn: asyncpg.Connection, case_id: UUID) -> str | None:
    jurisdiction: str | None = await conn.fetchval(
        "SELECT jurisdiction FROM cases WHERE case_id = $1", case_id
    )
    return jurisdiction
