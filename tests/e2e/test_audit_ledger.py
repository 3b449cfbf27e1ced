"""The audit ledger in the running system: every event appended once, checkpoints signed and
announced on the bus, proofs an auditor can take away, and reads for auditors only."""

from typing import Any
from uuid import UUID

import pytest

from audit.domain.bundle import check_bundle
from audit.domain.checkpoint import public_key_from_hex
from tests.conftest import System, wait_for
from tests.referrals import fresh_key, referral_body

REFERRAL = referral_body("social_contact")


@pytest.fixture(autouse=True)
def checkpoint_often(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read by AuditSettings when the system starts: sign after every 3 events."""
    monkeypatch.setenv("OFFRAMP_CHECKPOINT_EVERY_ENTRIES", "3")


async def ledger_json(system: System, token: str, path: str, **params: Any) -> Any:
    async with system.client("audit", token) as audit:
        response = await audit.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_auditor_follows_a_referral_and_takes_its_proofs_away(system: System) -> None:
    officer = system.token(sub="officer-9", role="officer", agency="pontiac-pd")
    auditor = system.token(sub="auditor-7", role="auditor", agency="county-audit")
    async with system.client("intake", officer) as intake:
        response = await intake.post("/referrals", json=REFERRAL, headers=fresh_key())
    assert response.status_code == 201, response.text
    made = response.json()

    async def whole_story_signed() -> Any:
        entries = await ledger_json(system, auditor, "/ledger/entries")
        types = [e["entry"]["event"]["event_type"] for e in entries]
        # The referral's story, and the ledger's own announcement of a checkpoint coming back
        # over the bus; the auditor's own reads of the ledger are entries too, in between.
        story = {"ReferralReceived", "EligibilityDecided", "ReferralAdmitted", "CaseOpened"}
        return entries if story <= {*types} and "CheckpointSigned" in types else None

    entries = await wait_for(whole_story_signed, timeout=60, what="a signed, announced ledger")
    ids = [e["entry"]["event"]["event_id"] for e in entries]
    assert len(ids) == len(set(ids))
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))

    verified = await ledger_json(system, auditor, "/ledger/verify")
    assert verified["intact"], verified
    assert verified["summary"].startswith(f"intact up to entry {verified['entries_checked']}, ")
    assert verified["checkpoints_checked"] >= 1

    history = await ledger_json(system, auditor, f"/ledger/referrals/{made['referral_id']}/history")
    steps = [(h["event_type"], h["actor"]["role"]) for h in history["entries"]]
    assert steps[:2] == [("ReferralReceived", "officer"), ("EligibilityDecided", "officer")]
    assert ("CaseOpened", "system") in steps
    case_id = next(h["data"]["case_id"] for h in history["entries"] if h["data"].get("case_id"))
    as_of = await ledger_json(
        system, auditor, f"/ledger/cases/{case_id}/as-of", at=history["entries"][1]["recorded_at"]
    )
    assert [e["event_type"] for e in as_of["entries"]] == ["ReferralReceived", "EligibilityDecided"]

    async with system.client("audit") as anyone:
        key = (await anyone.get("/ledger/public-key")).json()
    pinned = public_key_from_hex(key["public_key_hex"])
    inclusion = await ledger_json(system, auditor, "/ledger/proofs/inclusion", seq=1, checkpoint=1)
    assert check_bundle(inclusion, pinned).ok
    export = await ledger_json(system, auditor, "/ledger/export", first=1, last=3, checkpoint=1)
    assert check_bundle(export, pinned).ok
    assert UUID(export["entries"][0]["entry"].split('"event_id":"')[1][:36]) == UUID(ids[0])


async def test_only_auditors_read_the_ledger_and_every_attempt_is_recorded(
    system: System,
) -> None:
    auditor = system.token(sub="auditor-8", role="auditor", agency="county-audit")
    officer = system.token(sub="officer-2", role="officer", agency="pontiac-pd")
    prosecutor = system.token(sub="pros-1", role="prosecutor", agency="da")
    for token in (officer, prosecutor):
        async with system.client("audit", token) as audit:
            for path in ("/ledger/entries", "/ledger/verify", "/ledger/export?first=1&last=1"):
                response = await audit.get(path)
                assert response.status_code == 403, response.text
                assert response.headers["content-type"] == "application/problem+json"
    await ledger_json(system, auditor, "/ledger/entries", after_seq=0)

    # Every attempt is an entry of the ledger itself, hash-chained like everything else.
    async def accesses() -> list[tuple[str, str, str]] | None:
        entries = await ledger_json(system, auditor, "/ledger/entries", limit=1000)
        seen = [
            (e["entry"]["event"]["event_type"], e["entry"]["event"]["data"])
            for e in entries
            if e["entry"]["event"]["event_type"] in ("RecordAccessed", "AccessDenied")
        ]
        found = [(kind, data["who"]["subject"], data["action"]) for kind, data in seen]
        denied = [f for f in found if f[0] == "AccessDenied"]
        return (
            found
            if len(denied) == 6 and ("RecordAccessed", "auditor-8", "GET /ledger/entries") in found
            else None
        )

    found = await wait_for(accesses, timeout=60, what="the reads and refusals in the ledger")
    assert found.count(("AccessDenied", "officer-2", "GET /ledger/entries")) == 1
    assert found.count(("AccessDenied", "pros-1", "GET /ledger/export")) == 1
    assert {f[1] for f in found if f[0] == "AccessDenied"} == {"officer-2", "pros-1"}
    assert {f[1] for f in found if f[0] == "RecordAccessed"} == {"auditor-8"}
