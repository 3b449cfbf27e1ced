"""The command line every service offers: `serve`, `migrate`, `profiles`, `dead-letters`."""

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from servicekit import dead_letters
from servicekit.database import connect, create_pool
from servicekit.log import configure_logging
from servicekit.migrations import Migration, migrate
from servicekit.profiles import ProfileError, load_profiles
from servicekit.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)
SERVICE_COMMANDS = ("serve", "migrate", "profiles", "dead-letters")


def run_cli_with_own_commands(
    *,
    prog: str,
    settings_type: type[S],
    create_app: Callable[[S], FastAPI],
    migrations: Callable[[], list[Migration]],
    add_commands: Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None],
    run_command: Callable[[argparse.Namespace], int],
    argv: list[str] | None = None,
) -> int:
    """The shared commands and a service's own (audit's ledger commands, casework's list of
    disclosures) under one program: `add_commands` declares the service's, `run_command` runs
    them; the shared ones are handed whole to `run_service_cli`."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog=prog)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in SERVICE_COMMANDS:
        # Listed for --help; the shared CLI parses their own arguments.
        commands.add_parser(
            name, help=f"the service's `{name}` (see `{name} --help`)", add_help=False
        )
    add_commands(commands)
    if argv and argv[0] in SERVICE_COMMANDS:
        return run_service_cli(
            prog=prog,
            settings_type=settings_type,
            create_app=create_app,
            migrations=migrations,
            argv=argv,
        )
    return run_command(parser.parse_args(argv))


def run_service_cli(
    *,
    prog: str,
    settings_type: type[S],
    create_app: Callable[[S], FastAPI],
    migrations: Callable[[], list[Migration]],
    argv: list[str] | None = None,
) -> int:
    parser = argparse.ArgumentParser(prog=prog)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the service (HTTP API and background work)")
    commands.add_parser("migrate", help="apply pending database migrations and exit")
    commands.add_parser("profiles", help="validate the site profiles and list their versions")
    letters = commands.add_parser("dead-letters", help="list or discard parked messages")
    letters.add_argument("action", choices=["list", "discard"])
    letters.add_argument("id", nargs="?", type=int)
    args = parser.parse_args(argv)

    settings = settings_type()
    configure_logging(settings.service_name, settings.log_level, as_json=settings.log_json)
    if args.command == "profiles":
        return _check_profiles(prog, settings)
    if args.command == "serve":
        try:
            app = create_app(settings)
        except ProfileError as error:
            print(f"{prog}: not started: {error}", file=sys.stderr)
            return 2
        uvicorn.run(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
        )
        return 0
    if args.command == "migrate":
        applied = asyncio.run(_migrate(settings, migrations()))
        print(f"{prog}: {len(applied)} migration(s) applied to schema {settings.db_schema}")
        return 0
    return asyncio.run(_dead_letters(settings, args.action, args.id))


def _check_profiles(prog: str, settings: ServiceSettings) -> int:
    try:
        book = load_profiles(settings.profiles_dir)
    except ProfileError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2
    for profile in sorted(book.profiles.values(), key=lambda p: (p.jurisdiction, p.effective_from)):
        print(
            f"{profile.jurisdiction}\t{profile.version}\tin force from {profile.effective_from}"
            f"\t{profile.name}"
        )
    return 0


async def _migrate(settings: ServiceSettings, pending: list[Migration]) -> list[str]:
    conn = await connect(settings.database_url, settings.db_schema)
    try:
        return await migrate(conn, settings.db_schema, pending)
    finally:
        await conn.close()


async def _dead_letters(settings: ServiceSettings, action: str, letter_id: int | None) -> int:
    pool = await create_pool(settings.database_url, settings.db_schema, max_size=2)
    try:
        if action == "list":
            for letter in await dead_letters.parked(pool):
                error = dead_letters.one_line(letter.error)[:120]
                print(
                    f"{letter.id}\t{letter.parked_at:%Y-%m-%d %H:%M:%S}\t{letter.consumer}\t"
                    f"{letter.subject}\t{letter.deliveries} deliveries\t{error}"
                )
            return 0
        if letter_id is None:
            print("give the id of the dead letter to discard")
            return 2
        await dead_letters.discard(pool, letter_id)
        print(f"dead letter {letter_id} discarded")
        return 0
    finally:
        await pool.close()
