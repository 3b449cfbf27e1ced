"""Real data for the fuzzer to aim at: an admitted referral whose case has a case manager, a goal
and a service referral; a referral awaiting the prosecutor; the officer's inbox message; a
webhook subscription whose deliveries fail and are parked; ledger checkpoints. Made through the
services' own APIs and events, the way the people who use them would make it."""

from collections.abc import Awaitable
from typing import Any
from uuid import UUID

import httpx

from offramp_contracts.identifiers import case_id_for_referral
from offramp_devstack import free_port
from tests.conftest import RunningService, wait_for
from tests.fuzz.callers import Caller
from tests.referrals import fresh_key, referral_body

Seeds = dict[str, list[Any]]


async def plant(services: dict[str, RunningService], callers: dict[str, Caller]) -> Seeds:
    """Returns, for each path parameter's name, the values that name something that exists."""

    def client(service: str, caller: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=services[service].url, headers=callers[caller].headers(), timeout=30
        )

    async def ok(call: Awaitable[httpx.Response], status: int = 200) -> Any:
        response = await call
        assert response.status_code == status, f"seeding failed: {response.text}"
        return response.json() if response.content else None

    async with (
        client("intake", "officer") as officer,
        client("casework", "supervisor") as supervisor,
        client("casework", "case-manager") as case_manager,
        client("notify", "officer") as inbox,
        client("notify", "operator") as operator,
        client("audit", "auditor") as auditor,
    ):
        await ok(supervisor.put("/case-managers/cm-1"), 204)
        # Nothing listens there: each delivery fails at once and is parked after its attempts.
        subscription = await ok(
            operator.post(
                "/webhook-subscriptions",
                json={"agency": "pontiac-pd", "url": f"http://127.0.0.1:{free_port()}/hook"},
            ),
            201,
        )
        await ok(
            operator.put(
                "/offices/oakland-prosecutor/prosecutor/email",
                json={"email": "liaison@oakland-prosecutor.example"},
            )
        )
        admitted = await ok(
            officer.post("/referrals", json=referral_body("social_contact"), headers=fresh_key()),
            201,
        )
        awaiting = await ok(
            officer.post("/referrals", json=referral_body("arrest_diversion"), headers=fresh_key()),
            201,
        )
        assert awaiting["status"] == "awaiting_review", awaiting
        case_id = case_id_for_referral(UUID(admitted["referral_id"]))

        async def assigned() -> bool:
            response = await case_manager.get(f"/cases/{case_id}")
            return response.status_code == 200 and response.json()["case_manager"] == "cm-1"

        await wait_for(assigned, timeout=60, what=f"case {case_id} opened and assigned")
        goal = await ok(
            case_manager.post(f"/cases/{case_id}/goals", json={"description": "stable housing"}),
            201,
        )
        service_referral = await ok(
            case_manager.post(
                f"/cases/{case_id}/service-referrals",
                json={"service": "housing", "provider": "Pontiac Housing Help"},
            ),
            201,
        )
        message = await _first(inbox, "/inbox", "message_id", "the officer's inbox message")
        delivery = await _first(
            operator, "/deliveries?status=parked", "delivery_id", "a parked webhook delivery"
        )
        checkpoint = await _first(auditor, "/ledger/checkpoints", "number", "a checkpoint")
    return {
        "referral_id": [admitted["referral_id"], awaiting["referral_id"]],
        "case_id": [str(case_id)],
        "goal_id": [goal["id"]],
        "service_referral_id": [service_referral["id"]],
        "subject": ["cm-1"],
        "message_id": [message],
        "subscription_id": [subscription["subscription_id"]],
        "delivery_id": [delivery],
        "number": [checkpoint],
        "agency": ["oakland-prosecutor", "pontiac-pd"],
        "role": ["prosecutor", "officer"],
    }


async def _first(http: httpx.AsyncClient, path: str, key: str, what: str) -> Any:
    async def listed() -> Any:
        response = await http.get(path)
        items: list[dict[str, Any]] = response.json() if response.status_code == 200 else []
        return items[0][key] if items else None

    return await wait_for(listed, timeout=60, what=what)
