"""Intake's use cases, each one transaction: events, read model and outbox commit together."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from intake.domain.referral import SubmitReferral, receive_referral
from offramp_contracts import Actor
from offramp_contracts.events.base import Door
from offramp_contracts.events.intake import ReferralAdmitted
from servicekit.events import new_event
from servicekit.eventstore import EventStore


@dataclass(frozen=True)
class ReferralStatus:
    referral_id: UUID
    door: str
    status: str
    received_at: datetime


def stream_of(referral_id: UUID) -> str:
    return f"referral-{referral_id}"


async def submit_referral(
    pool: asyncpg.Pool,
    store: EventStore,
    command: SubmitReferral,
    *,
    jurisdiction: str,
    actor: Actor,
    correlation_id: UUID,
    open_doors: frozenset[Door],
    policy_version: str,
) -> ReferralStatus:
    received, decided = receive_referral(
        command,
        open_doors=open_doors,
        policy_version=policy_version,
    )
    stream_id = stream_of(command.referral_id)
    first = new_event(
        received,
        stream_id=stream_id,
        stream_version=1,
        jurisdiction=jurisdiction,
        actor=actor,
        correlation_id=correlation_id,
        causation_id=None,
    )
    second = new_event(
        decided,
        stream_id=stream_id,
        stream_version=2,
        jurisdiction=jurisdiction,
        actor=actor,
        correlation_id=correlation_id,
        causation_id=first.event_id,
    )
    events = [first, second]
    if decided.decision == "eligible":
        admitted = ReferralAdmitted(
            referral_id=command.referral_id,
            door=command.door,
            referring_officer=command.referring_officer,
            policy_version=policy_version,
            from_waitlist=False,
        )
        events.append(
            new_event(
                admitted,
                stream_id=stream_id,
                stream_version=3,
                jurisdiction=jurisdiction,
                actor=actor,
                correlation_id=correlation_id,
                causation_id=second.event_id,
            )
        )
    async with pool.acquire() as conn, conn.transaction():
        await store.append(conn, stream_id, 0, events)
        await conn.execute(
            """INSERT INTO referrals (referral_id, jurisdiction, officer_subject, officer_agency,
                                      door, status, received_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            command.referral_id,
            jurisdiction,
            command.referring_officer.subject,
            command.referring_officer.agency,
            command.door,
            decided.decision,
            first.occurred_at,
        )
    return ReferralStatus(command.referral_id, command.door, decided.decision, first.occurred_at)


async def referrals_of_officer(
    pool: asyncpg.Pool, *, jurisdiction: str, agency: str, subject: str
) -> list[ReferralStatus]:
    rows = await pool.fetch(
        """SELECT referral_id, door, status, received_at FROM referrals
           WHERE jurisdiction = $1 AND officer_agency = $2 AND officer_subject = $3
           ORDER BY received_at DESC""",
        jurisdiction,
        agency,
        subject,
    )
    return [ReferralStatus(**dict(row)) for row in rows]
