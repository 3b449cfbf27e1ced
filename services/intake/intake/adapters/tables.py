"""Intake's read models and bookkeeping tables in Postgres. Every function takes the caller's
connection, so it runs inside the transaction that appends the events it reflects."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from intake.domain.capacity import Waiting
from intake.domain.referral import Status
from offramp_contracts.events.intake import ReferralReceived, RuleResult


@dataclass(frozen=True)
class ReferralRow:
    """What an officer or their supervisor may see: the coarse status, nothing from screening."""

    referral_id: UUID
    jurisdiction: str
    officer_subject: str
    officer_agency: str
    door: str
    status: str
    received_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ReviewRow:
    referral_id: UUID
    referring_agency: str
    door: str
    person: dict[str, Any]
    offence: dict[str, Any]
    rules: list[dict[str, Any]]
    policy_version: str
    received_at: datetime


_REFERRAL_COLUMNS = """referral_id, jurisdiction, officer_subject, officer_agency, door, status,
                       received_at, updated_at"""


async def insert_referral(
    conn: asyncpg.Connection,
    received: ReferralReceived,
    *,
    jurisdiction: str,
    at: datetime,
    person_key: str,
) -> None:
    await conn.execute(
        """INSERT INTO referrals (referral_id, jurisdiction, officer_subject, officer_agency,
                                  door, status, received_at, updated_at, policy_version,
                                  person_key)
           VALUES ($1, $2, $3, $4, $5, 'awaiting_review', $6, $6, $7, $8)""",
        received.referral_id,
        jurisdiction,
        received.referring_officer.subject,
        received.referring_officer.agency,
        received.door,
        at,
        received.policy_version,
        person_key,
    )


async def participants_with(
    conn: asyncpg.Connection, *, jurisdiction: str, person_key: str
) -> list[tuple[UUID, str]]:
    """The referrals (and their profile versions) of current participants with this person
    key: admitted in the jurisdiction, their case not closed."""
    rows = await conn.fetch(
        """SELECT r.referral_id, r.policy_version FROM referrals r
           JOIN admissions a ON a.referral_id = r.referral_id
           WHERE r.jurisdiction = $1 AND r.person_key = $2 AND a.closed_at IS NULL
           ORDER BY a.admitted_at""",
        jurisdiction,
        person_key,
    )
    return [(row["referral_id"], row["policy_version"]) for row in rows]


async def set_status(
    conn: asyncpg.Connection, referral_id: UUID, status: Status, at: datetime
) -> ReferralRow:
    """The referral's read-model row as it now stands."""
    row = await conn.fetchrow(
        f"""UPDATE referrals SET status = $2, updated_at = $3 WHERE referral_id = $1
            RETURNING {_REFERRAL_COLUMNS}""",
        referral_id,
        status,
        at,
    )
    assert row is not None, "a referral's status is set only once its row is stored"
    return ReferralRow(**dict(row))


async def referral(
    conn: asyncpg.Connection | asyncpg.Pool, referral_id: UUID
) -> ReferralRow | None:
    row = await conn.fetchrow(
        f"SELECT {_REFERRAL_COLUMNS} FROM referrals WHERE referral_id = $1", referral_id
    )
    return ReferralRow(**dict(row)) if row else None


async def referrals_by(
    pool: asyncpg.Pool, *, jurisdiction: str, agency: str, subject: str | None
) -> list[ReferralRow]:
    """An officer's own referrals, or (subject None) every referral of their agency."""
    rows = await pool.fetch(
        f"""SELECT {_REFERRAL_COLUMNS} FROM referrals
            WHERE jurisdiction = $1 AND officer_agency = $2
              AND ($3::text IS NULL OR officer_subject = $3)
            ORDER BY received_at DESC""",
        jurisdiction,
        agency,
        subject,
    )
    return [ReferralRow(**dict(row)) for row in rows]


# Idempotency -----------------------------------------------------------------------------------


async def claim_submission(
    conn: asyncpg.Connection,
    *,
    agency: str,
    subject: str,
    key: str,
    fingerprint: str,
    referral_id: UUID,
) -> tuple[UUID, str] | None:
    """None if this key is new (and now claimed by `referral_id`); otherwise the referral and
    fingerprint it was first used for. A concurrent first use of the same key blocks on the
    primary key until that transaction ends, then sees its row."""
    claimed = await conn.fetchval(
        """INSERT INTO submissions (officer_agency, officer_subject, idempotency_key, fingerprint,
                                    referral_id)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING referral_id""",
        agency,
        subject,
        key,
        fingerprint,
        referral_id,
    )
    if claimed is not None:
        return None
    row = await conn.fetchrow(
        """SELECT referral_id, fingerprint FROM submissions
           WHERE officer_agency = $1 AND officer_subject = $2 AND idempotency_key = $3""",
        agency,
        subject,
        key,
    )
    return row["referral_id"], row["fingerprint"]


