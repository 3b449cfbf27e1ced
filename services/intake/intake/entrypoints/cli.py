from intake.bootstrap import create_app, migrations
from intake.settings import IntakeSettings
from servicekit.cli import run_service_cli


def main() -> int:
    return run_service_cli(
        prog="offramp-intake",
        settings_type=IntakeSettings,
        create_app=create_app,
        migrations=migrations,
    )


if __name__ == "__main__":
    raise SystemExit(main())
