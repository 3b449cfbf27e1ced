"""Wires intake together: one place, no globals, no import-time side effects."""

from pathlib import Path

from fastapi import FastAPI

from intake.entrypoints.http import router
from intake.settings import IntakeSettings
from servicekit.http import create_service_app
from servicekit.migrations import Migration, migrations_in, plumbing_migrations
from servicekit.runtime import ServiceRuntime


def migrations() -> list[Migration]:
    return plumbing_migrations() + migrations_in(Path(__file__).parent / "migrations", "intake")


def create_app(settings: IntakeSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations())
    app = create_service_app(
        title="Offramp intake",
        description="Officers refer people to the LEAD program; eligibility is decided and explained.",
        runtime=runtime,
    )
    app.include_router(router)
    return app
