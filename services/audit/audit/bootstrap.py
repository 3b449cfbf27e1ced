"""Wires audit together: the consumer of every subject, and the ledger's HTTP API."""

from pathlib import Path

import asyncpg
from fastapi import FastAPI

from audit import ledger
from audit.entrypoints.http import router
from audit.settings import AuditSettings
from servicekit.http import create_service_app
from servicekit.inbox import ConsumerPolicy, Delivered, InboxConsumer
from servicekit.migrations import Migration, migrations_in, plumbing_migrations
from servicekit.runtime import ServiceRuntime
from servicekit.settings import ServiceSettings

CONSUMER_VERSION = "v1"


def migrations() -> list[Migration]:
    return plumbing_migrations() + migrations_in(Path(__file__).parent / "migrations", "audit")


def ledger_consumer(rt: ServiceRuntime, settings: ServiceSettings) -> InboxConsumer:
    async def record(conn: asyncpg.Connection, delivered: Delivered) -> None:
        await ledger.append(conn, delivered.subject, delivered.event)

    return InboxConsumer(
        pool=rt.pool,
        js=rt.js,
        stream=settings.stream_name,
        name=f"audit-ledger-{CONSUMER_VERSION}",
        subjects=[f"{settings.subject_root}.>"],
        handler=record,
        policy=ConsumerPolicy(batch_size=256),
    )


def create_app(settings: AuditSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations())

    async def on_start(rt: ServiceRuntime) -> None:
        consumer = ledger_consumer(rt, settings)
        rt.extras["consumer"] = consumer
        rt.spawn("ledger-consumer", consumer.run)

    app = create_service_app(
        title="Offramp audit",
        description="The hash-chained, append-only ledger of every event, for auditors.",
        runtime=runtime,
        on_start=on_start,
    )
    app.include_router(router)
    return app
