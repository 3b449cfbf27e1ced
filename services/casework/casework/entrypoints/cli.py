from casework.bootstrap import create_app, migrations
from casework.settings import CaseworkSettings
from servicekit.cli import run_service_cli


def main() -> int:
    return run_service_cli(
        prog="offramp-casework",
        settings_type=CaseworkSettings,
        create_app=create_app,
        migrations=migrations,
    )


if __name__ == "__main__":
    raise SystemExit(main())
