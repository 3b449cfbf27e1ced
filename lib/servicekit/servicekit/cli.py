"""The command line every service offers: `serve`, `migrate`, `profiles`, `dead-letters`."""

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import asyncpg
import uvicorn
from fastapi import FastAPI

from servicekit import dead_letters
from servicekit.database import create_pool
from servicekit.log import configure_logging
from servicekit.migrations import Migration
from servicekit.operator_cli import CommandFailed, load_settings, run_guarded
from servicekit.profiles import ProfileError, load_profiles
from servicekit.schema import prepare_schema
from servicekit.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)
SERVICE_COMMANDS = ("serve", "migrate", "profiles", "dead-letters")


@dataclass(frozen=True)
class OwnCommands:
    """A service's commands besides the shared ones: `add` declares them, `run` runs them;
    `foreseeable` are its errors an operator can put right (one line, no traceback)."""

    add: Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]
    run: Callable[[argparse.Namespace], int]
    foreseeable: tuple[type[Exception], ...] = ()


class ServiceMain(Protocol):
    def __call__(self, argv: list[str] | None = None) -> int: ...


def service_main(
    prog: str,
    settings_type: type[S],
    create_app: Callable[[S], FastAPI],
    migrations: Callable[[], list[Migration]],
    own: OwnCommands | None = None,
) -> ServiceMain:
    """A service's `main` (its console script): the shared commands, and its `own` if any."""

    def main(argv: list[str] | None = None) -> int:
        if own is None:
            return run_service_cli(
                prog=prog,
                settings_type=settings_type,
                create_app=create_app,
                migrations=migrations,
                argv=argv,
            )
        return run_cli_with_own_commands(
            prog=prog,
            settings_type=settings_type,
            create_app=create_app,
            migrations=migrations,
            add_commands=own.add,
            run_command=own.run,
            argv=argv,
            foreseeable=own.foreseeable,
        )

    return main


def run_cli_with_own_commands(
    *,
    prog: str,
    settings_type: type[S],
    create_app: Callable[[S], FastAPI],
    migrations: Callable[[], list[Migration]],
    add_commands: Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None],
    run_command: Callable[[argparse.Namespace], int],
    argv: list[str] | None = None,
    foreseeable: tuple[type[Exception], ...] = (),
) -> int:
    """The shared commands and a service's own (audit's ledger commands, casework's list of
    disclosures) under one program: `add_commands` declares the service's, `run_command` runs
    them; the shared ones are handed whole to `run_service_cli`. A failure an operator can
    put right (a server down, a setting missing, and the service's `foreseeable` errors) ends
    in one line saying so and a non-zero exit, not a traceback."""
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
    args = parser.parse_args(argv)
    return run_guarded(
        prog,
        lambda: run_command(args),
        settings=lambda: load_settings(settings_type),
        foreseeable=foreseeable,
    )


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
    letters = commands.add_parser("dead-letters", help="list, replay or discard parked messages")
    letters.add_argument("action", choices=["list", "replay", "discard"])
    letters.add_argument("id", nargs="?", type=int)
    letters.add_argument(
        "--wait",
        type=float,
        default=30.0,
        help="replay: seconds to wait for the running service to replay it (default 30)",
    )
    args = parser.parse_args(argv)
    return run_guarded(
        prog,
        lambda: _run_service_command(prog, settings_type, create_app, migrations, args),
        settings=lambda: load_settings(settings_type),
    )


def _run_service_command(
    prog: str,
    settings_type: type[S],
    create_app: Callable[[S], FastAPI],
    migrations: Callable[[], list[Migration]],
    args: argparse.Namespace,
) -> int:
    settings = load_settings(settings_type)
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
        applied = asyncio.run(prepare_schema(settings, migrations()))
        print(f"{prog}: {len(applied)} migration(s) applied to schema {settings.db_schema}")
        return 0
    return asyncio.run(_dead_letters(settings, args.action, args.id, args.wait))


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


async def _dead_letters(
    settings: ServiceSettings, action: str, letter_id: int | None, wait: float
) -> int:
    if action != "list" and letter_id is None:
        raise CommandFailed(
            f"give the id of the dead letter to {action} (`dead-letters list` shows them)", 2
        )
    pool = await create_pool(settings.database_url, settings.db_schema, max_size=2)
    try:
        if action == "list":
            letters = await dead_letters.parked(pool)
            for letter in letters:
                error = dead_letters.one_line(letter.error)[:120]
                print(
                    f"{letter.id}\t{letter.parked_at:%Y-%m-%d %H:%M:%S}\t{letter.status}\t"
                    f"{letter.consumer}\t{letter.subject}\t{letter.deliveries} deliveries\t"
                    f"{error}"
                )
            print(f"{len(letters)} dead letter(s) waiting", file=sys.stderr)
            return 0
        assert letter_id is not None
        if action == "discard":
            await dead_letters.discard(pool, letter_id)
            print(f"dead letter {letter_id} discarded")
            return 0
        await dead_letters.request_replay(pool, letter_id)
        return await _await_replay(pool, settings, letter_id, wait)
    finally:
        await pool.close()


async def _await_replay(
    pool: "asyncpg.Pool", settings: ServiceSettings, letter_id: int, wait: float
) -> int:
    """The running service replays it (it holds the handler); wait to say how it went."""
    deadline = time.monotonic() + wait
    while True:
        letter = await dead_letters.find(pool, letter_id)
        assert letter is not None
        if letter.status == "replayed":
            print(f"dead letter {letter_id} replayed by {letter.consumer}")
            return 0
        if letter.status == "parked":
            raise CommandFailed(
                f"dead letter {letter_id} is still parked: {letter.error[:300]}; fix the cause "
                "and replay it again",
                1,
            )
        if time.monotonic() > deadline:
            raise CommandFailed(
                f"no running {settings.service_name} replayed dead letter {letter_id} within "
                f"{wait:.0f}s; it stays asked for and is replayed when the service runs "
                "(`make status` shows whether it does)",
                1,
            )
        await asyncio.sleep(0.2)
