"""Casework's own series for `/metrics`: open cases (each with its running CaseTimeline
workflow) by the coarse status the case stands at."""

from typing import get_args

import asyncpg

from offramp_contracts.events.casework import CoarseStatusName
from servicekit.metrics import ServiceMetrics

OPEN_STATUSES = tuple(s for s in get_args(CoarseStatusName) if s != "closed")


def watch_cases(metrics: ServiceMetrics) -> None:
    open_cases = metrics.gauge(
        "casework_open_cases",
        "Cases not closed, each with its running CaseTimeline workflow, by coarse status.",
        ["status"],
    )

    async def read(conn: asyncpg.Connection) -> None:
        counts = {
            row["status"]: row["n"]
            for row in await conn.fetch(
                "SELECT status, count(*) AS n FROM cases WHERE status <> 'closed' GROUP BY status"
            )
        }
        for status in OPEN_STATUSES:
            open_cases.labels(status).set(counts.get(status, 0))

    metrics.on_scrape(read)
