"""The case-management agencies' rosters: who may be given cases, kept by their supervisors."""

from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class RosterEntry:
    subject: str
    active: bool
    open_cases: int


async def register(
    conn: asyncpg.Connection, *, jurisdiction: str, agency: str, subject: str, by: str
) -> None:
    """Adds a case manager, or makes a deactivated one active again."""
    await conn.execute(
        """INSERT INTO case_managers (jurisdiction, agency, subject, active, changed_by)
           VALUES ($1, $2, $3, true, $4)
           ON CONFLICT (jurisdiction, agency, subject)
           DO UPDATE SET active = true, changed_by = $4, changed_at = now()""",
        jurisdiction,
        agency,
        subject,
        by,
    )


async def deactivate(
    conn: asyncpg.Connection, *, jurisdiction: str, agency: str, subject: str, by: str
) -> bool:
    """False if nobody of that name is on the roster."""
    updated = await conn.fetchval(
        """UPDATE case_managers SET active = false, changed_by = $4, changed_at = now()
           WHERE jurisdiction = $1 AND agency = $2 AND subject = $3 RETURNING true""",
        jurisdiction,
        agency,
        subject,
        by,
    )
    return bool(updated)


async def roster(conn: asyncpg.Connection, *, jurisdiction: str, agency: str) -> list[RosterEntry]:
    """Everyone on the agency's roster with their open caseload, by name, so that ties in
    assignment always go the same way."""
    rows = await conn.fetch(
        """SELECT m.subject, m.active, count(c.case_id) AS open_cases
           FROM case_managers m
           LEFT JOIN cases c ON c.jurisdiction = m.jurisdiction AND c.case_agency = m.agency
                            AND c.case_manager = m.subject AND c.phase <> 'closed'
           WHERE m.jurisdiction = $1 AND m.agency = $2
           GROUP BY m.subject, m.active
           ORDER BY m.subject""",
        jurisdiction,
        agency,
    )
    return [RosterEntry(r["subject"], r["active"], r["open_cases"]) for r in rows]


async def is_active(
    conn: asyncpg.Connection, *, jurisdiction: str, agency: str, subject: str
) -> bool:
    return bool(
        await conn.fetchval(
            """SELECT active FROM case_managers
               WHERE jurisdiction = $1 AND agency = $2 AND subject = $3""",
            jurisdiction,
            agency,
            subject,
        )
    )
