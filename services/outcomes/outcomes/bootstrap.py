"""Wires outcomes together: one consumer of every subject that folds events into the read model,
and the HTTP reports over it. The pieces live in one typed container on the app."""

from pathlib import Path

from fastapi import FastAPI

from outcomes.adapters.folding import refold_missing
from outcomes.adapters.read_model import PostgresReadModel
from outcomes.adapters.tallies import PostgresTallies
from outcomes.container import Outcomes
from outcomes.domain.facts import Pseudonymiser
from outcomes.entrypoints import http
from outcomes.settings import OutcomesSettings
from outcomes.use_cases import ComputeReport, FoldIntoReadModel
from servicekit.http import create_service_app
from servicekit.inbox import InboxConsumer
from servicekit.migrations import Migration, migrations_in, plumbing_migrations
from servicekit.runtime import ServiceRuntime

# The durable consumer's name; change it only with its delivery policy or subjects.
CONSUMER_NAME = "outcomes-facts-v1"


def migrations() -> list[Migration]:
    return plumbing_migrations() + migrations_in(Path(__file__).parent / "migrations", "outcomes")


def fold_consumer(
    rt: ServiceRuntime,
    settings: OutcomesSettings,
    read_model: PostgresReadModel,
    pseudonym: Pseudonymiser,
) -> InboxConsumer:
    return rt.consumer(
        CONSUMER_NAME, [f"{settings.subject_root}.>"], FoldIntoReadModel(read_model, pseudonym)
    )


def create_app(settings: OutcomesSettings) -> FastAPI:
    # Refused before anything starts: without its key the service would pseudonymise nobody.
    pseudonym = Pseudonymiser(settings.pseudonym_key())
    runtime = ServiceRuntime(settings, migrations())

    async def on_start(rt: ServiceRuntime) -> None:
        read_model = PostgresReadModel(rt.pool)
        async with rt.pool.acquire() as conn, conn.transaction():
            # Referrals kept before the folded rows existed (migration 0002) are folded once.
            await refold_missing(conn)
        outcomes = Outcomes(
            settings=settings,
            read_model=read_model,
            compute=ComputeReport(PostgresTallies(rt.pool)),
            consumer=fold_consumer(rt, settings, read_model, pseudonym),
        )
        app.state.outcomes = outcomes
        rt.spawn("event-consumer", outcomes.consumer.run)

    app = create_service_app(
        title="Offramp outcomes",
        description=(
            "Outcomes and equity reports for analysts and auditors: aggregates over pseudonyms, "
            "by race and by ethnicity, small cells suppressed, as known on any date."
        ),
        runtime=runtime,
        on_start=on_start,
    )
    app.include_router(http.router)
    return app
