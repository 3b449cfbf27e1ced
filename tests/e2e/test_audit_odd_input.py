"""Odd input in the ledger's URLs, found by the fuzzer (issue 7), is refused as invalid (422)
instead of failing as a 500: numbers beyond Postgres' bigint, instants given as numbers, and
a NUL character in a query, which must not break the record of the read."""

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import System

TOO_BIG = 2**63

pytestmark = pytest.mark.services("audit")


@pytest.fixture
async def auditor(system: System) -> AsyncIterator[httpx.AsyncClient]:
    token = system.token(sub="auditor-1", role="auditor", agency="county-audit")
    async with system.client("audit", token) as http:
        yield http


async def test_a_number_beyond_a_bigint_is_refused_as_invalid(auditor: httpx.AsyncClient) -> None:
    for path in (
        f"/ledger/entries?after_seq={TOO_BIG}",
        f"/ledger/checkpoints/{TOO_BIG}",
        f"/ledger/proofs/inclusion?seq={TOO_BIG}",
        f"/ledger/proofs/inclusion?seq=1&checkpoint={TOO_BIG}",
        f"/ledger/proofs/consistency?first={TOO_BIG}",
        f"/ledger/export?first=1&last={TOO_BIG}",
    ):
        response = await auditor.get(path)
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    # The largest bigint is a number like any other: looked up, and not there.
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


async def test_a_nul_character_in_the_query_does_not_break_the_record_of_the_read(
    system: System, auditor: httpx.AsyncClient
) -> None:
    """The read is recorded with its query as sent (percent-encoded), which any database can
    store, and then served; text that Postgres cannot store is refused as 422 where it is
    stored (servicekit's own test)."""
    response = await auditor.get("/ledger/entries?note=%00")
    assert response.status_code == 200, response.text
    recorded = await system.services["audit"].runtime.pool.fetchval(
        "SELECT envelope->'data'->>'query' FROM events WHERE event_type = 'RecordAccessed'"
    )
    assert recorded == "note=%00"
