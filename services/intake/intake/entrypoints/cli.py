"""`offramp-intake`: the commands every service has."""

from intake.bootstrap import create_app, migrations
from intake.settings import IntakeSettings
from servicekit.cli import service_main

main = service_main("offramp-intake", IntakeSettings, create_app, migrations)

if __name__ == "__main__":
    raise SystemExit(main())
