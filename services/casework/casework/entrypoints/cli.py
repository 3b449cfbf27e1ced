"""`offramp-casework`: the commands every service has, and the list of disclosures."""

from casework.bootstrap import create_app, migrations
from casework.entrypoints.consent_cli import add_commands, run_command
from casework.settings import CaseworkSettings
from servicekit.cli import OwnCommands, service_main

main = service_main(
    "offramp-casework",
    CaseworkSettings,
    create_app,
    migrations,
    OwnCommands(add_commands, run_command),
)

if __name__ == "__main__":
    raise SystemExit(main())
