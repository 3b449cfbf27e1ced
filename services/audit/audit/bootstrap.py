"""Wires audit together: the ledger's single writer on the bus, its checkpoints, and its HTTP
API for auditors."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from audit.adapters.checkpoint_store import Checkpointer
from audit.adapters.gauges import LedgerGauges
from audit.adapters.ledger_reads import PostgresLedgerReads
from audit.adapters.ledger_store import ledger_pool
from audit.adapters.ledger_writer import CONSUMER_NAME as LEDGER_CONSUMER
from audit.adapters.ledger_writer import LedgerWriter, WriterConfig
from audit.adapters.signing_key import load_signing_key
from audit.container import AuditContainer
from audit.domain.case_state import fold_case
from audit.domain.checkpoint import CheckpointPolicy
from audit.entrypoints import http_witnesses
from audit.entrypoints.http import router
from audit.settings import AuditSettings
from audit.use_cases import LedgerQueries
from servicekit.http import create_service_app
from servicekit.migrations import Migration, migrations_in, plumbing_migrations
from servicekit.runtime import ServiceRuntime


def migrations() -> list[Migration]:
    return plumbing_migrations() + migrations_in(Path(__file__).parent / "migrations", "audit")


def ledger_writer(
    rt: ServiceRuntime, settings: AuditSettings, key: Ed25519PrivateKey
) -> LedgerWriter:
    return LedgerWriter(
        config=WriterConfig(
            dsn=settings.database_url,
            schema=settings.db_schema,
            stream=settings.stream_name,
            subjects=[f"{settings.subject_root}.>"],
            batch_size=settings.ledger_batch_size,
            ack_wait_seconds=settings.ledger_ack_wait_seconds,
            lease_retry_seconds=settings.ledger_lease_retry_seconds,
        ),
        js=rt.js,
        keyring=rt.keyring,
        checkpointer=Checkpointer(
            key=key,
            policy=CheckpointPolicy(
                every_entries=settings.checkpoint_every_entries,
                every_seconds=settings.checkpoint_every_seconds,
            ),
            origin=settings.ledger_origin,
            jurisdiction=settings.ledger_jurisdiction,
            store=rt.store,
        ),
    )


def create_app(settings: AuditSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations())

    async def on_start(rt: ServiceRuntime) -> None:
        key = load_signing_key(
            settings.signing_key_path(), create=settings.ledger_signing_key_create
        )
        # Created after the migrations, which create the role its sessions act as.
        pool = await ledger_pool(settings.database_url, settings.db_schema)
        writer = ledger_writer(rt, settings, key)
        rt.metrics.watch_durable(LEDGER_CONSUMER)
        gauges = LedgerGauges(rt.metrics, settings)
        queries = LedgerQueries(
            settings=settings,
            pool=pool,
            reads=PostgresLedgerReads(pool),
            producer_keys=rt.keyring,
            signing_key=key,
            case_fold=fold_case,
            gauges=gauges,
        )
        rt.provide(AuditContainer(queries=queries, writer=writer, pool=pool))
        rt.spawn("ledger-writer", writer.run)

    app = create_service_app(
        title="Offramp audit",
        description="The hash-chained, append-only ledger of every event, for auditors.",
        runtime=runtime,
        on_start=on_start,
    )
    service_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_lifespan(app):
            try:
                yield
            finally:
                if isinstance(runtime.container, AuditContainer):
                    await runtime.container.pool.close()

    app.router.lifespan_context = lifespan
    app.include_router(router)
    app.include_router(http_witnesses.router)
    return app
