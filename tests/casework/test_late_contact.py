"""A case manager logs a contact a day late (here: seconds late, with the pilot's inactivity
period cut to seconds), after the timeline has already marked the participant inactive: the
record shows them active again with the reason, the referring officer's coarse status follows,
and the inactivity period counts again from that contact. A contact older than the period
before the inactivity began leaves them inactive."""

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from temporalio.client import Client

from offramp_contracts.events.casework import ClientBecameInactive
from tests.casework.harness import OFFICER, Casework
from tests.casework.test_timeline import (
    INACTIVITY,
    close,
    profiles_dir,
    replay_and_keep,
    temporal,
    timeline,
    view,
)

__all__ = ["profiles_dir", "temporal"]  # the fixtures this module shares with test_timeline


async def log_contact(casework: Casework, case_id: UUID, at: datetime) -> list[str]:
    async with casework.staff() as http:
        response = await http.post(
            f"/cases/{case_id}/contacts", json={"contacted_at": at.isoformat(), "method": "phone"}
        )
    assert response.status_code == 201, response.text
    stored: list[str] = response.json()["stored"]
    return stored


async def officer_sees(casework: Casework, case_id: UUID) -> Any:
    token = casework.token(OFFICER.subject, "officer", OFFICER.agency)
    async with casework.client(token) as http:
        response = await http.get(f"/cases/{case_id}/status")
    assert response.status_code == 200, response.text
    return response.json()["status"]


async def test_a_contact_logged_late_brings_the_participant_back_and_the_officer_sees_it(
    casework: Casework, temporal: Client
) -> None:
    await casework.register("cm-1")
    case_id = await casework.admit("social_contact")
    await casework.opened(case_id)
    first = (await casework.events(case_id))[0].occurred_at
    assert await log_contact(casework, case_id, first) == ["ContactLogged", "ClientEngaged"]

    (inactive,) = await casework.wait_for_event(case_id, "ClientBecameInactive")
    assert isinstance(inactive, ClientBecameInactive)
    assert inactive.inactive_since == first + INACTIVITY
    assert await officer_sees(casework, case_id) == "not_engaged"

    # Long before: the period still ran out without contact, so nothing changes.
    assert await log_contact(casework, case_id, first - timedelta(seconds=1)) == ["ContactLogged"]
    assert (await view(casework, case_id))["inactive"] is True

    # Inside the period, logged after the inactivity was recorded: active again.
    late = first + INACTIVITY / 2
    assert await log_contact(casework, case_id, late) == ["ContactLogged", "ClientBecameActive"]
    (active,) = await casework.payloads(case_id, "ClientBecameActive")
    assert active.reason == "contact_logged_late" and active.contacted_at == late
    case = await view(casework, case_id)
    assert case["inactive"] is False
    assert case["active_again"].startswith(f"active again: a contact on {late:%Y-%m-%d}")
    assert "logged after the inactivity was recorded" in case["active_again"]
    assert case["coarse_status"] == "engaged"
    assert await officer_sees(casework, case_id) == "engaged"

    # The timeline counts the period again from the late contact, not from the first one.
    _, again = await casework.wait_for_event(case_id, "ClientBecameInactive", count=2)
    assert isinstance(again, ClientBecameInactive)
    assert again.inactive_since == late + INACTIVITY
    assert again.last_contact_at == late
    handle = timeline(temporal, case_id)
    await close(casework, case_id, handle)
    await replay_and_keep(handle, "late-contact")
