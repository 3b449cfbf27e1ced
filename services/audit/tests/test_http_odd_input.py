"""Odd input in the ledger's URLs, found by the fuzzer (issue 7), is refused as invalid (422)
instead of failing as a 500: numbers beyond Postgres' bigint, instants given as numbers, and
the NUL character, which Postgres cannot store in the record of the read."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from audit.bootstrap import create_app
from audit.settings import AuditSettings
from servicekit.auth import LocalIssuer

TOO_BIG = 2**63


@pytest.fixture
async def auditor(servers: Any, isolation: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(AuditSettings(**isolation.settings(servers)))
    issuer = LocalIssuer(isolation.key_path, issuer="offramp-local", audience="offramp")
    token = issuer.issue(
        subject="auditor-1", roles=["auditor"], agency="county-audit", jurisdiction="pontiac"
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://audit.test",
            headers={"Authorization": f"Bearer {token}"},
        ) as http,
    ):
        yield http


@pytest.mark.parametrize(
    "path",
    [
        f"/ledger/entries?after_seq={TOO_BIG}",
        f"/ledger/checkpoints/{TOO_BIG}",
        f"/ledger/proofs/inclusion?seq={TOO_BIG}",
        f"/ledger/proofs/inclusion?seq=1&checkpoint={TOO_BIG}",
        f"/ledger/proofs/consistency?first={TOO_BIG}",
        f"/ledger/export?first=1&last={TOO_BIG}",
    ],
)
async def test_a_number_beyond_a_bigint_is_refused_as_invalid(
    auditor: httpx.AsyncClient, path: str
) -> None:
    response = await auditor.get(path)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_the_largest_bigint_is_looked_up_and_not_found(auditor: httpx.AsyncClient) -> None:
    response = await auditor.get(f"/ledger/checkpoints/{TOO_BIG - 1}")
    assert response.status_code == 404, response.text


async def test_an_instant_given_as_a_number_is_refused_as_invalid(
    auditor: httpx.AsyncClient,
) -> None:
    case = "/ledger/cases/e3e70682-c209-1cac-a29f-6fbed82c07cd/as-of"
    refused = await auditor.get(f"{case}?at=0.5")
    assert refused.status_code == 422, refused.text
    assert "ISO 8601" in refused.text
    assert (await auditor.get(f"{case}?at=2026-11-25T12:00:00Z")).status_code == 200


async def test_a_nul_character_in_the_query_is_refused_as_invalid(
    auditor: httpx.AsyncClient,
) -> None:
    response = await auditor.get("/ledger/entries?note=%00")
    assert response.status_code == 422, response.text
    assert response.json()["type"].endswith("/unstorable-text")
