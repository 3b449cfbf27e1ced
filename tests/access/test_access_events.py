"""Every read of a participant's record and every refused request, in every service, is an entry
of the audit ledger: who (subject, roles, agency), what, when and with which outcome (DESIGN.md
rule 11). A read that cannot be recorded is not served."""

from typing import Any
from uuid import uuid4

import asyncpg

from tests.access.conftest import CARE_DETAIL, Seeded, token
from tests.conftest import System, wait_for

Expected = tuple[str, str, str, str, int]  # event type, service, subject, action, status


async def ledger_events(system: System) -> list[dict[str, Any]]:
    """Every event in the ledger, read page by page as an auditor (which is recorded too)."""
    events: list[dict[str, Any]] = []
    async with system.client("audit", token(system, "audit", "auditor")) as audit:
        while True:
            page = (
                await audit.get("/ledger/entries", params={"after_seq": len(events), "limit": 1000})
            ).json()
            events += [entry["entry"]["event"] for entry in page]
            if len(page) < 1000:
                return events


def access_entries(events: list[dict[str, Any]]) -> dict[Expected, dict[str, Any]]:
    return {
        (
            e["event_type"],
            e["data"]["service"],
            e["data"]["who"]["subject"],
            e["data"]["action"],
            e["data"]["status"],
        ): e
        for e in events
        if e["event_type"] in ("RecordAccessed", "AccessDenied")
    }


async def test_reads_and_refusals_of_every_service_are_entries_of_the_ledger(
    system: System, seeded: Seeded
) -> None:
    officer = token(system, "intake", "officer")
    stranger = token(system, "casework", "officer", sub="officer-99")
    elsewhere = token(
        system,
        "casework",
        "case_manager",
        sub="cm-elsewhere",
        agency="oakland-community-health",  # that county's case-management agency
        jurisdiction="oakland-county",
    )
    calls = [
        ("intake", officer, f"/referrals/{seeded.referral_id}", "get", 200),
        (
            "intake",
            token(system, "intake", "prosecutor"),
            f"/referrals/{seeded.referral_id}",
            "get",
            403,
        ),
        (
            "casework",
            token(system, "casework", "case_manager"),
            f"/cases/{seeded.case_id}",
            "get",
            200,
        ),
        ("casework", stranger, f"/cases/{seeded.case_id}/status", "get", 403),
        ("casework", elsewhere, f"/cases/{seeded.case_id}", "get", 404),
        ("notify", officer, "/inbox", "get", 200),
        ("notify", officer, f"/inbox/{uuid4()}/read", "post", 404),
        (
            "audit",
            token(system, "audit", "auditor"),
            f"/ledger/cases/{seeded.case_id}/history",
            "get",
            200,
        ),
        ("audit", officer, "/ledger/entries", "get", 403),
    ]
    for service, bearer, path, method, status in calls:
        async with system.client(service, bearer) as client:
            response = await client.request(method, path)
        assert response.status_code == status, (service, path, response.text)

    case, referral = str(seeded.case_id), str(seeded.referral_id)
    expected: dict[Expected, tuple[str, str | None]] = {
        ("RecordAccessed", "intake", "officer-1", "GET /referrals/{referral_id}", 200): (
            "referral",
            referral,
        ),
        ("AccessDenied", "intake", "ada-1", "GET /referrals/{referral_id}", 403): (
            "referral",
            referral,
        ),
        ("RecordAccessed", "casework", "cm-1", "GET /cases/{case_id}", 200): ("case", case),
        ("AccessDenied", "casework", "officer-99", "GET /cases/{case_id}/status", 403): (
            "case",
            case,
        ),
        ("AccessDenied", "casework", "cm-elsewhere", "GET /cases/{case_id}", 404): ("case", case),
        ("RecordAccessed", "notify", "officer-1", "GET /inbox", 200): ("case", case),
        ("AccessDenied", "notify", "officer-1", "POST /inbox/{message_id}/read", 404): (
            "inbox_message",
            None,
        ),
        ("RecordAccessed", "audit", "auditor-1", "GET /ledger/cases/{case_id}/history", 200): (
            "case",
            case,
        ),
        ("AccessDenied", "audit", "officer-1", "GET /ledger/entries", 403): ("ledger", None),
    }

    async def all_in_the_ledger() -> dict[Expected, dict[str, Any]] | None:
        found = access_entries(await ledger_events(system))
        return found if set(expected) <= set(found) else None

    found = await wait_for(all_in_the_ledger, timeout=60, what="every access in the ledger")
    for key, (kind, record_id) in expected.items():
        event = found[key]
        data = event["data"]
        assert event["actor"]["subject"] == f"service:{key[1]}"
        assert data["who"]["agency"] and data["who"]["roles"] and data["who"]["jurisdiction"]
        assert event["occurred_at"]
        assert any(
            r["kind"] == kind and (record_id is None or r["id"] == record_id)
            for r in data["records"]
        ), (key, data["records"])
        if key[0] == "AccessDenied":
            assert data["reason"], key
        assert CARE_DETAIL not in str(event)
    refused_elsewhere = found[
        ("AccessDenied", "casework", "cm-elsewhere", "GET /cases/{case_id}", 404)
    ]
    assert refused_elsewhere["jurisdiction"] == "oakland-county"
    assert refused_elsewhere["data"]["who"]["agency"] == "oakland-community-health"


async def test_a_read_that_cannot_be_recorded_is_not_served(
    system: System, seeded: Seeded, admin_db: asyncpg.Connection
) -> None:
    staff = token(system, "casework", "case_manager")
    officer = token(system, "casework", "officer", sub="officer-99")
    await admin_db.execute("ALTER TABLE casework.outbox RENAME TO outbox_unavailable")
    try:
        async with system.client("casework", staff) as casework:
            withheld = await casework.get(f"/cases/{seeded.case_id}")
        async with system.client("casework", officer) as casework:
            refused = await casework.get(f"/cases/{seeded.case_id}/status")
    finally:
        await admin_db.execute("ALTER TABLE casework.outbox_unavailable RENAME TO outbox")
    assert withheld.status_code == 503, withheld.text
    assert withheld.headers["content-type"] == "application/problem+json"
    settings = system.services["casework"].runtime.settings
    assert withheld.headers["retry-after"] == str(settings.http_retry_after_seconds)
    assert str(seeded.referral_id) not in withheld.text
    # Refusing needs no record to be safe: the refusal still goes out.
    assert refused.status_code == 403

    async with system.client("casework", staff) as casework:
        served = await casework.get(f"/cases/{seeded.case_id}")
    assert served.status_code == 200
    assert served.json()["referral_id"] == str(seeded.referral_id)
