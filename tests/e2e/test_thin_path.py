"""The walking skeleton, end to end over HTTP and NATS on the real servers: an officer's
referral opens a case, the officer hears of it in their inbox, and the ledger holds every event
once, in a chain that verifies."""

from typing import Any

from tests.conftest import System, wait_for
from tests.referrals import fresh_key, referral_body
from tests.stores import ACCESS_EVENTS

REFERRAL = referral_body("social_contact")


async def test_an_eligible_referral_reaches_the_officers_inbox_and_a_verified_ledger(
    system: System,
) -> None:
    officer = system.token(sub="officer-17", role="officer", agency="oakland-sheriff")
    auditor = system.token(sub="auditor-1", role="auditor", agency="county-audit")
    supervisor = system.token(sub="sup-1", role="supervisor", agency="pontiac-case-management")
    async with system.client("casework", supervisor) as casework:
        registered = await casework.put("/case-managers/cm-1")
    assert registered.status_code == 204, registered.text

    async with system.client("intake", officer) as intake:
        response = await intake.post("/referrals", json=REFERRAL, headers=fresh_key())
    assert response.status_code == 201, response.text
    referral = response.json()
    assert referral["status"] == "admitted"

    async def officer_inbox() -> list[dict[str, Any]]:
        async with system.client("notify", officer) as notify:
            messages: list[dict[str, Any]] = (await notify.get("/inbox")).json()
        return [m for m in messages if m["referral_id"] == referral["referral_id"]]

    messages = await wait_for(officer_inbox, timeout=60, what="the officer's inbox message")
    assert len(messages) == 1
    assert "working with a case manager" in messages[0]["body"]

    expected = [
        "ReferralReceived",
        "EligibilityDecided",
        "ReferralAdmitted",
        "CaseOpened",
        "CaseManagerAssigned",
        # notify's records: the officer's and the case manager's in-app messages
        "NotificationDelivered",
        "NotificationDelivered",
    ]

    async def ledger_types() -> list[str] | None:
        async with system.client("audit", auditor) as audit:
            entries = (await audit.get("/ledger/entries", params={"limit": 1000})).json()
        types = [e["entry"]["event"]["event_type"] for e in entries]
        domain = [t for t in types if t not in ACCESS_EVENTS]
        return types if len(domain) >= len(expected) else None

    types = await wait_for(ledger_types, timeout=60, what="all seven events in the ledger")
    assert sorted(t for t in types if t not in ACCESS_EVENTS) == sorted(expected)
    # The officer's reads of the inbox are on record too.
    assert "RecordAccessed" in types

    async with system.client("audit", auditor) as audit:
        verification = (await audit.get("/ledger/verify")).json()
    assert verification["intact"] is True
    assert verification["entries_checked"] >= len(types)
