"""Prometheus metrics every service serves at `/metrics` (prometheus-client).

Each service process has its own registry (the tests run four services in one process). Two
kinds of series:
- counted as they happen: HTTP requests by route, method and status, and their latency;
- read when Prometheus scrapes: the outbox's depth and the age of its oldest row, dead letters
  waiting, the event store's appends (its position), each durable consumer's pending,
  unacknowledged and redelivered messages as JetStream reports them, and whatever the service
  adds with `on_scrape` (notify's deliveries, audit's ledger, casework's open cases).
Reading at scrape time keeps the numbers true across replicas and restarts: they are the
database's and the server's, not one process's memory of them.
"""

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import asyncpg
from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.log import get_logger

if TYPE_CHECKING:
    from servicekit.runtime import ServiceRuntime

log = get_logger(__name__)

NAMESPACE = "offramp"
# Seconds; from a cached read to a ledger export.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

Probe = Callable[[asyncpg.Connection], Awaitable[None]]


class ServiceMetrics:
    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        self._probes: list[Probe] = []
        self._durables: set[str] = set()
        self.http_requests = Counter(
            "http_requests",
            "HTTP requests answered, by route template, method and status code.",
            ["route", "method", "status"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route template.",
            ["route", "method"],
            namespace=NAMESPACE,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.outbox_rows = self.gauge("outbox_rows", "Events stored but not yet on the bus.")
        self.outbox_oldest = self.gauge(
            "outbox_oldest_row_age_seconds",
            "How long the oldest event in the outbox has waited for the relay (0 if none).",
        )
        self.store_position = self.gauge(
            "event_store_position",
            "The event store's last position: rate() of it is appends per second (a rolled "
            "back append leaves a gap, so it may run a little ahead of the count of events).",
        )
        self.dead_letters = self.gauge(
            "dead_letters", "Messages parked for an operator, by consumer.", ["consumer"]
        )
        self.consumer_pending = self.gauge(
            "consumer_pending_messages",
            "Messages in the stream the durable consumer has not been handed yet (its lag).",
            ["consumer"],
        )
        self.consumer_ack_pending = self.gauge(
            "consumer_ack_pending_messages",
            "Messages handed to the consumer and not yet acknowledged.",
            ["consumer"],
        )
        self.consumer_redelivered = self.gauge(
            "consumer_redelivered_messages",
            "Messages JetStream is delivering again (not acknowledged in time, or put back).",
            ["consumer"],
        )
        self.scrape_errors = Counter(
            "metrics_scrape_errors",
            "Scrapes that could not read a source (the database or the bus was unavailable).",
            ["source"],
            namespace=NAMESPACE,
            registry=self.registry,
        )
        for source in ("database", "jetstream"):
            self.scrape_errors.labels(source)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(name, documentation, list(labels), namespace=NAMESPACE, registry=self.registry)

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(
            name, documentation, list(labels), namespace=NAMESPACE, registry=self.registry
        )

    def on_scrape(self, probe: Probe) -> None:
        """A service's own series, read from its database when Prometheus scrapes."""
        self._probes.append(probe)

    def watch_durable(self, name: str) -> None:
        self._durables.add(name)

    async def refresh(self, runtime: "ServiceRuntime") -> None:
        try:
            async with runtime.pool.acquire() as conn:
                await self._read_plumbing(conn)
                for probe in self._probes:
                    await probe(conn)
        except Exception as error:
            self.scrape_errors.labels("database").inc()
            log.warning("metrics could not read the database", error=repr(error)[:300])
        for name in sorted(self._durables | set(runtime.consumers)):
            try:
                info = await runtime.js.consumer_info(runtime.settings.stream_name, name)
            except Exception as error:
                self.scrape_errors.labels("jetstream").inc()
                log.debug("no consumer info", consumer=name, error=repr(error)[:200])
                continue
            self.consumer_pending.labels(name).set(info.num_pending or 0)
            self.consumer_ack_pending.labels(name).set(info.num_ack_pending or 0)
            self.consumer_redelivered.labels(name).set(info.num_redelivered or 0)

    async def _read_plumbing(self, conn: asyncpg.Connection) -> None:
        rows, oldest = await conn.fetchrow(
            """SELECT count(*), coalesce(extract(epoch FROM now() - min(e.recorded_at)), 0)
               FROM outbox o LEFT JOIN events e USING (event_id)"""
        )
        self.outbox_rows.set(rows)
        self.outbox_oldest.set(float(oldest))
        self.store_position.set(
            await conn.fetchval("SELECT coalesce(max(position), 0) FROM events")
        )
        waiting = await conn.fetch(
            """SELECT consumer, count(*) AS n FROM dead_letters
               WHERE status IN ('parked', 'replay_requested') GROUP BY consumer"""
        )
        self.dead_letters.clear()
        for consumer in self._durables | set(await _consumers_with_letters(conn)):
            self.dead_letters.labels(consumer).set(0)
        for row in waiting:
            self.dead_letters.labels(row["consumer"]).set(row["n"])

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


async def _consumers_with_letters(conn: asyncpg.Connection) -> list[str]:
    return [r["consumer"] for r in await conn.fetch("SELECT DISTINCT consumer FROM dead_letters")]


router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics of this service",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}
    },
)
async def metrics(request: Request) -> Response:
    runtime: ServiceRuntime = request.app.state.runtime
    await runtime.metrics.refresh(runtime)
    return Response(runtime.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


class HttpMetrics:
    """Counts each request by its route template (never its raw path: ids would make a series
    per person), with the time until the last byte of its answer."""

    def __init__(self, app: ASGIApp, metrics_of: Callable[[], ServiceMetrics]) -> None:
        self.app = app
        self.metrics_of = metrics_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            route = route_of(scope)
            metrics = self.metrics_of()
            method = scope.get("method", "")
            metrics.http_requests.labels(route, method, str(status)).inc()
            metrics.http_duration.labels(route, method).observe(time.perf_counter() - began)


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
