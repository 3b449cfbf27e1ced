"""`offramp-casework`: the commands every service has, and the list of disclosures."""

import argparse
import sys

from casework.bootstrap import create_app, migrations
from casework.entrypoints.consent_cli import add_commands, run_command
from casework.settings import CaseworkSettings
from servicekit.cli import run_service_cli

SERVICE_COMMANDS = ("serve", "migrate", "profiles", "dead-letters")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="offramp-casework")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in SERVICE_COMMANDS:
        # Handed whole to the shared service CLI, which parses its own arguments.
        commands.add_parser(
            name, help=f"the service's `{name}` (see `{name} --help`)", add_help=False
        )
    add_commands(commands)
    if argv and argv[0] in SERVICE_COMMANDS:
        return run_service_cli(
            prog="offramp-casework",
            settings_type=CaseworkSettings,
            create_app=create_app,
            migrations=migrations,
            argv=argv,
        )
    return run_command(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
