"""Delivery guarantees: a webhook that answers 500 is retried with back-off until it takes the
call, then parked for an operator after the last attempt; every delivery is recorded once, as
NotificationDelivered or NotificationFailed, however often its cause is redelivered."""

from typing import Any

import asyncpg
import pytest
from nats.aio.client import Client as NATS

from notify.bootstrap import CONSUMER_NAME
from offramp_contracts import EventEnvelope
from offramp_contracts.events.casework import CaseOpened
from tests.bus import publish_event, published, republish
from tests.conftest import System, wait_for
from tests.notifications import (
    CASEWORK,
    OFFICER,
    inbox,
    new_case,
    operator,
    recorded,
    subscribe,
)
from tests.webhooks import signature_is_valid, webhook_receiver

pytestmark = pytest.mark.services("notify")


async def open_case(nats_client: NATS, isolation: Any) -> EventEnvelope:
    referral_id, case_id, stream = new_case()
    opened = CaseOpened(
        case_id=case_id, referral_id=referral_id, door="social_contact",
        referring_officer=OFFICER, policy_version="2026.1",
    )  # fmt: skip
    return await publish_event(
        nats_client, isolation, opened, stream_id=stream, stream_version=1, actor=CASEWORK
    )


async def deliveries(system: System, status: str) -> list[dict[str, Any]]:
    async with system.client("notify", operator(system)) as notify:
        response = await notify.get("/deliveries", params={"status": status})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def test_a_webhook_is_retried_after_500s_and_recorded_once_despite_redelivery(
    system: System, nats_client: NATS, isolation: Any, admin_db: asyncpg.Connection
) -> None:
    officer = system.token(sub=OFFICER.subject, role="officer", agency=OFFICER.agency)
    async with webhook_receiver(failures=2) as police:
        secret = await subscribe(system, OFFICER.agency, police.url)
        opened = await open_case(nats_client, isolation)

        calls = await police.wait_for_calls(3, "two refusals and an accepted call")

        async def delivered() -> list[dict[str, Any]] | None:
            found = await recorded(admin_db, "NotificationDelivered", "webhook")
            return found or None

        [record] = await wait_for(delivered, timeout=30, what="NotificationDelivered (webhook)")
        assert [c.answered for c in calls] == [500, 500, 204]
        assert len({c.headers["webhook-id"] for c in calls}) == 1, "one id across retries"
        assert all(signature_is_valid(secret, c) for c in calls)
        assert record["attempts"] == 3
        assert record["caused_by"] == str(opened.event_id)
        assert record["trigger"] == "CaseOpened"

        # The relay re-sends the event past JetStream's duplicate window: nothing happens twice.
        sequence = await republish(
            nats_client, isolation, opened, msg_id=f"again-{opened.event_id}"
        )

        async def consumed_again() -> bool:
            info = await nats_client.jetstream().consumer_info(isolation.stream_name, CONSUMER_NAME)
            return bool(info.delivered.stream_seq >= sequence and info.num_ack_pending == 0)

        await wait_for(consumed_again, timeout=30, what="notify to take the redelivered event")
        assert await deliveries(system, "pending") == []
        assert len(police.calls) == 3
        assert len(await inbox(system, officer)) == 1
        assert len(await recorded(admin_db, "NotificationDelivered", "webhook")) == 1
        assert len(await recorded(admin_db, "NotificationDelivered", "in_app")) == 1

    async def on_the_bus() -> list[EventEnvelope] | None:
        found = [
            e
            for e in await published(nats_client, isolation)
            if e.event_type == "NotificationDelivered"
        ]
        return found if len(found) >= 2 else None

    on_bus = await wait_for(on_the_bus, timeout=30, what="both records relayed to the bus")
    assert sorted(e.data["channel"] for e in on_bus) == ["in_app", "webhook"]


async def test_a_delivery_that_keeps_failing_is_parked_for_an_operator_who_can_retry_it(
    system: System, nats_client: NATS, isolation: Any, admin_db: asyncpg.Connection
) -> None:
    async with webhook_receiver(failures=-1) as police:
        await subscribe(system, OFFICER.agency, police.url)
        await open_case(nats_client, isolation)

        async def parked() -> list[dict[str, Any]] | None:
            return await deliveries(system, "parked") or None

        [stuck] = await wait_for(parked, timeout=30, what="the delivery to be parked")
        assert len(police.calls) == 4, "the test's delivery_max_attempts"
        assert stuck["attempts"] == 4
        assert stuck["channel"] == "webhook" and stuck["destination"] == police.url
        assert "500" in stuck["last_error"]
        [failed] = await recorded(admin_db, "NotificationFailed", "webhook")
        assert failed["attempts"] == 4 and "500" in failed["last_error"]

        officer = system.token(sub=OFFICER.subject, role="officer", agency=OFFICER.agency)
        async with system.client("notify", officer) as notify:
            assert (await notify.get("/deliveries")).status_code == 403
            refused = await notify.post(f"/deliveries/{stuck['delivery_id']}/retry")
            assert refused.status_code == 403

        police.failures_left = 0
        async with system.client("notify", operator(system)) as notify:
            retried = await notify.post(f"/deliveries/{stuck['delivery_id']}/retry")
        assert retried.status_code == 202, retried.text

        async def delivered() -> list[dict[str, Any]] | None:
            return await deliveries(system, "delivered") or None

        [done] = await wait_for(delivered, timeout=30, what="the retried delivery")
        assert done["delivery_id"] == stuck["delivery_id"]
        assert police.calls[-1].answered == 204
        assert len(await recorded(admin_db, "NotificationFailed", "webhook")) == 1
        assert len(await recorded(admin_db, "NotificationDelivered", "webhook")) == 1


async def test_operators_alone_manage_subscriptions_and_office_addresses(
    system: System,
) -> None:
    officer = system.token(sub=OFFICER.subject, role="officer", agency=OFFICER.agency)
    subscription = {"agency": OFFICER.agency, "url": "http://127.0.0.1:9/hook"}
    async with system.client("notify", officer) as notify:
        assert (await notify.post("/webhook-subscriptions", json=subscription)).status_code == 403
        assert (await notify.get("/webhook-subscriptions")).status_code == 403
        office = await notify.put(
            "/offices/oakland-prosecutor/prosecutor/email", json={"email": "x@y.example"}
        )
        assert office.status_code == 403
        assert (await notify.put("/me/email", json={"email": "not an address"})).status_code == 422
        assert (await notify.get("/me/email")).status_code == 404
        assert (await notify.put("/me/email", json={"email": "o17@pd.example"})).status_code == 200
        assert (await notify.get("/me/email")).json() == {"email": "o17@pd.example"}

    async with system.client("notify", operator(system)) as notify:
        created = await notify.post("/webhook-subscriptions", json=subscription)
        assert created.status_code == 201, created.text
        assert created.json()["secret"].startswith("whsec_")
        [listed] = (await notify.get("/webhook-subscriptions")).json()
        assert "secret" not in listed, "the secret is shown once, at creation"
        gone = await notify.delete(f"/webhook-subscriptions/{listed['subscription_id']}")
        assert gone.status_code == 204
        assert (await notify.get("/webhook-subscriptions")).json()[0]["active"] is False
        unknown_role = await notify.put("/offices/x/chief/email", json={"email": "c@x.example"})
        assert unknown_role.status_code == 422
