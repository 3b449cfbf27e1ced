"""Wires intake together: one place, no globals, no import-time side effects."""

from pathlib import Path

from fastapi import FastAPI

from intake.container import IntakeContainer
from intake.entrypoints.http import router
from intake.settings import IntakeSettings
from intake.use_cases import Intake
from servicekit.http import create_service_app
from servicekit.migrations import Migration, migrations_in, plumbing_migrations
from servicekit.profiles import load_profiles
from servicekit.runtime import ServiceRuntime

CONSUMER_VERSION = "v1"


def migrations() -> list[Migration]:
    return plumbing_migrations() + migrations_in(Path(__file__).parent / "migrations", "intake")


def create_app(settings: IntakeSettings) -> FastAPI:
    """Refuses to build (ProfileError) when a site profile is invalid, before anything starts."""
    profiles = load_profiles(settings.profiles_dir)
    runtime = ServiceRuntime(settings, migrations())

    async def on_start(rt: ServiceRuntime) -> None:
        intake = Intake(rt.pool, rt.store, profiles)
        consumer = rt.consumer(
            f"intake-places-{CONSUMER_VERSION}",
            [f"{settings.subject_root}.*.casework.CaseClosed"],
            intake.on_case_closed,
        )
        rt.provide(IntakeContainer(intake=intake, consumer=consumer))
        rt.spawn("case-closed-consumer", consumer.run)

    app = create_service_app(
        title="Offramp intake",
        description=(
            "Officers refer people to the LEAD programme; the site's rules decide and explain, "
            "the liaison prosecutor reviews where the site gives them the final say."
        ),
        runtime=runtime,
        on_start=on_start,
    )

    app.include_router(router)
    return app
