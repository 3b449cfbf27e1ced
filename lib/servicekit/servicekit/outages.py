"""Telling an outage apart from a bad request or a poison message.

An outage is a failure that says nothing about what was asked: the database is restarting or
unreachable, the bus is gone, Temporal does not answer. Retrying the same thing later is right,
and nobody is to blame. A client gets 503 with Retry-After (never a 500), and a consumer puts
the message back without counting the attempt, so a long outage can never park a good message.
Anything else that fails is the request's or the message's own problem: a 4xx or 500 for HTTP,
a counted attempt (and in the end a dead letter) for a consumer.
"""

import errno
import socket

import asyncpg
import nats.errors
import nats.js.errors
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from servicekit.log import get_logger
from servicekit.problems import problem_response

log = get_logger(__name__)


class DependencyUnavailable(Exception):
    """Raised by service code when something it depends on is down (say, Temporal answers
    UNAVAILABLE): the same request or message will succeed once it is back."""


# The database is there but refuses work for now: shutting down, starting up (crash recovery),
# out of connections, memory or disk.
_POSTGRES_NOT_NOW = (
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, e.g. the connection was lost
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.InsufficientResourcesError,
)
_NATS_GONE = (
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.NoServersError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.NoRespondersError,
    nats.js.errors.ServiceUnavailableError,
)
_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EPIPE,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
}


def is_outage(error: BaseException) -> bool:
    """True if `error`, or an error it was explicitly raised from, is an outage."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 8:
        if _is_outage_itself(current):
            return True
        current = current.__cause__
        seen += 1
    return False


def _is_outage_itself(error: BaseException) -> bool:
    if isinstance(error, (DependencyUnavailable, *_POSTGRES_NOT_NOW, *_NATS_GONE)):
        return True
    if isinstance(error, asyncpg.InterfaceError):
        # asyncpg's word for a connection that died under it; its other interface errors
        # are programming mistakes.
        return "connection is closed" in str(error) or "connection was closed" in str(error)
    if isinstance(error, asyncpg.exceptions.InternalClientError):
        # What asyncpg raises, on its way back into the pool, for a connection that a database
        # restart cut in the middle of an operation (seen when the fault suite kills
        # PostgreSQL under load): the protocol cannot leave the dead operation's state.
        return "cannot switch to state" in str(error)
    if isinstance(error, ConnectionError | TimeoutError | socket.gaierror):
        return True
    # A connect that tried several addresses raises a plain OSError without an errno.
    return isinstance(error, OSError) and (
        error.errno in _NETWORK_ERRNOS or (error.errno is None and "connect" in str(error).lower())
    )


def install_outage_handler(app: FastAPI, *, retry_after_seconds: int) -> None:
    """Answer 503 with Retry-After when a request meets an outage; anything else goes on to
    the catch-all 500 handler."""

    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        if not is_outage(exc):
            raise exc
        log.warning("request met an outage", path=request.url.path, error=repr(exc)[:300])
        return problem_response(
            request,
            503,
            "service-unavailable",
            "Temporarily unavailable",
            "The request could not be completed because a system this service depends on "
            f"(its database, the message bus or the workflow engine) is unavailable. Send it "
            f"again in {retry_after_seconds} seconds; a request that takes an Idempotency-Key "
            "is safe to repeat with the same key.",
            headers={"Retry-After": str(retry_after_seconds)},
            retry_after=retry_after_seconds,
        )

    for kind in (
        OSError,  # ConnectionError and TimeoutError among them
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        nats.errors.Error,
        nats.js.errors.Error,
        DependencyUnavailable,
    ):
        app.add_exception_handler(kind, unavailable)
