"""Wires intake together: one place, no globals, no import-time side effects."""

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from intake.entrypoints.http import router
from intake.settings import IntakeSettings
from intake.use_cases import Intake, NotFound, Refused
from servicekit.http import create_service_app
from servicekit.migrations import Migration, migrations_in, plumbing_migrations
from servicekit.problems import problem_response
from servicekit.profiles import load_profiles
from servicekit.runtime import ServiceRuntime

CONSUMER_VERSION = "v1"

# A refused command stored nothing; the status says whether to fix the request or the situation.
REFUSAL_STATUS = {
    "door-closed": 422,
    "source-not-allowed": 422,
    "idempotency-key-reused": 422,
    "no-programme": 403,
    "not-a-referrer": 403,
    "door-not-yours": 403,
    "source-not-yours": 422,
    "not-awaiting-review": 409,
    "cannot-withdraw": 409,
    "not-eligible": 409,
    "no-place": 409,
}


def migrations() -> list[Migration]:
    return plumbing_migrations() + migrations_in(Path(__file__).parent / "migrations", "intake")


def create_app(settings: IntakeSettings) -> FastAPI:
    """Refuses to build (ProfileError) when a site profile is invalid, before anything starts."""
    profiles = load_profiles(settings.profiles_dir)
    runtime = ServiceRuntime(settings, migrations())

    async def on_start(rt: ServiceRuntime) -> None:
        intake = Intake(rt.pool, rt.store, profiles)
        rt.extras["intake"] = intake
        consumer = rt.consumer(
            f"intake-places-{CONSUMER_VERSION}",
            [f"{settings.subject_root}.*.casework.CaseClosed"],
            intake.on_case_closed,
        )
        rt.extras["consumer"] = consumer
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

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> JSONResponse:
        status = REFUSAL_STATUS.get(exc.kind, 409)
        return problem_response(request, status, exc.kind, "Refused", exc.detail)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return problem_response(
            request,
            404,
            "not-found",
            "No such referral",
            f"There is no referral {exc} that you may see or change.",
        )

    app.include_router(router)
    return app
