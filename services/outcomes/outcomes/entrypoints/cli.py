"""`offramp-outcomes`: the commands every service has, `report` (the reports to CSV) and
`rebuild` (the read model from the ledger's redrive)."""

import argparse
import asyncio
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from tqdm import tqdm

from outcomes.adapters.read_model import PostgresReadModel
from outcomes.bootstrap import CONSUMER_NAME, create_app, migrations
from outcomes.domain.facts import Pseudonymiser
from outcomes.domain.population import REPORTS, ReportQuery, population
from outcomes.domain.reports import Report, build_report
from outcomes.entrypoints.rebuild import rebuild
from outcomes.entrypoints.report_formats import as_csv
from outcomes.settings import OutcomesSettings
from servicekit.cli import OwnCommands, service_main
from servicekit.database import create_pool
from servicekit.operator_cli import load_settings


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    report = commands.add_parser("report", help="write reports to CSV (one row per cell)")
    report.add_argument("names", nargs="*", choices=[*REPORTS, []], help="default: all six")
    report.add_argument("--jurisdiction", required=True)
    report.add_argument("--from", dest="period_from", type=date.fromisoformat)
    report.add_argument("--to", dest="period_to", type=date.fromisoformat)
    report.add_argument("--door", choices=["arrest_diversion", "social_contact", "community"])
    report.add_argument(
        "--as-known-on", type=datetime.fromisoformat, help="ISO 8601 instant (default: now)"
    )
    report.add_argument("--out", type=Path, help="CSV file (default: standard output)")
    report.add_argument("--no-progress", action="store_true")

    again = commands.add_parser(
        "rebuild", help="fold a stream re-driven from the ledger into this (empty) schema"
    )
    again.add_argument("--stream", required=True, help="the stream `offramp-audit redrive` filled")
    again.add_argument("--subject-root", required=True)
    again.add_argument("--no-progress", action="store_true")


def run_command(args: argparse.Namespace) -> int:
    # The service's settings as every command reads them: beside `make up`, its settings file.
    settings = load_settings(OutcomesSettings)
    if args.command == "report":
        return asyncio.run(_report(settings, args))
    folded = asyncio.run(
        rebuild(
            settings,
            Pseudonymiser(settings.pseudonym_key()),
            migrations(),
            stream=args.stream,
            subject_root=args.subject_root,
            consumer_name=CONSUMER_NAME,
            progress=not args.no_progress,
        )
    )
    print(f"offramp-outcomes: {folded} events folded into schema {settings.db_schema}")
    return 0


async def _report(settings: OutcomesSettings, args: argparse.Namespace) -> int:
    as_known_on = args.as_known_on or datetime.now(UTC)
    if as_known_on.tzinfo is None:
        print("offramp-outcomes: give --as-known-on with its offset, e.g. Z", file=sys.stderr)
        return 2
    names = args.names or list(REPORTS)
    bar = tqdm(total=len(names) + 1, unit="step", disable=args.no_progress, file=sys.stderr)
    pool = await create_pool(settings.database_url, settings.db_schema, max_size=2)
    try:
        bar.set_description("reading the read model")
        known = await PostgresReadModel(pool).known(args.jurisdiction, as_known_on)
        bar.update()
    finally:
        await pool.close()
    reports: list[Report] = []
    for name in names:
        bar.set_description(name)
        query = ReportQuery(
            report=name,
            jurisdiction=args.jurisdiction,
            as_known_on=as_known_on,
            period_from=args.period_from,
            period_to=args.period_to,
            door=args.door,
            threshold=settings.threshold_for(args.jurisdiction),
        )
        people = population(query, known.referrals, known.cases, known.facts)
        reports.append(build_report(query, people))
        bar.update()
    bar.close()
    text = as_csv(reports)
    if args.out:
        args.out.write_text(text)
        print(f"offramp-outcomes: {len(names)} report(s) written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


main = service_main(
    "offramp-outcomes",
    OutcomesSettings,
    create_app,
    migrations,
    OwnCommands(add_commands, run_command),
)

if __name__ == "__main__":
    raise SystemExit(main())
