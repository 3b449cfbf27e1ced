"""The HTTP face every service shares: lifespan, health, correlation ids, body limits, auth."""

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offramp_contracts.profile import AgencyKind
from servicekit.access import AccessTrail, remember_principal
from servicekit.access_log import AccessLog
from servicekit.api_docs import BEARER, document_idempotency_key, install_docs
from servicekit.auth import (
    LAW_ENFORCEMENT_ROLES,
    AuthenticationError,
    AuthorizationError,
    Principal,
)
from servicekit.idempotency import IdempotentRequests, Keyed
from servicekit.log import log_context
from servicekit.metrics import HttpMetrics
from servicekit.metrics import router as metrics_router
from servicekit.outages import install_outage_handler
from servicekit.problems import (
    PROBLEM_JSON,
    PROBLEM_RESPONSES,
    TYPE_BASE,
    install_problem_handlers,
)
from servicekit.runtime import ServiceRuntime

OnStart = Callable[[ServiceRuntime], Awaitable[None]]


def create_service_app(
    *, title: str, description: str, runtime: ServiceRuntime, on_start: OnStart | None = None
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            if on_start is not None:
                await on_start(runtime)
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
        # Served from local assets by servicekit.api_docs; FastAPI's own pages load a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    # servicekit.problems answers a path that differs by a trailing slash with a relative
    # redirect; Starlette's own would echo the caller's Host header into Location.
    app.router.redirect_slashes = False
    install_problem_handlers(app)
    install_outage_handler(app, retry_after_seconds=runtime.settings.http_retry_after_seconds)
    document_idempotency_key(app)
    # The last added runs first: correlation ids are bound before anything else, the access
    # trail sees the answer as the client will (a replayed one too), and a body is cut off at
    # its limit before the idempotency keys read it.
    app.add_middleware(
        IdempotentRequests,
        keyed_of=lambda: Keyed(runtime.answers, runtime.verifier),
        retry_after_seconds=runtime.settings.http_retry_after_seconds,
    )
    app.add_middleware(BodyLimit, max_bytes=runtime.settings.http_max_body_bytes)
    app.add_middleware(
        AccessTrail,
        recorder_of=lambda: runtime.access,
        retry_after_seconds=runtime.settings.http_retry_after_seconds,
    )
    observe_requests(app, runtime)
    app.add_middleware(CorrelationIds)

    install_operations(app, runtime)

    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.settings.service_name}

    @app.get("/readyz", tags=["operations"], summary="Dependencies and background work are up")
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get(
        "/event-keys", tags=["operations"], summary="The keys this service signs its events with"
    )
    async def event_keys() -> list[dict[str, str]]:
        """Its current key first, then the retired ones still in the keyring: what a partner
        pins to check, without Offramp's word for it, who published an event."""
        mine = [k for k in runtime.keyring.keys() if k.producer == runtime.settings.service_name]
        current = runtime.signer.key_id
        return [k.to_json() for k in sorted(mine, key=lambda k: k.key_id != current)]

    return app


def install_operations(app: FastAPI, runtime: ServiceRuntime) -> None:
    """What operators use on every service: its dead letters and its metrics."""
    # Imported here: these routes use this module's dependencies (Runtime, require_role).
    from servicekit.operations_http import router

    app.include_router(router)
    app.include_router(metrics_router)
    install_docs(app)


def observe_requests(app: FastAPI, runtime: ServiceRuntime) -> None:
    """Each request counted and timed (servicekit.metrics) and logged in one line
    (servicekit.access_log); inside the correlation ids, so the line carries them."""
    app.add_middleware(HttpMetrics, metrics_of=lambda: runtime.metrics)
    app.add_middleware(AccessLog)


