"""Deliveries owed survive a restart of notify: they are rows, not tasks in a process."""

from typing import Any

import pytest
from nats.aio.client import Client as NATS

from offramp_contracts.events.casework import CaseOpened
from tests.bus import publish_event
from tests.conftest import System, serve
from tests.notifications import CASEWORK, OFFICER, new_case, subscribe
from tests.webhooks import webhook_receiver


@pytest.fixture
def notify_overrides() -> dict[str, Any]:
    # Enough attempts that the delivery is still owed, not parked, when notify stops.
    return {"delivery_max_attempts": 100}


@pytest.mark.services("notify")
async def test_a_delivery_owed_when_notify_stops_is_made_by_the_next_instance(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    async with webhook_receiver(failures=-1) as police:
        await subscribe(system, OFFICER.agency, police.url)
        referral_id, case_id, stream = new_case()
        opened = CaseOpened(
            case_id=case_id, referral_id=referral_id, door="social_contact",
            referring_officer=OFFICER, policy_version="2026.1",
        )  # fmt: skip
        await publish_event(
            nats_client, isolation, opened, stream_id=stream, stream_version=1, actor=CASEWORK
        )
        await police.wait_for_calls(1, "a first, refused call")

        await system.services["notify"].stop()
        refused_before_restart = len(police.calls)
        police.failures_left = 0
        system.services["notify"] = await serve("notify", system.factories["notify"]())

        calls = await police.wait_for_calls(refused_before_restart + 1, "the call after restart")
        assert calls[-1].answered == 204
        assert all(c.answered == 500 for c in calls[:refused_before_restart])
