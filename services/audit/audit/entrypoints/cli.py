"""`offramp-audit`: the commands every service has, and the ledger's own."""

from audit.adapters.signing_key import SigningKeyMissing
from audit.bootstrap import create_app, migrations
from audit.entrypoints.ledger_cli import add_commands, run_command
from audit.settings import AuditSettings
from servicekit.cli import run_cli_with_own_commands


def main(argv: list[str] | None = None) -> int:
    return run_cli_with_own_commands(
        prog="offramp-audit",
        settings_type=AuditSettings,
        create_app=create_app,
        migrations=migrations,
        add_commands=add_commands,
        run_command=run_command,
        argv=argv,
        foreseeable=(SigningKeyMissing,),
    )


if __name__ == "__main__":
    raise SystemExit(main())
