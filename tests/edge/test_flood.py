"""A flood of refused requests neither floods the ledger nor goes uncounted (issue 14, finding
5): past the per-caller, per-route rate the service answers 429 problem+json with Retry-After,
and identical refusals are recorded as a bounded number of AccessDenied entries whose counts
add up to every refusal, 429s included."""

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest

from intake.bootstrap import create_app as intake_app
from intake.settings import IntakeSettings
from tests.conftest import System, serve, wait_for

pytestmark = pytest.mark.services("audit")
RATE = 20
WINDOW_SECONDS = 3.0
FLOOD = 200


@pytest.fixture
async def intake_url(servers: Any, isolation: Any, system: System) -> AsyncIterator[str]:
    """Intake with a low rate and a short window, beside the system's audit service."""
    settings = IntakeSettings(
        **{
            **isolation.settings(servers),
            "http_rate_limit": f"{RATE}/minute",
            "access_refusal_window_seconds": WINDOW_SECONDS,
        }
    )
    running = await serve("intake", intake_app(settings))
    try:
        yield running.url
    finally:
        await running.stop()


async def ledger_refusals(admin_db: asyncpg.Connection, subject: str) -> list[dict[str, Any]]:
    rows = await admin_db.fetch("SELECT entry FROM audit.ledger ORDER BY seq")
    events = [json.loads(row["entry"])["event"] for row in rows]
    return [
        e["data"]
        for e in events
        if e["event_type"] == "AccessDenied" and e["data"]["who"]["subject"] == subject
    ]


async def test_a_flood_is_limited_and_its_refusals_counted_in_few_entries(
    system: System, intake_url: str, admin_db: asyncpg.Connection
) -> None:
    prosecutor = system.token(sub="ada-flood", role="prosecutor", agency="oakland-prosecutor")
    path = f"/referrals/{uuid4()}"  # a prosecutor may not read referrals: refused every time
    started = time.monotonic()
    async with httpx.AsyncClient(
        base_url=intake_url, headers={"Authorization": f"Bearer {prosecutor}"}, timeout=60
    ) as client:
        answers: list[httpx.Response] = []
        for _ in range(FLOOD // 20):
            answers += await asyncio.gather(*(client.get(path) for _ in range(20)))
    took = time.monotonic() - started

    statuses = [a.status_code for a in answers]
    assert statuses.count(403) == RATE, statuses
    assert statuses.count(429) == FLOOD - RATE
    for answer in answers:
        assert answer.headers["content-type"] == "application/problem+json"
        if answer.status_code == 429:
            assert int(answer.headers["retry-after"]) >= 1
            assert answer.json()["type"].endswith("/too-many-requests")

    async def all_counted() -> list[dict[str, Any]] | None:
        found = await ledger_refusals(admin_db, "ada-flood")
        return found if sum(d["count"] for d in found) >= FLOOD else None

    entries = await wait_for(all_counted, timeout=90, what="every refusal counted in the ledger")
    assert sum(d["count"] for d in entries) == FLOOD
    assert {d["status"] for d in entries} == {403, 429}
    # Per kind of refusal (403, 429): the first at once, then one entry per window of repeats.
    windows = math.ceil(took / WINDOW_SECONDS) + 1
    assert len(entries) <= 2 * 2 * windows, (len(entries), took)
    repeats = [d for d in entries if d["count"] > 1]
    assert repeats and all(d["first_refused_at"] <= d["last_refused_at"] for d in repeats)
