"""`offramp-casework`: the commands every service has, and the list of disclosures."""

from casework.bootstrap import create_app, migrations
from casework.entrypoints.consent_cli import add_commands, run_command
from casework.settings import CaseworkSettings
from servicekit.cli import run_cli_with_own_commands


def main(argv: list[str] | None = None) -> int:
    return run_cli_with_own_commands(
        prog="offramp-casework",
        settings_type=CaseworkSettings,
        create_app=create_app,
        migrations=migrations,
        add_commands=add_commands,
        run_command=run_command,
        argv=argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
