"""Numbers in the ledger's URLs are Postgres bigints: one beyond the range is a 422 problem, not a
500 from the database driver (found by the fuzzer, issue 7)."""

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
