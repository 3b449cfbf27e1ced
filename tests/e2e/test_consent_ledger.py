"""Releases and disclosures reach the audit ledger like every other fact of a case, and the
auditor's case as of any instant shows which releases stood and how many disclosures were made."""

from datetime import UTC, datetime
from typing import Any

import pytest
from nats.aio.client import Client as NATS

from tests.casework.consent import PD_AGENCY, release_form
from tests.casework.harness import PONTIAC_CM_AGENCY, admit
from tests.conftest import System, wait_for


@pytest.mark.services("casework", "audit")
async def test_a_release_its_disclosure_and_its_revocation_are_in_the_ledger(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    supervisor = system.token(sub="sup-1", role="supervisor", agency=PONTIAC_CM_AGENCY)
    case_manager = system.token(sub="cm-1", role="case_manager", agency=PONTIAC_CM_AGENCY)
    defender = system.token(sub="pd-1", role="public_defender", agency=PD_AGENCY)
    auditor = system.token(sub="auditor-1", role="auditor", agency="county-audit")
    async with system.client("casework", supervisor) as casework:
        assert (await casework.put("/case-managers/cm-1")).status_code == 204
    case_id = await admit(nats_client, isolation)
    base = f"/cases/{case_id}"

    async with system.client("casework", case_manager) as casework:

        async def assigned() -> bool:
            response = await casework.get(base)
            return response.status_code == 200 and response.json()["case_manager"] == "cm-1"

        await wait_for(assigned, timeout=60, what="the case to open")
        made = await casework.post(f"{base}/releases", json=release_form(case_id))
        assert made.status_code == 201, made.text
        release_id = made.json()["release_id"]
        async with system.client("casework", defender) as pd:
            read = await pd.get(f"{base}/disclosure")
        assert read.status_code == 200, read.text
        between = datetime.now(UTC)
        revoked = await casework.post(
            f"{base}/releases/{release_id}/revocation", json={"method": "in_writing"}
        )
        assert revoked.status_code == 200, revoked.text

    async with system.client("audit", auditor) as audit:

        async def in_ledger() -> list[dict[str, Any]] | None:
            entries: list[dict[str, Any]] = (
                await audit.get(f"/ledger/cases/{case_id}/history")
            ).json()["entries"]
            return entries if any(e["event_type"] == "ConsentRevoked" for e in entries) else None

        entries = await wait_for(in_ledger, timeout=60, what="the revocation in the ledger")
        consent = [e for e in entries if e["event_type"].startswith(("Consent", "Information"))]
        assert [e["event_type"] for e in consent] == [
            "ConsentGranted",
            "InformationDisclosed",
            "ConsentRevoked",
        ]
        disclosed = consent[1]
        assert disclosed["event_id"] == read.json()["disclosure_id"]
        assert disclosed["actor"] == {
            "subject": "pd-1",
            "agency": PD_AGENCY,
            "role": "public_defender",
        }
        assert disclosed["data"]["release_ids"] == [release_id]
        assert disclosed["data"]["redisclosure_notice"] == "42 CFR 2.32(a)(1)"

        then = (
            await audit.get(f"/ledger/cases/{case_id}/as-of", params={"at": between.isoformat()})
        ).json()
        now = (
            await audit.get(
                f"/ledger/cases/{case_id}/as-of", params={"at": datetime.now(UTC).isoformat()}
            )
        ).json()
        verified = (await audit.get("/ledger/verify")).json()
    assert then["state"]["releases"] == {release_id: "granted"}
    assert then["state"]["disclosures"] == 1
    assert now["state"]["releases"] == {release_id: "revoked"}
    assert now["state"]["coarse_status"] == "working_with_case_manager"
    assert verified["intact"] is True
