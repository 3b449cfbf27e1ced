from notify.bootstrap import create_app, migrations
from notify.settings import NotifySettings
from servicekit.cli import run_service_cli


def main() -> int:
    return run_service_cli(
        prog="offramp-notify",
        settings_type=NotifySettings,
        create_app=create_app,
        migrations=migrations,
    )


if __name__ == "__main__":
    raise SystemExit(main())
