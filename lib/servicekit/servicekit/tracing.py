"""OpenTelemetry traces that follow one referral through every service: the HTTP request (the
server span FastAPI makes itself once OpenTelemetry is installed, continuing a caller's
`traceparent`), the event's outbox row and NATS message (W3C Trace Context in its headers),
the consumer that handles it, and whatever that handler stores next, so one referral is one
trace.

Configured by the standard variables: export starts only when `OTEL_EXPORTER_OTLP_ENDPOINT`
(or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, over OTLP/HTTP, with the SDK reading the rest
(`OTEL_SERVICE_NAME`, `OTEL_BSP_*`, `OTEL_TRACES_SAMPLER`, ...). Otherwise nothing is set up and
the API's no-op tracer costs a function call: headers still carry a caller's context along.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.trace import Span, SpanKind

from servicekit.log import get_logger

log = get_logger(__name__)

TRACER_NAME = "offramp"
_configured: set[str] = set()


def exporting() -> bool:
    return (
        bool(
            os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
            or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        )
        and os.environ.get("OTEL_SDK_DISABLED", "").lower() != "true"
    )


def configure_tracing(service: str) -> None:
    """Install the SDK with an OTLP exporter, once per process, if the environment asks."""
    if not exporting() or _configured:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or f"offramp-{service}"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured.add(service)
    log.info("exporting traces over OTLP", service_name=name)


def shutdown_tracing() -> None:
    """Flush what is batched before the process ends."""
    provider: Any = trace.get_tracer_provider()
    if _configured and hasattr(provider, "shutdown"):
        provider.shutdown()


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def trace_headers() -> dict[str, str]:
    """The current context as W3C `traceparent`/`tracestate` headers (empty without one)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def continued(
    name: str,
    headers: Mapping[str, str] | None,
    *,
    kind: SpanKind = SpanKind.CONSUMER,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[Span]:
    """A span whose parent is the context carried in `headers` (a NATS message's)."""
    parent = propagate.extract(dict(headers or {}))
    token = context.attach(parent)
    try:
        with tracer().start_as_current_span(
            name, kind=kind, attributes=dict(attributes or {})
        ) as span:
            yield span
    finally:
        context.detach(token)
