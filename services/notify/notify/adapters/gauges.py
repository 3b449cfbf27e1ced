"""Notify's own series for `/metrics`: e-mail and webhook deliveries by status."""

import asyncpg
from prometheus_client import Gauge

from servicekit.metrics import ServiceMetrics

CHANNELS = ("email", "webhook")
STATUSES = ("pending", "delivered", "parked")


def watch_deliveries(metrics: ServiceMetrics) -> None:
    deliveries: Gauge = metrics.gauge(
        "notify_deliveries",
        "E-mail and webhook deliveries by channel and status (parked: given up, waiting for "
        "an operator's retry).",
        ["channel", "status"],
    )

    async def read(conn: asyncpg.Connection) -> None:
        counts = {
            (r["channel"], r["status"]): r["n"]
            for r in await conn.fetch(
                "SELECT channel, status, count(*) AS n FROM deliveries GROUP BY channel, status"
            )
        }
        for channel in CHANNELS:
            for status in STATUSES:
                deliveries.labels(channel, status).set(counts.get((channel, status), 0))

    metrics.on_scrape(read)
