"""Wires notify together: the consumer of the events people are told about, the delivery loop
for e-mail and webhooks, and the HTTP inbox, contact addresses and operations."""

from pathlib import Path

from fastapi import FastAPI

from notify.adapters.email import SmtpMailer
from notify.adapters.gauges import watch_deliveries
from notify.adapters.webhooks import WebhookCaller
from notify.container import NotifyContainer
from notify.delivery_loop import DeliveryLoop
from notify.domain.destinations import DestinationPolicy
from notify.domain.retries import RetryPolicy
from notify.domain.triggers import subjects_of
from notify.entrypoints import http, http_contacts, http_operations
from notify.settings import NotifySettings
from notify.telling import TellWhoNeedsToKnow
from notify.use_cases import NotifyUseCases
from servicekit.http import create_service_app
from servicekit.migrations import Migration, migrations_in, plumbing_migrations
from servicekit.profiles import load_profiles
from servicekit.runtime import ServiceRuntime

# The durable consumer's name. Its subjects follow `triggers.WIRED` and are updated in place;
# change the name only when its delivery policy changes.
CONSUMER_NAME = "notify-triggers-v1"


def migrations() -> list[Migration]:
    return plumbing_migrations() + migrations_in(Path(__file__).parent / "migrations", "notify")


def create_app(settings: NotifySettings) -> FastAPI:
    # Loaded (and refused if bad) before anything starts: the profiles name each site's agencies.
    profiles = load_profiles(settings.profiles_dir)
    runtime = ServiceRuntime(settings, migrations())
    destinations = DestinationPolicy(allow_loopback=settings.webhook_allow_loopback)

    async def on_start(rt: ServiceRuntime) -> None:
        consumer = rt.consumer(
            CONSUMER_NAME,
            subjects_of(settings.subject_root),
            TellWhoNeedsToKnow(store=rt.store, profiles=profiles),
        )
        deliveries = DeliveryLoop(
            dsn=settings.database_url,
            schema=settings.db_schema,
            pool=rt.pool,
            store=rt.store,
            mailer=SmtpMailer(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_sender,
                timeout_seconds=settings.smtp_timeout_seconds,
                starttls=settings.smtp_starttls,
                username=settings.smtp_username,
                password=settings.smtp_password,
            ),
            webhooks=WebhookCaller(
                timeout_seconds=settings.webhook_timeout_seconds, policy=destinations
            ),
            policy=RetryPolicy(
                max_attempts=settings.delivery_max_attempts,
                base_seconds=settings.delivery_backoff_base_seconds,
                max_seconds=settings.delivery_backoff_max_seconds,
            ),
            poll_seconds=settings.delivery_poll_seconds,
        )
        rt.provide(
            NotifyContainer(
                consumer=consumer,
                deliveries=deliveries,
                destinations=destinations,
                use_cases=NotifyUseCases(pool=rt.pool, store=rt.store, destinations=destinations),
            )
        )
        watch_deliveries(rt.metrics)
        rt.spawn("event-consumer", consumer.run)
        rt.spawn("delivery-loop", deliveries.run)

    app = create_service_app(
        title="Offramp notify",
        description=(
            "Notifications within the Golden Rule: the in-app inbox, e-mail and signed "
            "webhooks to partner systems."
        ),
        runtime=runtime,
        on_start=on_start,
    )
    app.include_router(http.router)
    app.include_router(http_contacts.router)
    app.include_router(http_operations.router)
    return app
