"""Where notifications go reaches the audit ledger (issue 19): a new webhook subscription, its
end and every e-mail address set or removed are notify's events, relayed to the bus and
appended by audit, with who did it. What would let someone use that place (the signing
secret, the URL's path and query, the mailbox) is never in the ledger."""

import json
from typing import Any

from tests.conftest import System, wait_for
from tests.notifications import operator
from tests.referrals import fresh_key

# The system's partner systems are on loopback (the test settings allow it); the path and the
# query stand for what a partner's own system may hide a token in.
PARTNER_URL = "http://127.0.0.1:9/offramp/T0KEN-IN-PATH?auth=T0KEN-IN-QUERY"
CHANNEL_EVENTS = {
    "WebhookSubscribed",
    "WebhookUnsubscribed",
    "EmailAddressSet",
    "EmailAddressRemoved",
}


async def ledger_events(system: System, auditor: str) -> list[dict[str, Any]]:
    async with system.client("audit", auditor) as audit:
        response = await audit.get("/ledger/entries", params={"limit": 1000})
    assert response.status_code == 200, response.text
    return [e["entry"]["event"] for e in response.json()]


async def test_a_new_webhook_subscription_and_every_address_change_reach_the_audit_ledger(
    system: System,
) -> None:
    it = operator(system)
    officer = system.token(sub="officer-17", role="officer", agency="pontiac-pd")
    auditor = system.token(sub="auditor-1", role="auditor", agency="county-audit")
    key = fresh_key()
    async with system.client("notify", it) as notify:
        body = {"agency": "pontiac-pd", "url": PARTNER_URL, "description": "records system"}
        made = await notify.post("/webhook-subscriptions", json=body, headers=key)
        assert made.status_code == 201, made.text
        # The operator's answer was lost; the retry under the same key is the same subscription.
        again = await notify.post("/webhook-subscriptions", json=body, headers=key)
        assert again.status_code == 201 and again.json() == made.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        subscription = made.json()
        office = await notify.put(
            "/offices/oakland-prosecutor/prosecutor/email",
            json={"email": "liaison@oakland-prosecutor.example"},
        )
        assert office.status_code == 200, office.text
        ended = await notify.delete(f"/webhook-subscriptions/{subscription['subscription_id']}")
        assert ended.status_code == 204, ended.text
    async with system.client("notify", officer) as notify:
        mine = await notify.put("/me/email", json={"email": "officer-17@pontiac-pd.example"})
        assert mine.status_code == 200, mine.text
        assert (await notify.delete("/me/email")).status_code == 204

    async def all_in_the_ledger() -> list[dict[str, Any]] | None:
        found = [
            e for e in await ledger_events(system, auditor) if e["event_type"] in CHANNEL_EVENTS
        ]
        return found if len(found) >= 5 else None

    found = await wait_for(
        all_in_the_ledger, timeout=60, what="notify's channel events in the ledger"
    )
    assert [(e["event_type"], e["actor"]["subject"]) for e in found] == [
        ("WebhookSubscribed", "it-1"),
        ("EmailAddressSet", "it-1"),
        ("WebhookUnsubscribed", "it-1"),
        ("EmailAddressSet", "officer-17"),
        ("EmailAddressRemoved", "officer-17"),
    ]
    subscribed = found[0]
    assert subscribed["data"] == {
        "subscription_id": subscription["subscription_id"],
        "agency": "pontiac-pd",
        "origin": "http://127.0.0.1:9",
    }
    assert subscribed["actor"]["role"] == "operator"
    assert found[1]["data"]["domain"] == "oakland-prosecutor.example"

    everything = json.dumps(await ledger_events(system, auditor))
    secret = subscription["secret"]
    for kept_out in (secret, secret.removeprefix("whsec_"), "T0KEN", "liaison@", "officer-17@"):
        assert kept_out not in everything, kept_out

    async with system.client("audit", auditor) as audit:
        verified = (await audit.get("/ledger/verify")).json()
    assert verified["intact"], verified
