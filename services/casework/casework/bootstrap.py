"""Wires casework together: HTTP API, the EligibilityDecided consumer and the Temporal worker."""

from pathlib import Path

from fastapi import FastAPI
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from casework.entrypoints.http import router
from casework.settings import CaseworkSettings
from casework.timeline.activities import CaseActivities
from casework.timeline.starter import TimelineStarter
from casework.timeline.workflow import CaseTimeline
from servicekit.http import create_service_app
from servicekit.inbox import InboxConsumer
from servicekit.migrations import Migration, migrations_in, plumbing_migrations
from servicekit.runtime import ServiceRuntime

CONSUMER_VERSION = "v1"


def migrations() -> list[Migration]:
    return plumbing_migrations() + migrations_in(Path(__file__).parent / "migrations", "casework")


async def connect_temporal(settings: CaseworkSettings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )


def create_app(settings: CaseworkSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations())

    async def on_start(rt: ServiceRuntime) -> None:
        client = await connect_temporal(settings)
        activities = CaseActivities(
            rt.pool,
            rt.store,
            case_management_agency=settings.case_management_agency,
            case_managers=settings.case_managers,
        )
        worker = Worker(
            client,
            task_queue=settings.temporal_task_queue,
            workflows=[CaseTimeline],
            activities=[activities.open_case, activities.assign_case_manager],
        )
        rt.spawn("temporal-worker", worker.run)
        starter = TimelineStarter(client, settings.temporal_task_queue)
        consumer = InboxConsumer(
            pool=rt.pool,
            js=rt.js,
            stream=settings.stream_name,
            name=f"casework-eligibility-{CONSUMER_VERSION}",
            subjects=[f"{settings.subject_root}.*.intake.EligibilityDecided"],
            handler=starter.on_eligibility_decided,
        )
        rt.extras["consumer"] = consumer
        rt.spawn("eligibility-consumer", consumer.run)

    app = create_service_app(
        title="Offramp casework",
        description="Participants' cases: opening, assignment and the case timeline.",
        runtime=runtime,
        on_start=on_start,
    )
    app.include_router(router)
    return app
