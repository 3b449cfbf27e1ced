"""What notify keeps from the events it consumes, to know who plays which part: who referred
each referral, which case belongs to which referral, and who manages each case."""

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from notify.domain.coarse import CoarseFacts
from notify.domain.triggers import Parties, Recipient
from servicekit.profiles import ProfileBook, UnknownProfile


async def remember_parties(
    conn: asyncpg.Connection, jurisdiction: str, data: Mapping[str, Any]
) -> None:
    """Reads only identifiers and staff references (`referring_officer`, `case_manager`); any
    event that names them keeps the read models current, whatever its type."""
    referral_id = data.get("referral_id")
    case_id = data.get("case_id")
    officer = data.get("referring_officer")
    if referral_id and isinstance(officer, Mapping):
        await conn.execute(
            """INSERT INTO known_referrals (referral_id, jurisdiction, officer_subject, officer_agency)
               VALUES ($1, $2, $3, $4) ON CONFLICT (referral_id) DO NOTHING""",
            UUID(str(referral_id)),
            jurisdiction,
            str(officer["subject"]),
            str(officer["agency"]),
        )
    if not case_id:
        return
    await conn.execute(
        """INSERT INTO known_cases (case_id, jurisdiction, referral_id, policy_version)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (case_id) DO UPDATE SET
               referral_id = coalesce(known_cases.referral_id, EXCLUDED.referral_id),
               policy_version = coalesce(known_cases.policy_version, EXCLUDED.policy_version)""",
        UUID(str(case_id)),
        jurisdiction,
        UUID(str(referral_id)) if referral_id else None,
        data.get("policy_version"),
    )
    manager = data.get("case_manager")
    if isinstance(manager, Mapping):
        await conn.execute(
            """UPDATE known_cases SET case_manager_subject = $2, case_manager_agency = $3
               WHERE case_id = $1""",
            UUID(str(case_id)),
            str(manager["subject"]),
            str(manager["agency"]),
        )


async def parties_for(
    conn: asyncpg.Connection,
    jurisdiction: str,
    facts: CoarseFacts,
    policy_version: str | None,
    profiles: ProfileBook,
    today: date,
) -> Parties:
    case = None
    if facts.case_id is not None:
        case = await conn.fetchrow(
            """SELECT referral_id, policy_version, case_manager_subject, case_manager_agency
               FROM known_cases WHERE case_id = $1 AND jurisdiction = $2""",
            facts.case_id,
            jurisdiction,
        )
    referral_id = facts.referral_id or (case["referral_id"] if case else None)
    officer = None
    if referral_id is not None:
        row = await conn.fetchrow(
            """SELECT officer_subject, officer_agency FROM known_referrals
               WHERE referral_id = $1 AND jurisdiction = $2""",
            referral_id,
            jurisdiction,
        )
        if row is not None:
            officer = Recipient(agency=row["officer_agency"], subject=row["officer_subject"])
    manager = None
    if case is not None and case["case_manager_subject"]:
        manager = Recipient(
            agency=case["case_manager_agency"], subject=case["case_manager_subject"]
        )
    version = (case["policy_version"] if case else None) or policy_version
    try:
        # A case keeps the profile version it started under, and with it the agencies it names.
        profile = (
            profiles.version(jurisdiction, version)
            if version
            else profiles.in_force(jurisdiction, today)
        )
    except UnknownProfile:
        profile = None
    return Parties(
        referral_id=referral_id,
        referring_officer=officer,
        case_manager=manager,
        prosecutor_agency=profile.agencies.prosecutor if profile else None,
        case_management_agency=profile.agencies.case_management if profile else None,
        case_known=case is not None,
    )