class CorrelationIds:
    """Take `X-Correlation-Id` from the caller (or make one), bind it to the logs of the
    request, and echo it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw = headers.get(b"x-correlation-id", b"").decode(errors="replace")
        try:
            correlation_id = UUID(raw)
        except ValueError:
            correlation_id = uuid4()
        scope.setdefault("state", {})["correlation_id"] = correlation_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append(
                    (b"x-correlation-id", str(correlation_id).encode())
                )
            await send(message)

        with log_context(correlation_id=correlation_id, path=scope.get("path")):
            await self.app(scope, receive, send_with_id)


class BodyLimit:
    """Refuse oversized bodies with 413 before anything parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        seen = 0
        too_large = started = False

        async def counting_receive() -> Message:
            nonlocal seen, too_large
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                too_large = True
                raise _TooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            # FastAPI turns an error while reading the body into its own 400 response: drop
            # whatever the app answers once the body was cut off, and answer 413 instead.
            if too_large and not started:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _TooLarge:
            pass
        if too_large and not started:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        response = JSONResponse(
            {
                "type": TYPE_BASE + "body-too-large",
                "title": "Request body too large",
                "status": 413,
                "detail": f"Bodies are limited to {self.max_bytes} bytes; send less.",
                "instance": scope.get("path", ""),
            },
            status_code=413,
            media_type=PROBLEM_JSON,
        )
        await response(scope, _no_receive, send)


class _TooLarge(Exception):
    pass


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def correlation_id_of(request: Request) -> UUID:
    value: Any = request.scope.get("state", {}).get("correlation_id")
    return value if isinstance(value, UUID) else uuid4()


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


async def _runtime(request: Request) -> ServiceRuntime:
    return runtime_of(request)


# Request-path dependencies are `async def`: they do no I/O, and FastAPI would otherwise run
# each on a worker thread (a hand-off and a GIL round per dependency per request).
Runtime = Annotated[ServiceRuntime, Depends(_runtime)]


async def _bearer(
    request: Request,
    # Declares the bearer scheme in the OpenAPI document, so "Authorize" sends the token;
    # the header is read below, with this service's own problems for what is wrong with it.
    declared: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
) -> Principal:
    runtime = runtime_of(request)
    route = getattr(request.scope.get("route"), "path", request.url.path)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    try:
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError("No bearer token in the Authorization header.")
        principal = runtime.verifier.verify(token.strip())
    except AuthenticationError:
        # Counted by address: a caller without a usable token names nobody else.
        runtime.rate_limiter.admit("address", _client_address(request), route)
        raise
    # Remembered first, so the access trail names who was refused if the limit answers 429.
    remember_principal(request, principal)
    runtime.rate_limiter.admit(
        "caller", principal.jurisdiction, principal.agency, principal.subject, route
    )
    return principal


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


Authenticated = Annotated[Principal, Depends(_bearer)]


def require_role(
    *roles: str, kinds: Mapping[str, AgencyKind] | None = None
) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through only holders of one of `roles`. `kinds` names, for a role
    that needs it, the kind of agency its holder must work for, as the site's profile names the
    token's agency (`{"supervisor": "care"}`: a police supervisor does not pass). A gate where
    a role needs a care agency is a care-staff gate: a token that also holds a law-enforcement
    role never passes it (the Golden Rule must not rest on one claim)."""
    needs = dict(kinds or {})
    care_gate = "care" in needs.values()

    async def check(principal: Authenticated, request: Request) -> Principal:
        held = sorted(principal.roles) or "none"
        if not principal.has_role(*roles):
            raise AuthorizationError(
                f"This needs one of the roles {sorted(roles)}; the token has {held}."
            )
        if care_gate and principal.has_role(*LAW_ENFORCEMENT_ROLES):
            raise AuthorizationError(
                "This is for care staff only; a token that also holds a law-enforcement role "
                f"({held}) never passes it."
            )
        if not needs:
            return principal
        kind = runtime_of(request).agency_kind(principal)
        if any(role in principal.roles and needs.get(role, kind) == kind for role in roles):
            return principal
        raise AuthorizationError(
            f"This needs one of the roles {sorted(roles)} at an agency of the right kind; the "
            f"site's profile names {principal.agency[:200]!r} as "
            f"{kind or 'no agency of this site'}."
        )

    return check
