"""Intake end to end over HTTP and NATS on the real servers, at the Pontiac pilot: each path a
referral can take, checked by the events that reached the bus."""

import asyncio
from typing import Any

from nats.aio.client import Client as NATS

from tests.bus import published_about, types_about
from tests.conftest import System, wait_for
from tests.referrals import fresh_key, referral_body
from tests.stores import domain_events_stored

AGENCY = "pontiac-pd"
PROSECUTORS = "oakland-prosecutor"  # the pilot profile's prosecutor agency


async def refer(system: System, token: str, body: dict[str, Any]) -> dict[str, Any]:
    async with system.client("intake", token) as intake:
        response = await intake.post("/referrals", json=body, headers=fresh_key())
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


async def bus_shows(
    nats_client: NATS, isolation: Any, referral_id: str, expected: list[str]
) -> list[str]:
    async def arrived() -> list[str] | None:
        types = await types_about(nats_client, isolation, referral_id, context="intake")
        return types if len(types) >= len(expected) else None

    types = await wait_for(arrived, timeout=30, what=f"{expected} on the bus")
    assert types == expected
    return types


async def test_an_eligible_referral_is_admitted_and_its_decision_is_explained_on_the_bus(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    officer = system.token(sub="officer-1", role="officer", agency=AGENCY)
    made = await refer(system, officer, referral_body("social_contact"))
    assert made["status"] == "admitted"

    await bus_shows(
        nats_client,
        isolation,
        made["referral_id"],
        ["ReferralReceived", "EligibilityDecided", "ReferralAdmitted"],
    )
    events = await published_about(nats_client, isolation, made["referral_id"], "intake")
    decided = events[1].data
    assert decided["decision"] == "eligible" and decided["decided_by"] == "policy"
    assert decided["policy_version"] == "2026.1"
    assert {r["rule"] for r in decided["rules"]} >= {"drug_quantity", "prior_area_activity"}
    assert all(r["outcome"] == "passed" and r["reason"] for r in decided["rules"])
    assert events[0].data["referring_officer"] == {"subject": "officer-1", "agency": AGENCY}
    assert events[2].data["from_waitlist"] is False


async def test_an_ineligible_referral_stops_at_its_decision(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    officer = system.token(sub="officer-2", role="officer", agency=AGENCY)
    body = referral_body("social_contact", screening={"confidential_informant": True})
    made = await refer(system, officer, body)
    assert made["status"] == "ineligible"

    await bus_shows(
        nats_client, isolation, made["referral_id"], ["ReferralReceived", "EligibilityDecided"]
    )
    decided = (await published_about(nats_client, isolation, made["referral_id"], "intake"))[1].data
    (informant,) = [r for r in decided["rules"] if r["rule"] == "confidential_informant"]
    assert informant["outcome"] == "failed"
    assert "never eligible" in informant["reason"]


async def test_the_prosecutor_reviews_an_arrest_diversion_and_approval_admits_it(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    officer = system.token(sub="officer-3", role="officer", agency=AGENCY)
    prosecutor = system.token(sub="ada-1", role="prosecutor", agency=PROSECUTORS)
    made = await refer(system, officer, referral_body("arrest_diversion"))
    assert made["status"] == "awaiting_review"

    async with system.client("intake", prosecutor) as intake:
        queue = (await intake.get("/reviews")).json()
        assert [r["referral_id"] for r in queue] == [made["referral_id"]]
        pending = queue[0]
        assert pending["person"]["family_name"] == "Rivera"
        assert "screening" not in pending and "race" not in pending["person"]
        assert [r["rule"] for r in pending["rules"] if r["outcome"] != "passed"] == [
            "prosecutor_approval"
        ]
        response = await intake.post(
            f"/referrals/{made['referral_id']}/review",
            json={"verdict": "approved", "reason": "first contact, small quantity"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "admitted"
        assert (await intake.get("/reviews")).json() == []
        again = await intake.post(
            f"/referrals/{made['referral_id']}/review",
            json={"verdict": "declined", "reason": "second thoughts"},
        )
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"

    await bus_shows(
        nats_client,
        isolation,
        made["referral_id"],
        [
            "ReferralReceived",
            "EligibilityDecided",
            "ReferralReviewed",
            "EligibilityDecided",
            "ReferralAdmitted",
        ],
    )
    events = await published_about(nats_client, isolation, made["referral_id"], "intake")
    assert events[1].data["decision"] == "needs_review"
    assert events[2].data["verdict"] == "approved"
    assert events[2].data["reviewer"] == {"subject": "ada-1", "agency": PROSECUTORS}
    assert events[3].data["decision"] == "eligible"
    assert events[3].data["decided_by"] == "prosecutor"
    assert events[3].actor.role == "prosecutor"


async def test_a_declined_review_makes_the_referral_ineligible(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    officer = system.token(sub="officer-4", role="officer", agency=AGENCY)
    prosecutor = system.token(sub="ada-2", role="prosecutor", agency=PROSECUTORS)
    made = await refer(
        system, officer, referral_body("social_contact", screening={"exploits_minors": None})
    )
    assert made["status"] == "awaiting_review"

    async with system.client("intake", prosecutor) as intake:
        response = await intake.post(
            f"/referrals/{made['referral_id']}/review",
            json={"verdict": "declined", "reason": "open investigation"},
        )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ineligible"
    await bus_shows(
        nats_client,
        isolation,
        made["referral_id"],
        ["ReferralReceived", "EligibilityDecided", "ReferralReviewed", "EligibilityDecided"],
    )
    events = await published_about(nats_client, isolation, made["referral_id"], "intake")
    assert events[3].data["decision"] == "ineligible"


async def test_only_the_sites_prosecutor_office_in_its_jurisdiction_reviews(system: System) -> None:
    officer = system.token(sub="officer-5", role="officer", agency=AGENCY)
    made = await refer(system, officer, referral_body("arrest_diversion"))
    path = f"/referrals/{made['referral_id']}/review"
    verdict = {"verdict": "approved", "reason": "x"}
    outsiders = [
        system.token(sub="ada-9", role="prosecutor", agency="wayne-prosecutor"),
        system.token(
            sub="ada-8", role="prosecutor", agency=PROSECUTORS, jurisdiction="oakland-county"
        ),
    ]
    for token in outsiders:
        async with system.client("intake", token) as intake:
            assert (await intake.get("/reviews")).json() == []
            refused = await intake.post(path, json=verdict)
            assert refused.status_code == 404, refused.text
    async with system.client("intake", officer) as intake:
        assert (await intake.post(path, json=verdict)).status_code == 403
        assert (await intake.get(f"/referrals/{made['referral_id']}")).json()["status"] == (
            "awaiting_review"
        )


async def test_the_referring_officer_withdraws_a_referral_before_its_case_opens(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    officer = system.token(sub="officer-6", role="officer", agency=AGENCY)
    prosecutor = system.token(sub="ada-3", role="prosecutor", agency=PROSECUTORS)
    made = await refer(system, officer, referral_body("arrest_diversion"))

    async with system.client("intake", officer) as intake:
        response = await intake.post(
            f"/referrals/{made['referral_id']}/withdrawal",
            json={"reason": "referred the wrong person"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "withdrawn"
        twice = await intake.post(
            f"/referrals/{made['referral_id']}/withdrawal", json={"reason": "again"}
        )
        assert twice.status_code == 409
        assert "already withdrawn" in twice.json()["detail"]
    async with system.client("intake", prosecutor) as intake:
        assert (await intake.get("/reviews")).json() == []

    await bus_shows(
        nats_client,
        isolation,
        made["referral_id"],
        ["ReferralReceived", "EligibilityDecided", "ReferralWithdrawn"],
    )
    withdrawn = (await published_about(nats_client, isolation, made["referral_id"], "intake"))[
        2
    ].data
    assert withdrawn["withdrawn_by"] == {"subject": "officer-6", "agency": AGENCY}


async def test_a_supervisor_of_the_officers_agency_may_withdraw_but_nobody_else(
    system: System,
) -> None:
    officer = system.token(sub="officer-7", role="officer", agency=AGENCY)
    made = await refer(system, officer, referral_body("arrest_diversion"))
    path = f"/referrals/{made['referral_id']}/withdrawal"
    others = [
        system.token(sub="officer-8", role="officer", agency=AGENCY),
        system.token(sub="sgt-9", role="supervisor", agency="waterford-pd"),
    ]
    for token in others:
        async with system.client("intake", token) as intake:
            assert (await intake.post(path, json={"reason": "x"})).status_code == 404
    supervisor = system.token(sub="sgt-1", role="supervisor", agency=AGENCY)
    async with system.client("intake", supervisor) as intake:
        response = await intake.post(path, json={"reason": "duplicate of an earlier referral"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"


async def test_an_admitted_referral_cannot_be_withdrawn(system: System) -> None:
    officer = system.token(sub="officer-10", role="officer", agency=AGENCY)
    made = await refer(system, officer, referral_body("social_contact"))
    async with system.client("intake", officer) as intake:
        response = await intake.post(
            f"/referrals/{made['referral_id']}/withdrawal", json={"reason": "x"}
        )
    assert response.status_code == 409
    assert "ask the case manager to close it" in response.json()["detail"]


async def test_a_retried_submission_with_the_same_key_makes_one_referral(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    officer = system.token(sub="officer-11", role="officer", agency=AGENCY)
    body = referral_body("social_contact")
    key = fresh_key()
    async with system.client("intake", officer) as intake:
        first = await intake.post("/referrals", json=body, headers=key)
        retry = await intake.post("/referrals", json=body, headers=key)
        # A patrol car with bad signal: the same submission several times at once.
        burst = await asyncio.gather(
            *[intake.post("/referrals", json=body, headers=key) for _ in range(5)]
        )
        listed = (await intake.get("/referrals")).json()
    assert first.status_code == retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert {r.json()["referral_id"] for r in [first, retry, *burst]} == {
        first.json()["referral_id"]
    }
    assert len(listed) == 1
    intake_pool = system.services["intake"].runtime.pool
    assert await domain_events_stored(intake_pool) == 3
    await bus_shows(
        nats_client,
        isolation,
        first.json()["referral_id"],
        ["ReferralReceived", "EligibilityDecided", "ReferralAdmitted"],
    )


async def test_a_reused_key_with_a_different_referral_is_refused(system: System) -> None:
    officer = system.token(sub="officer-12", role="officer", agency=AGENCY)
    key = fresh_key()
    async with system.client("intake", officer) as intake:
        first = await intake.post("/referrals", json=referral_body("social_contact"), headers=key)
        other = referral_body("social_contact")
        other["person"]["family_name"] = "Someone-Else"
        refused = await intake.post("/referrals", json=other, headers=key)
    assert first.status_code == 201
    assert refused.status_code == 422
    assert "already used for a different referral" in refused.json()["detail"]
    assert (
        await system.services["intake"].runtime.pool.fetchval("SELECT count(*) FROM referrals") == 1
    )


async def test_officers_see_only_their_own_referrals_and_only_the_coarse_status(
    system: System,
) -> None:
    alice = system.token(sub="officer-a", role="officer", agency=AGENCY)
    bob = system.token(sub="officer-b", role="officer", agency=AGENCY)
    elsewhere = system.token(sub="officer-c", role="officer", agency="waterford-pd")
    supervisor = system.token(sub="sgt-2", role="supervisor", agency=AGENCY)
    mine = await refer(system, alice, referral_body("social_contact"))
    theirs = await refer(system, bob, referral_body("arrest_diversion"))

    async with system.client("intake", alice) as intake:
        listed = (await intake.get("/referrals")).json()
        assert [r["referral_id"] for r in listed] == [mine["referral_id"]]
        assert set(listed[0]) == {"referral_id", "door", "status", "received_at", "updated_at"}
        assert (await intake.get(f"/referrals/{theirs['referral_id']}")).status_code == 404
    async with system.client("intake", elsewhere) as intake:
        assert (await intake.get("/referrals")).json() == []
        assert (await intake.get(f"/referrals/{mine['referral_id']}")).status_code == 404
    async with system.client("intake", supervisor) as intake:
        listed = (await intake.get("/referrals")).json()
    assert {r["referral_id"] for r in listed} == {mine["referral_id"], theirs["referral_id"]}


async def test_the_county_takes_self_referrals_through_its_community_door(system: System) -> None:
    officer = system.token(
        sub="deputy-1", role="officer", agency="oakland-sheriff", jurisdiction="oakland-county"
    )
    body = referral_body("community", source="self")
    made = await refer(system, officer, body)
    assert made["status"] == "admitted"
    pilot_officer = system.token(sub="officer-13", role="officer", agency=AGENCY)
    async with system.client("intake", pilot_officer) as intake:
        refused = await intake.post(
            "/referrals", json=referral_body("social_contact", source="self"), headers=fresh_key()
        )
    assert refused.status_code == 422
    assert "does not accept referrals from source 'self'" in refused.json()["detail"]


async def test_a_jurisdiction_without_a_site_profile_refers_nobody(system: System) -> None:
    officer = system.token(sub="x", role="officer", agency="x-pd", jurisdiction="nowhere")
    async with system.client("intake", officer) as intake:
        response = await intake.post("/referrals", json=referral_body(), headers=fresh_key())
    assert response.status_code == 403
    assert "runs no LEAD site" in response.json()["detail"]
