"""One log line per request: method, route template, status, duration, who called (subject,
roles, agency), the correlation id (bound by `CorrelationIds`) and the W3C trace id.

Never the token, never a body: the only part of an answer read here is a refusal's problem
`type`, so the line for a 403 or a 422 says which refusal it was. Refusals (4xx) are warnings,
failures (5xx) errors; health probes and scrapes that succeed are debug, so a probe every few
seconds does not bury the requests people made.
"""

import json
import re
import time

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.auth import Principal
from servicekit.log import get_logger
from servicekit.metrics import route_of
from servicekit.problems import PROBLEM_JSON, TYPE_BASE

log = get_logger("servicekit.access")

QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
# A problem document is small; anything longer is not read for its type.
MAX_PROBLEM_BYTES = 16_384


def current_trace_id() -> str | None:
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


def trace_id_of(scope: Scope) -> str | None:
    """The trace id of the caller's `traceparent` header (W3C Trace Context), if it has one."""
    for name, value in scope.get("headers") or []:
        if name == b"traceparent":
            found = TRACEPARENT.match(value.decode("latin-1").strip().lower())
            if found and found.group(1) != "0" * 32:
                return found.group(1)
    return None


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500
        problem = bytearray()
        reading_problem = False

        async def observed(message: Message) -> None:
            nonlocal status, reading_problem
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = dict(message.get("headers") or [])
                reading_problem = status >= 400 and headers.get(b"content-type", b"").startswith(
                    PROBLEM_JSON.encode()
                )
            elif message["type"] == "http.response.body" and reading_problem:
                if len(problem) < MAX_PROBLEM_BYTES:
                    problem.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            self._line(scope, status, time.perf_counter() - began, bytes(problem))

    def _line(self, scope: Scope, status: int, seconds: float, problem: bytes) -> None:
        route = route_of(scope)
        principal = (scope.get("state") or {}).get("principal")
        fields: dict[str, object] = {
            "method": scope.get("method"),
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
            "trace_id": current_trace_id() or trace_id_of(scope),
        }
        if isinstance(principal, Principal):
            fields |= {
                "subject": principal.subject,
                "roles": sorted(principal.roles),
                "agency": principal.agency,
            }
        if status >= 400:
            fields["problem"] = _problem_type(problem)
        if status >= 500 and route in QUIET_ROUTES:
            # A probe answered 503 while a dependency is down: the outage has its own lines.
            log.warning("not ready", **fields)
        elif status >= 500:
            log.error("request failed", **fields)
        elif status >= 400:
            log.warning("request refused", **fields)
        elif route in QUIET_ROUTES:
            log.debug("request", **fields)
        else:
            log.info("request", **fields)


def _problem_type(body: bytes) -> str | None:
    try:
        kind = json.loads(body).get("type")
    except (ValueError, AttributeError):
        return None
    if not isinstance(kind, str):
        return None
    return kind.removeprefix(TYPE_BASE)
