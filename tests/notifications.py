"""Helpers for notification tests: staff, addresses, subscriptions and what notify recorded."""

import json
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from offramp_contracts import Actor
from offramp_contracts.events.base import StaffRef
from offramp_contracts.identifiers import case_id_for_referral
from tests.conftest import System

CASEWORK = Actor(subject="service:casework", agency="offramp", role="system")
OFFICER = StaffRef(subject="officer-17", agency="pontiac-pd")
CASE_MANAGER = StaffRef(subject="cm-2", agency="pontiac-case-management")
PROSECUTOR_AGENCY = "oakland-prosecutor"


def new_case() -> tuple[UUID, UUID, str]:
    referral_id = uuid4()
    case_id = case_id_for_referral(referral_id)
    return referral_id, case_id, f"case-{case_id}"


def operator(system: System) -> str:
    return system.token(sub="it-1", role="operator", agency="county-it")


async def subscribe(system: System, agency: str, url: str) -> str:
    """An operator subscribes a partner's endpoint to an agency's notifications; the secret."""
    async with system.client("notify", operator(system)) as notify:
        response = await notify.post(
            "/webhook-subscriptions", json={"agency": agency, "url": url, "description": "test"}
        )
    assert response.status_code == 201, response.text
    secret: str = response.json()["secret"]
    return secret


async def register_email(system: System, token: str, email: str) -> None:
    async with system.client("notify", token) as notify:
        response = await notify.put("/me/email", json={"email": email})
    assert response.status_code == 200, response.text


async def set_office_email(system: System, agency: str, role: str, email: str) -> None:
    async with system.client("notify", operator(system)) as notify:
        response = await notify.put(f"/offices/{agency}/{role}/email", json={"email": email})
    assert response.status_code == 200, response.text


async def inbox(system: System, token: str, **params: str) -> list[dict[str, Any]]:
    async with system.client("notify", token) as notify:
        response = await notify.get("/inbox", params=params)
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()
    return messages


async def recorded(db: asyncpg.Connection, event_type: str, channel: str) -> list[dict[str, Any]]:
    """notify's own NotificationDelivered / NotificationFailed events for one channel."""
    rows = await db.fetch(
        """SELECT envelope FROM notify.events
           WHERE event_type = $1 AND envelope->'data'->>'channel' = $2""",
        event_type,
        channel,
    )
    return [json.loads(row["envelope"])["data"] for row in rows]