# Review queue ----------------------------------------------------------------------------------


async def queue_for_review(
    conn: asyncpg.Connection,
    received: ReferralReceived,
    rules: tuple[RuleResult, ...],
    *,
    jurisdiction: str,
    prosecutor_agency: str,
    at: datetime,
) -> None:
    person = received.person
    await conn.execute(
        """INSERT INTO awaiting_review (referral_id, jurisdiction, prosecutor_agency,
                                        referring_agency, door, person, offence, rules,
                                        policy_version, received_at)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9, $10)""",
        received.referral_id,
        jurisdiction,
        prosecutor_agency,
        received.referring_officer.agency,
        received.door,
        json.dumps(
            {
                "given_name": person.given_name,
                "family_name": person.family_name,
                "date_of_birth": person.date_of_birth.isoformat(),
            }
        ),
        received.offence.model_dump_json(),
        json.dumps([rule.model_dump(mode="json") for rule in rules]),
        received.policy_version,
        at,
    )


async def leave_review(conn: asyncpg.Connection, referral_id: UUID) -> None:
    await conn.execute("DELETE FROM awaiting_review WHERE referral_id = $1", referral_id)


async def reviews_for(pool: asyncpg.Pool, *, jurisdiction: str, agency: str) -> list[ReviewRow]:
    rows = await pool.fetch(
        """SELECT referral_id, referring_agency, door, person, offence, rules, policy_version,
                  received_at
           FROM awaiting_review WHERE jurisdiction = $1 AND prosecutor_agency = $2
           ORDER BY received_at""",
        jurisdiction,
        agency,
    )
    return [
        ReviewRow(
            referral_id=row["referral_id"],
            referring_agency=row["referring_agency"],
            door=row["door"],
            person=json.loads(row["person"]),
            offence=json.loads(row["offence"]),
            rules=json.loads(row["rules"]),
            policy_version=row["policy_version"],
            received_at=row["received_at"],
        )
        for row in rows
    ]


# Places ----------------------------------------------------------------------------------------


async def lock_site(conn: asyncpg.Connection, jurisdiction: str) -> None:
    """Held until the transaction ends: places are counted and given by one transaction at a
    time per site. The site's row exists after its first referral; until then it is made."""
    locked = await conn.fetchval(
        "SELECT 1 FROM sites WHERE jurisdiction = $1 FOR UPDATE", jurisdiction
    )
    if locked is None:
        await conn.execute(
            "INSERT INTO sites (jurisdiction) VALUES ($1) ON CONFLICT DO NOTHING", jurisdiction
        )
        await conn.execute("SELECT 1 FROM sites WHERE jurisdiction = $1 FOR UPDATE", jurisdiction)


async def places_taken(conn: asyncpg.Connection, jurisdiction: str) -> tuple[int, list[Waiting]]:
    """The site's open cases and its waitlist, read in one statement. Run under the site's
    lock (a statement of its own before this one, so this statement's snapshot is taken after
    every admission that committed while it waited)."""
    rows = await conn.fetch(
        """SELECT (SELECT count(*) FROM admissions
                   WHERE jurisdiction = $1 AND closed_at IS NULL) AS open,
                  w.referral_id, w.door, w.since
           FROM (SELECT 1) AS one
           LEFT JOIN waitlist w ON w.jurisdiction = $1""",
        jurisdiction,
    )
    queue = [
        Waiting(row["referral_id"], row["door"], row["since"])
        for row in rows
        if row["referral_id"] is not None
    ]
    return int(rows[0]["open"]), queue


async def record_admission(
    conn: asyncpg.Connection, referral_id: UUID, jurisdiction: str, at: datetime
) -> None:
    await conn.execute(
        """WITH left_the_waitlist AS (DELETE FROM waitlist WHERE referral_id = $1)
           INSERT INTO admissions (referral_id, jurisdiction, admitted_at) VALUES ($1, $2, $3)""",
        referral_id,
        jurisdiction,
        at,
    )


async def record_waiting(conn: asyncpg.Connection, entry: Waiting, jurisdiction: str) -> None:
    await conn.execute(
        "INSERT INTO waitlist (referral_id, jurisdiction, door, since) VALUES ($1, $2, $3, $4)",
        entry.referral_id,
        jurisdiction,
        entry.door,
        entry.since,
    )


async def leave_waitlist(conn: asyncpg.Connection, referral_id: UUID) -> None:
    await conn.execute("DELETE FROM waitlist WHERE referral_id = $1", referral_id)


async def record_closure(conn: asyncpg.Connection, referral_id: UUID, at: datetime) -> str | None:
    """The jurisdiction whose place this frees, or None if the case was not admitted here."""
    jurisdiction: str | None = await conn.fetchval(
        """UPDATE admissions SET closed_at = $2 WHERE referral_id = $1 AND closed_at IS NULL
           RETURNING jurisdiction""",
        referral_id,
        at,
    )
    return jurisdiction
