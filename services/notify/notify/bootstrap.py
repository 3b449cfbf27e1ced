"""Wires notify together: HTTP inbox and the consumer of the events people are told about."""

from pathlib import Path

from fastapi import FastAPI

from notify.entrypoints.http import router
from notify.inbox_delivery import deliver_in_app
from notify.settings import NotifySettings
from servicekit.http import create_service_app
from servicekit.inbox import InboxConsumer
from servicekit.migrations import Migration, migrations_in, plumbing_migrations
from servicekit.runtime import ServiceRuntime

CONSUMER_VERSION = "v1"


def migrations() -> list[Migration]:
    return plumbing_migrations() + migrations_in(Path(__file__).parent / "migrations", "notify")


def create_app(settings: NotifySettings) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations())

    async def on_start(rt: ServiceRuntime) -> None:
        consumer = InboxConsumer(
            pool=rt.pool,
            js=rt.js,
            stream=settings.stream_name,
            name=f"notify-in-app-{CONSUMER_VERSION}",
            subjects=[f"{settings.subject_root}.*.casework.CaseOpened"],
            handler=deliver_in_app,
        )
        rt.extras["consumer"] = consumer
        rt.spawn("in-app-consumer", consumer.run)

    app = create_service_app(
        title="Offramp notify",
        description="Notifications: the in-app inbox of officers, prosecutors and case managers.",
        runtime=runtime,
        on_start=on_start,
    )
    app.include_router(router)
    return app
