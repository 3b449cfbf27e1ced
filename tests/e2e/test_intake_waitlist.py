"""A full site: eligible referrals wait, arrest diversions first, and are admitted in that order
as cases close. Runs the pilot with a capacity of one place."""

from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from nats.aio.client import Client as NATS

from intake.container import IntakeContainer
from offramp_contracts import Actor
from offramp_contracts.events.casework import CaseClosed
from offramp_contracts.identifiers import case_id_for_referral
from servicekit.events import new_event
from servicekit.inbox import InboxConsumer
from tests.bus import published_about, republish, types_about
from tests.conftest import System, wait_for
from tests.profiles import customised_profiles
from tests.referrals import fresh_key, referral_body

AGENCY = "pontiac-pd"


@pytest.fixture
def profiles_dir(tmp_path: Path) -> Path:
    return customised_profiles(
        tmp_path / "profiles", {"pontiac.toml": {"capacity = 40": "capacity = 1"}}
    )


async def refer(system: System, token: str, body: dict[str, Any]) -> dict[str, Any]:
    async with system.client("intake", token) as intake:
        response = await intake.post("/referrals", json=body, headers=fresh_key())
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def close_case(nats_client: NATS, isolation: Any, referral_id: str) -> None:
    """What casework publishes when a case manager closes a case."""
    referral = UUID(referral_id)
    case_id = case_id_for_referral(referral)
    event = new_event(
        CaseClosed(case_id=case_id, referral_id=referral, reason="graduated"),
        stream_id=f"case-{case_id}",
        stream_version=3,
        jurisdiction="pontiac",
        actor=Actor(subject="cm-1", agency="pontiac-case-management", role="case_manager"),
        correlation_id=uuid4(),
        causation_id=None,
    )
    await republish(nats_client, isolation, event)


async def status_of(system: System, token: str, referral_id: str) -> str:
    async with system.client("intake", token) as intake:
        status: str = (await intake.get(f"/referrals/{referral_id}")).json()["status"]
    return status


async def test_waitlisted_referrals_are_admitted_arrest_diversions_first_as_places_free_up(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    officer = system.token(sub="officer-1", role="officer", agency=AGENCY)
    prosecutor = system.token(sub="ada-1", role="prosecutor", agency="oakland-prosecutor")

    first = await refer(system, officer, referral_body("social_contact"))
    assert first["status"] == "admitted"
    social = await refer(system, officer, referral_body("social_contact"))
    assert social["status"] == "waitlisted"
    arrest = await refer(system, officer, referral_body("arrest_diversion"))
    async with system.client("intake", prosecutor) as intake:
        approved = await intake.post(
            f"/referrals/{arrest['referral_id']}/review",
            json={"verdict": "approved", "reason": "suitable"},
        )
    assert approved.json()["status"] == "waitlisted"

    # The place frees up: the arrest diversion, which started waiting later, goes first.
    await close_case(nats_client, isolation, first["referral_id"])
    await wait_for(
        lambda: _is(system, officer, arrest["referral_id"], "admitted"),
        timeout=30,
        what="the arrest diversion to be admitted",
    )
    assert await status_of(system, officer, social["referral_id"]) == "waitlisted"

    await close_case(nats_client, isolation, arrest["referral_id"])
    await wait_for(
        lambda: _is(system, officer, social["referral_id"], "admitted"),
        timeout=30,
        what="the social contact to be admitted",
    )

    async def admitted_on_bus(referral_id: str) -> list[Any]:
        events = await published_about(nats_client, isolation, referral_id, "intake")
        return [e for e in events if e.event_type == "ReferralAdmitted"]

    for referral_id in (social["referral_id"], arrest["referral_id"]):
        (admitted,) = await wait_for(
            partial(admitted_on_bus, referral_id), timeout=30, what="ReferralAdmitted"
        )
        assert admitted.data["from_waitlist"] is True
    assert await types_about(nats_client, isolation, social["referral_id"], "intake") == [
        "ReferralReceived",
        "EligibilityDecided",
        "ReferralWaitlisted",
        "ReferralAdmitted",
    ]
    arrest_admitted = (await admitted_on_bus(arrest["referral_id"]))[0]
    social_admitted = (await admitted_on_bus(social["referral_id"]))[0]
    assert arrest_admitted.recorded_at < social_admitted.recorded_at


async def test_a_withdrawn_referral_leaves_the_waitlist_and_is_never_admitted(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    officer = system.token(sub="officer-2", role="officer", agency=AGENCY)
    first = await refer(system, officer, referral_body("social_contact"))
    waiting = await refer(system, officer, referral_body("social_contact"))
    third = await refer(system, officer, referral_body("social_contact"))
    async with system.client("intake", officer) as intake:
        withdrawn = await intake.post(
            f"/referrals/{waiting['referral_id']}/withdrawal", json={"reason": "moved away"}
        )
    assert withdrawn.json()["status"] == "withdrawn"

    await close_case(nats_client, isolation, first["referral_id"])
    await wait_for(
        lambda: _is(system, officer, third["referral_id"], "admitted"),
        timeout=30,
        what="the next waiting referral to be admitted",
    )
    assert await status_of(system, officer, waiting["referral_id"]) == "withdrawn"
    assert await types_about(nats_client, isolation, waiting["referral_id"], "intake") == [
        "ReferralReceived",
        "EligibilityDecided",
        "ReferralWaitlisted",
        "ReferralWithdrawn",
    ]


async def test_a_redelivered_closure_frees_only_one_place(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    officer = system.token(sub="officer-3", role="officer", agency=AGENCY)
    first = await refer(system, officer, referral_body("social_contact"))
    second = await refer(system, officer, referral_body("social_contact"))
    third = await refer(system, officer, referral_body("social_contact"))

    await close_case(nats_client, isolation, first["referral_id"])
    await close_case(nats_client, isolation, first["referral_id"])  # a second closure event
    await wait_for(
        lambda: _is(system, officer, second["referral_id"], "admitted"),
        timeout=30,
        what="the first waiting referral to be admitted",
    )
    consumer = system.services["intake"].runtime.container_as(IntakeContainer).consumer
    await wait_for(lambda: _handled(consumer, 2), timeout=30, what="both closures handled")
    assert await status_of(system, officer, third["referral_id"]) == "waitlisted"


async def _is(system: System, token: str, referral_id: str, status: str) -> bool:
    return await status_of(system, token, referral_id) == status


async def _handled(consumer: InboxConsumer, count: int) -> bool:
    return bool(consumer.handled >= count)
