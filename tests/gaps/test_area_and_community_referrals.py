"""Referrals as a new site meets them, over HTTP on the real servers: the social-contact rule says
which of its three conditions failed (not verified, outside the programme area, too long ago),
and at the county, whose profile names the case managers of its case-management agency as
community referrers, such a case manager enters a community referral and nothing else."""

from datetime import date, timedelta
from typing import Any

import pytest
from nats.aio.client import Client as NATS

from tests.bus import published_about
from tests.conftest import System, wait_for
from tests.referrals import fresh_key, referral_body

pytestmark = pytest.mark.services("intake")

COUNTY = "oakland-county"
COUNTY_CASE_MANAGEMENT = "oakland-community-health"


async def post(system: System, token: str, body: dict[str, Any]) -> Any:
    async with system.client("intake", token) as intake:
        return await intake.post("/referrals", json=body, headers=fresh_key())


async def area_rule(nats_client: NATS, isolation: Any, referral_id: str) -> dict[str, Any]:
    async def decided() -> dict[str, Any] | None:
        events = await published_about(nats_client, isolation, referral_id, "intake")
        found = [e.data for e in events if e.event_type == "EligibilityDecided"]
        return found[0] if found else None

    decision = await wait_for(decided, timeout=30, what="the referral's decision on the bus")
    (rule,) = [r for r in decision["rules"] if r["rule"] == "prior_area_activity"]
    return {"decision": decision["decision"], **rule}


@pytest.mark.parametrize(
    ("screening", "status", "reason"),
    [
        (
            {"prior_area_activity_verified": False},
            "ineligible",
            "not verified: no verified low-level activity in the last 24 months",
        ),
        (
            {"prior_area_activity_place": "48226"},
            "ineligible",
            "verified, but outside the programme area: 48226 is not in City of Pontiac "
            "(ZIP codes 48340, 48341, 48342, 48343)",
        ),
        (
            {"prior_area_activity_on": (date.today() - timedelta(days=800)).isoformat()},
            "ineligible",
            "verified in the area (48342), but outside the last 24 months",
        ),
        ({}, "admitted", "verified low-level activity in the area (48342) on"),
        (
            {"prior_area_activity_place": None},
            "awaiting_review",
            "where the verified activity took place was not recorded",
        ),
    ],
    ids=["not verified", "outside the area", "too long ago", "inside", "place not said"],
)
async def test_an_officer_learns_which_part_of_the_social_contact_rule_failed(
    system: System,
    nats_client: NATS,
    isolation: Any,
    screening: dict[str, Any],
    status: str,
    reason: str,
) -> None:
    officer = system.token(sub="officer-31", role="officer", agency="pontiac-pd")
    response = await post(system, officer, referral_body("social_contact", screening=screening))
    assert response.status_code == 201, response.text
    assert response.json()["status"] == status

    rule = await area_rule(nats_client, isolation, response.json()["referral_id"])
    assert reason in rule["reason"]


def community_referral(source: str = "community_partner", door: str = "community") -> Any:
    return referral_body(door, source=source)


async def test_a_county_case_manager_enters_a_community_referral_and_follows_its_status(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    partner = system.token(
        sub="cm-40", role="case_manager", agency=COUNTY_CASE_MANAGEMENT, jurisdiction=COUNTY
    )
    made = await post(system, partner, community_referral())
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "admitted"

    async def on_the_bus() -> Any:
        events = await published_about(nats_client, isolation, made.json()["referral_id"])
        return next((e for e in events if e.event_type == "ReferralReceived"), None)

    received = await wait_for(on_the_bus, timeout=30, what="the referral on the bus")
    assert received.data["source"] == "community_partner"
    assert received.data["referring_officer"] == {
        "subject": "cm-40",
        "agency": COUNTY_CASE_MANAGEMENT,
    }
    assert received.actor.role == "case_manager"

    selfie = await post(system, partner, community_referral(source="self"))
    assert selfie.status_code == 201, selfie.text

    # The Golden Rule holds for this referrer as for any partner: the coarse status, no more.
    async with system.client("intake", partner) as intake:
        mine = await intake.get("/referrals")
    assert mine.status_code == 200, mine.text
    assert {r["referral_id"] for r in mine.json()} == {
        made.json()["referral_id"],
        selfie.json()["referral_id"],
    }
    for row in mine.json():
        assert set(row) == {"referral_id", "door", "status", "received_at", "updated_at"}
    assert "Rivera" not in mine.text and "powder" not in mine.text


@pytest.mark.parametrize(
    ("door", "source", "status", "kind"),
    [
        ("arrest_diversion", "community_partner", 403, "door-not-yours"),
        ("social_contact", "community_partner", 403, "door-not-yours"),
        ("community", "law_enforcement", 422, "source-not-yours"),
    ],
    ids=["arrest diversion", "social contact", "as law enforcement"],
)
async def test_a_community_referrer_is_refused_every_door_but_the_community_one(
    system: System, door: str, source: str, status: int, kind: str
) -> None:
    partner = system.token(
        sub="cm-41", role="case_manager", agency=COUNTY_CASE_MANAGEMENT, jurisdiction=COUNTY
    )
    refused = await post(system, partner, community_referral(source=source, door=door))
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith(kind)
    async with system.client("intake", partner) as intake:
        assert (await intake.get("/referrals")).json() == []


async def test_at_the_pilot_no_case_manager_may_refer_at_all(system: System) -> None:
    case_manager = system.token(sub="cm-1", role="case_manager", agency="pontiac-case-management")
    refused = await post(system, case_manager, referral_body("social_contact"))
    assert refused.status_code == 403, refused.text
    assert "referrals come from law enforcement" in refused.json()["detail"]


async def test_a_case_manager_of_another_agency_may_not_enter_county_community_referrals(
    system: System,
) -> None:
    outsider = system.token(
        sub="cm-42", role="case_manager", agency="some-clinic", jurisdiction=COUNTY
    )
    refused = await post(system, outsider, community_referral())
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("not-a-referrer")
