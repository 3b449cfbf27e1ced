"""Bad input of any kind gets a clear problem+json 4xx from intake and stores nothing: no event
in its store, nothing on the bus, no referral in any read model."""

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from nats.aio.client import Client as NATS

from tests.bus import published
from tests.conftest import System
from tests.referrals import fresh_key, referral_body
from tests.stores import ACCESS_EVENTS, domain_events_stored

# Only intake answers these requests; the other services would only slow the table down.
pytestmark = pytest.mark.services("intake")

Change = Callable[[dict[str, Any]], dict[str, Any] | bytes]


def without(*path: str) -> Change:
    def change(body: dict[str, Any]) -> dict[str, Any]:
        node = body
        for step in path[:-1]:
            node = node[step]
        del node[path[-1]]
        return body

    return change


def setting(value: Any, *path: str) -> Change:
    def change(body: dict[str, Any]) -> dict[str, Any]:
        node = body
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
        return body

    return change


TOMORROW = datetime.now(UTC) + timedelta(days=1)
CASES: list[tuple[str, Change, int, str]] = [
    ("missing door", without("door"), 422, "door"),
    ("missing person", without("person"), 422, "person"),
    ("missing family name", without("person", "family_name"), 422, "family_name"),
    ("missing offence time", without("offence", "occurred_at"), 422, "occurred_at"),
    ("unknown door", setting("walk_in", "door"), 422, "door"),
    ("door the pilot has not opened", setting("community", "door"), 422, "does not take community"),
    ("self-referral at the pilot", setting("self", "source"), 422, "source 'self'"),
    ("unknown source", setting("neighbour", "source"), 422, "source"),
    ("unknown offence category", setting("murder", "offence", "category"), 422, "category"),
    ("wrong type of name", setting(42, "person", "given_name"), 422, "given_name"),
    ("empty name", setting("", "person", "given_name"), 422, "given_name"),
    (
        "a date that is not a date",
        setting("yesterday", "person", "date_of_birth"),
        422,
        "date_of_birth",
    ),
    (
        "birth in the future",
        setting((date.today() + timedelta(days=2)).isoformat(), "person", "date_of_birth"),
        422,
        "future",
    ),
    ("birth before 1900", setting("1850-01-01", "person", "date_of_birth"), 422, "1900"),
    (
        "offence in the future",
        setting(TOMORROW.isoformat(), "offence", "occurred_at"),
        422,
        "future",
    ),
    (
        "offence time without a zone",
        setting("2026-01-01T10:00:00", "offence", "occurred_at"),
        422,
        "timezone",
    ),
    (
        "negative drug quantity",
        setting("-1", "offence", "drug_quantity_grams"),
        422,
        "drug_quantity_grams",
    ),
    (
        "screening answer not yes/no",
        setting("maybe", "screening", "exploits_minors"),
        422,
        "exploits_minors",
    ),
    (
        "prior activity in the future",
        setting(TOMORROW.date().isoformat(), "screening", "prior_area_activity_on"),
        422,
        "future",
    ),
    ("unknown screening question", setting(True, "screening", "likes_dogs"), 422, "likes_dogs"),
    ("unknown field", setting("x", "notes"), 422, "notes"),
    ("unknown race", setting(["martian"], "person", "race"), 422, "race"),
    ("not JSON", lambda body: b"{door: arrest", 400, "JSON"),
    ("a list, not an object", lambda body: b"[]", 422, "body"),
    (
        "10 MB body",
        lambda body: b'{"door": "' + b"x" * (10 * 1024 * 1024) + b'"}',
        413,
        "too large",
    ),
]


@pytest.mark.parametrize(("name", "change", "status", "says"), CASES, ids=[c[0] for c in CASES])
async def test_bad_input_gets_a_problem_and_stores_nothing(
    system: System,
    nats_client: NATS,
    isolation: Any,
    name: str,
    change: Change,
    status: int,
    says: str,
) -> None:
    officer = system.token(sub="officer-1", role="officer", agency="pontiac-pd")
    body = change(copy.deepcopy(referral_body("social_contact")))
    async with system.client("intake", officer) as intake:
        if isinstance(body, bytes):
            response = await intake.post(
                "/referrals",
                content=body,
                headers={"Content-Type": "application/json", **fresh_key()},
            )
        else:
            response = await intake.post("/referrals", json=body, headers=fresh_key())

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= set(problem)
    assert says.lower() in response.text.lower()
    await assert_nothing_stored(system, nats_client, isolation)


async def test_a_referral_without_an_idempotency_key_is_refused(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    officer = system.token(sub="officer-1", role="officer", agency="pontiac-pd")
    async with system.client("intake", officer) as intake:
        response = await intake.post("/referrals", json=referral_body())
    assert response.status_code == 422
    assert "Idempotency-Key" in response.text
    await assert_nothing_stored(system, nats_client, isolation)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/referrals/not-a-uuid/review", {"verdict": "approved", "reason": "x"}),
        (
            "post",
            "/referrals/0195f1a0-0000-7000-8000-000000000002/review",
            {"verdict": "maybe", "reason": "x"},
        ),
        (
            "post",
            "/referrals/0195f1a0-0000-7000-8000-000000000002/review",
            {"verdict": "approved", "reason": ""},
        ),
        (
            "post",
            "/referrals/0195f1a0-0000-7000-8000-000000000002/review",
            {"verdict": "approved", "reason": "x"},
        ),
    ],
    ids=["bad id", "unknown verdict", "no reason", "no such referral"],
)
async def test_a_bad_review_gets_a_problem_and_stores_nothing(
    system: System, nats_client: NATS, isolation: Any, method: str, path: str, body: Any
) -> None:
    prosecutor = system.token(sub="ada-1", role="prosecutor", agency="oakland-prosecutor")
    async with system.client("intake", prosecutor) as intake:
        response = await intake.request(method, path, json=body)
    assert response.status_code in {404, 422}, response.text
    assert response.headers["content-type"] == "application/problem+json"
    await assert_nothing_stored(system, nats_client, isolation)


async def assert_nothing_stored(system: System, nats_client: NATS, isolation: Any) -> None:
    pool = system.services["intake"].runtime.pool
    assert await domain_events_stored(pool) == 0
    assert await pool.fetchval("SELECT count(*) FROM referrals") == 0
    assert await pool.fetchval("SELECT count(*) FROM submissions") == 0
    assert [
        e for e in await published(nats_client, isolation) if e.event_type not in ACCESS_EVENTS
    ] == []
