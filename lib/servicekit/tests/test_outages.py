"""Outages told apart from faults: a request that meets a database that is down is answered 503
with Retry-After, as a problem document, never 500; a real bug still answers 500."""

import errno
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import nats.errors
import pytest
from fastapi import FastAPI

from offramp_devstack import free_port
from servicekit.outages import DependencyUnavailable, install_outage_handler, is_outage
from servicekit.problems import PROBLEM_JSON, TYPE_BASE, install_problem_handlers


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 5432)"),
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        TimeoutError(),
        OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 5432, 0, 0)"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.InterfaceError("cannot call Connection.fetch(): connection is closed"),
        asyncpg.exceptions.InternalClientError(
            "cannot switch to state 15; another operation (2) is in progress"
        ),
        nats.errors.ConnectionClosedError(),
        nats.errors.NoRespondersError(),
        DependencyUnavailable("temporal answered UNAVAILABLE"),
    ],
    ids=repr,
)
def test_an_unreachable_or_restarting_dependency_is_an_outage(error: Exception) -> None:
    assert is_outage(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad data"),
        KeyError("missing"),
        asyncpg.UniqueViolationError("duplicate key value violates unique constraint"),
        asyncpg.exceptions.UndefinedTableError('relation "cases" does not exist'),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        FileNotFoundError(errno.ENOENT, "No such file or directory"),
        RuntimeError("handler fault"),
    ],
    ids=repr,
)
def test_a_fault_of_the_request_message_or_code_is_no_outage(error: Exception) -> None:
    assert not is_outage(error)


def test_an_error_raised_from_an_outage_is_one() -> None:
    try:
        try:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "refused")
        except ConnectionRefusedError as cause:
            raise RuntimeError("could not store the referral") from cause
    except RuntimeError as wrapped:
        assert is_outage(wrapped)


def build_app(database_url: str) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    install_outage_handler(app, retry_after_seconds=7)

    @app.post("/referrals")
    async def refer() -> dict[str, Any]:
        conn = await asyncpg.connect(database_url, timeout=5)
        try:
            return {"stored": await conn.fetchval("SELECT 1")}
        finally:
            await conn.close()

    @app.post("/bug")
    async def bug() -> None:
        raise asyncpg.UniqueViolationError("duplicate key value violates unique constraint")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # Nothing listens on this port: the database is down.
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    transport = httpx.ASGITransport(app=build_app(down), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://offramp.test") as http:
        yield http


async def test_a_request_that_meets_a_database_that_is_down_gets_503_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/referrals")

    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "7"
    assert response.headers["content-type"].split(";")[0] == PROBLEM_JSON
    problem = response.json()
    assert problem["type"] == TYPE_BASE + "service-unavailable"
    assert problem["status"] == 503
    assert problem["retry_after"] == 7
    assert "again in 7 seconds" in problem["detail"]
    assert problem["instance"] == "/referrals"


async def test_a_bug_that_raises_a_database_error_is_still_a_500(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/bug")

    assert response.status_code == 500
    assert "retry-after" not in response.headers
    assert response.json()["type"] == TYPE_BASE + "internal-error"
