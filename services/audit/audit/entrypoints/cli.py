from audit.bootstrap import create_app, migrations
from audit.settings import AuditSettings
from servicekit.cli import run_service_cli


def main() -> int:
    return run_service_cli(
        prog="offramp-audit",
        settings_type=AuditSettings,
        create_app=create_app,
        migrations=migrations,
    )


if __name__ == "__main__":
    raise SystemExit(main())
