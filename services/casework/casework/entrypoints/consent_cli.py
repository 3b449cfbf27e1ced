"""`offramp-casework disclosures <case-id>`: the list of a participant's disclosures that a
privacy officer produces on request (DESIGN.md rule 10), from the server's database."""

import argparse
import asyncio
from datetime import UTC, datetime
from uuid import UUID

from casework.adapters import consent_tables
from casework.domain.consent import three_years_before
from casework.settings import CaseworkSettings
from offramp_contracts.events.audit import RecordRef
from servicekit.access import record_command
from servicekit.database import connect
from servicekit.operator_cli import load_settings


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    listing = commands.add_parser(
        "disclosures",
        help="list who received what about a participant, under which release, and when",
    )
    listing.add_argument("case_id", type=UUID, help="the participant's case")
    listing.add_argument(
        "--since",
        type=datetime.fromisoformat,
        help="from when (ISO 8601, e.g. 2024-01-01); the last three years if not given",
    )


def run_command(args: argparse.Namespace) -> int:
    since: datetime | None = args.since
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return asyncio.run(_disclosures(load_settings(CaseworkSettings), args.case_id, since))


async def _disclosures(settings: CaseworkSettings, case_id: UUID, since: datetime | None) -> int:
    start = since or three_years_before(datetime.now(UTC))
    conn = await connect(settings.database_url, settings.db_schema)
    try:
        jurisdiction = await consent_tables.case_jurisdiction(conn, case_id)
        if jurisdiction is None:
            print(f"offramp-casework: there is no case {case_id}; check the id")
            return 1
        await record_command(
            conn,
            settings,
            command="offramp-casework disclosures",
            arguments={"case_id": case_id, "since": start},
            records=[RecordRef(kind="case", id=str(case_id))],
            jurisdiction=jurisdiction,
        )
        rows = await consent_tables.disclosures_of(conn, case_id, since=start)
    finally:
        await conn.close()
    print(f"Disclosures about the participant of case {case_id} since {start:%Y-%m-%d %H:%M %Z}:")
    for row in rows:
        print(
            f"{row.disclosed_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC\t"
            f"{row.recipient_subject} ({row.recipient_role}, {row.recipient_agency})\t"
            f"{', '.join(row.information)}\t"
            f"under release {', '.join(str(r) for r in row.release_ids)}\t"
            f"notice {row.notice}"
        )
    print(f"{len(rows)} disclosure(s).")
    return 0
