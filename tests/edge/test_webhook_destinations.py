"""Webhooks reach partners' public systems only (issue 14, finding 4): in production (loopback
not allowed) a subscription to anything inside a private network, over plain http, or with a
user name in its URL is refused; and a subscription that got into the table anyway (made under
another setting, or a name that now resolves inward) is refused again at delivery, after DNS
resolution, without calling it and without telling the operator more than notify's own words."""

from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from nats.aio.client import Client as NATS

from tests.conftest import System, wait_for
from tests.e2e.test_notification_delivery import deliveries, open_case
from tests.notifications import OFFICER, operator
from tests.webhooks import webhook_receiver

pytestmark = pytest.mark.services("notify")

REFUSED_URLS = [
    "https://127.0.0.1/hook",
    "https://127.1.2.3:8443/hook",
    "https://localhost/hook",  # a name that resolves to 127.0.0.1
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://2130706433/hook",  # 127.0.0.1 in decimal
    "https://0x7f000001/hook",
    "https://0.0.0.0/hook",
    "https://[::]/hook",
    "https://10.1.2.3/hook",
    "https://172.16.0.9/hook",
    "https://192.168.1.20/hook",
    "https://100.64.0.1/hook",
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://[fe80::1]/hook",
    "https://[fd00:ec2::254]/hook",
    "https://224.0.0.1/hook",
    "https://partner:secret@partner.example/hook",
    "https://@partner.example/hook",
    "http://partner.example/hook",
    "http://127.0.0.1:8222/varz",  # the NATS monitor
    "ftp://partner.example/hook",
]
# What no operator should learn about the network from a delivery's last error.
INTERNAL_DETAIL = ("ConnectError", "Errno", "refused by peer", "Connection", "httpx", "answered 4")


@pytest.fixture
def notify_overrides() -> dict[str, Any]:
    return {"webhook_allow_loopback": False}


async def test_unsafe_webhook_urls_are_refused_at_subscription(system: System) -> None:
    async with system.client("notify", operator(system)) as notify:
        for url in REFUSED_URLS:
            answer = await notify.post(
                "/webhook-subscriptions", json={"agency": OFFICER.agency, "url": url}
            )
            assert answer.status_code == 422, (url, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
        assert (await notify.get("/webhook-subscriptions")).json() == []


async def test_unsafe_destinations_are_refused_again_at_delivery_after_resolution(
    system: System, nats_client: NATS, isolation: Any, admin_db: asyncpg.Connection
) -> None:
    async with webhook_receiver() as receiver:
        port = receiver.url.rsplit(":", 1)[1].split("/")[0]
        stored = [
            receiver.url,  # plain http to loopback
            f"https://127.0.0.1:{port}/hook",
            f"https://localhost:{port}/hook",  # refused only once resolved
            f"https://[::1]:{port}/hook",
            f"https://2130706433:{port}/hook",
            f"https://user:pw@127.0.0.1:{port}/hook",
        ]
        for url in stored:
            await admin_db.execute(
                """INSERT INTO notify.webhook_subscriptions
                       (subscription_id, jurisdiction, agency, url, secret, description,
                        created_by)
                   VALUES ($1, 'pontiac', $2, $3, 'whsec_dGVzdHRlc3R0ZXN0dGVzdA==', '', 'x')""",
                uuid4(),
                OFFICER.agency,
                url,
            )
        await open_case(nats_client, isolation)

        async def all_parked() -> list[dict[str, Any]] | None:
            found = [d for d in await deliveries(system, "parked") if d["channel"] == "webhook"]
            return found if len(found) == len(stored) else None

        parked = await wait_for(all_parked, timeout=60, what="every unsafe delivery parked")
        assert receiver.calls == [], "an unsafe destination was called"
    for delivery in parked:
        error = delivery["last_error"]
        assert error.startswith("refused: "), delivery
        assert not [word for word in INTERNAL_DETAIL if word in error], error
