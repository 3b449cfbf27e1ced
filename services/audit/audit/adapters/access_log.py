"""Who read the ledger, or tried to (rule 11 applies to the ledger itself).

Each row says who, when, what and with which outcome, as RecordAccessed and AccessDenied will
(issue 6): once those events exist, recording one of them through the event store in place of
this insert is all it takes to put ledger reads into the ledger.
"""

import json
from typing import Any, Literal

import asyncpg

from servicekit.auth import Principal

Outcome = Literal["allowed", "denied"]


async def record_read(
    pool: asyncpg.Pool,
    principal: Principal,
    *,
    action: str,
    detail: dict[str, Any],
    outcome: Outcome,
) -> None:
    await pool.execute(
        """INSERT INTO ledger_reads (subject, agency, roles, action, detail, outcome)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6)""",
        principal.subject,
        principal.agency,
        sorted(principal.roles),
        action,
        json.dumps(detail, default=str),
        outcome,
    )
