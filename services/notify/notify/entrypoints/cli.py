"""`offramp-notify`: the commands every service has."""

from notify.bootstrap import create_app, migrations
from notify.settings import NotifySettings
from servicekit.cli import service_main

main = service_main("offramp-notify", NotifySettings, create_app, migrations)

if __name__ == "__main__":
    raise SystemExit(main())
