"""Errors a client sees over HTTP are RFC 9457 problem documents that say what was wrong:
invalid bodies, missing or bad tokens, missing roles, oversized bodies, unknown routes."""

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any

import asyncpg
import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import BaseModel, Field

from servicekit.auth import LocalIssuer, Principal, TokenVerifier
from servicekit.eventstore import ConcurrencyError
from servicekit.http import BodyLimit, require_role
from servicekit.problems import PROBLEM_JSON, TYPE_BASE, Problem, install_problem_handlers
from servicekit.ratelimit import RateLimiter

LIMIT = 2048


class Note(BaseModel):
    text: str = Field(min_length=1, max_length=100_000)
    priority: int = Field(ge=1, le=5)


def build_app(issuer: LocalIssuer) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=LIMIT)
    # `require_role` reads the verifier from the runtime; the rest of the runtime is not needed.
    app.state.runtime = SimpleNamespace(
        verifier=TokenVerifier(
            issuer="offramp-local", audience="offramp", public_key=issuer.public_key
        ),
        rate_limiter=RateLimiter("1000/minute"),
    )
    CaseManager = Annotated[Principal, Depends(require_role("case_manager", "supervisor"))]

    @app.post("/notes", status_code=201)
    async def add_note(note: Note, who: CaseManager) -> dict[str, Any]:
        return {"by": who.subject, "priority": note.priority}

    @app.post("/conflict")
    async def conflict(who: CaseManager) -> None:
        raise ConcurrencyError("case-9", 4)

    @app.get("/notes")
    async def notes() -> list[str]:
        return []

    @app.post("/unstorable")
    async def unstorable() -> None:
        raise asyncpg.UntranslatableCharacterError("unsupported Unicode escape sequence")

    @app.get("/gone")
    async def gone() -> None:
        raise Problem(410, "case-closed", "Case closed", "The case was closed; open a new one.")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    return app


@pytest.fixture
def issuer(tmp_path: Path) -> LocalIssuer:
    return LocalIssuer(tmp_path / "issuer.pem", issuer="offramp-local", audience="offramp")


@pytest.fixture
async def client(issuer: LocalIssuer) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(issuer), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://offramp.test") as http:
        yield http


def _bearer(issuer: LocalIssuer, role: str) -> dict[str, str]:
    token = issuer.issue(
        subject=f"{role}-1", roles=[role], agency="oakland-cmh", jurisdiction="pontiac"
    )
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM_JSON
    problem: dict[str, Any] = response.json()
    assert problem["type"] == TYPE_BASE + kind
    assert problem["status"] == status
    assert isinstance(problem["title"], str) and problem["title"]
    assert isinstance(problem["detail"], str) and problem["detail"]
    return problem


async def test_a_valid_request_from_the_right_role_succeeds(
    client: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    response = await client.post(
        "/notes", json={"text": "met", "priority": 2}, headers=_bearer(issuer, "case_manager")
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"by": "case_manager-1", "priority": 2}


async def test_an_invalid_body_is_a_422_problem_listing_the_fields(
    client: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    response = await client.post(
        "/notes", json={"text": "", "priority": 9}, headers=_bearer(issuer, "case_manager")
    )
    problem = assert_problem(response, 422, "invalid-request")
    assert problem["instance"] == "/notes"
    assert {e["location"] for e in problem["errors"]} == {"body.text", "body.priority"}


async def test_a_body_that_is_not_json_is_a_400_problem_saying_what_to_send(
    client: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    response = await client.post(
        "/notes",
        content=b"{not json",
        headers={**_bearer(issuer, "case_manager"), "Content-Type": "application/json"},
    )
    problem = assert_problem(response, 400, "body-not-json")
    assert "Content-Type: application/json" in problem["detail"]


async def test_a_request_without_a_token_is_a_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/notes", json={"text": "met", "priority": 2})
    problem = assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in problem["detail"]


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Basic dXNlcjpwdw==", "Bearer "])
async def test_a_request_with_an_unusable_token_is_a_401_problem(
    client: httpx.AsyncClient, header: str
) -> None:
    response = await client.post(
        "/notes", json={"text": "met", "priority": 2}, headers={"Authorization": header}
    )
    assert_problem(response, 401, "unauthenticated")


async def test_a_token_from_another_key_is_a_401_problem(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    impostor = LocalIssuer(tmp_path / "impostor.pem", issuer="offramp-local", audience="offramp")
    response = await client.post(
        "/notes", json={"text": "met", "priority": 2}, headers=_bearer(impostor, "case_manager")
    )
    assert_problem(response, 401, "unauthenticated")


async def test_a_token_without_the_role_is_a_403_problem_naming_the_roles_needed(
    client: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    response = await client.post(
        "/notes", json={"text": "met", "priority": 2}, headers=_bearer(issuer, "officer")
    )
    problem = assert_problem(response, 403, "forbidden")
    assert "case_manager" in problem["detail"] and "officer" in problem["detail"]


async def test_a_declared_body_over_the_limit_is_a_413_problem(
    client: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    response = await client.post(
        "/notes",
        json={"text": "x" * (LIMIT * 2), "priority": 2},
        headers=_bearer(issuer, "case_manager"),
    )
    problem = assert_problem(response, 413, "body-too-large")
    assert str(LIMIT) in problem["detail"]


async def test_a_streamed_body_over_the_limit_is_a_413_problem(
    client: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"priority": 2, "text": "'
        for _ in range(8):
            yield b"x" * 512
        yield b'"}'

    # No Content-Length: the limit must be enforced while the body is read.
    response = await client.post(
        "/notes",
        content=chunks(),
        headers={**_bearer(issuer, "case_manager"), "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "body-too-large")


async def test_a_streamed_body_under_the_limit_is_accepted(
    client: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"priority": 3, '
        yield b'"text": "short"}'

    response = await client.post(
        "/notes",
        content=chunks(),
        headers={**_bearer(issuer, "case_manager"), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text


async def test_a_concurrency_conflict_is_a_409_problem(
    client: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    response = await client.post("/conflict", headers=_bearer(issuer, "supervisor"))
    problem = assert_problem(response, 409, "conflict")
    assert "case-9" in problem["detail"]


async def test_text_postgres_cannot_store_is_a_422_problem(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.post("/unstorable"), 422, "unstorable-text")
    assert "U+0000" in problem["detail"]


async def test_a_raised_problem_keeps_its_status_and_kind(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/gone"), 410, "case-closed")


async def test_an_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/nowhere"), 404, "not-found")


async def test_a_wrong_method_is_a_405_problem_naming_every_allowed_method(
    client: httpx.AsyncClient,
) -> None:
    response = await client.delete("/notes")
    assert_problem(response, 405, "method-not-allowed")
    # Two routes share the path: the answer names the methods of both.
    assert response.headers["allow"] == "GET, POST"


async def test_an_unexpected_error_is_a_500_problem_that_hides_the_internals(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/boom")
    problem = assert_problem(response, 500, "internal-error")
    assert "secret" not in response.text
    assert "Try again later" in problem["detail"]
