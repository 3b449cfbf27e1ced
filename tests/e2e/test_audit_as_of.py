"""An auditor rebuilds a case from the ledger as it stood at any instant, and it matches what
casework reported at that instant."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from offramp_contracts.identifiers import case_id_for_referral
from tests.conftest import System, wait_for
from tests.referrals import fresh_key, referral_body

CM_AGENCY = "pontiac-case-management"
COMPARED = ("phase", "coarse_status", "engaged", "contacts", "closure_reason")


async def test_the_case_as_of_each_instant_matches_what_casework_reported_then(
    system: System,
) -> None:
    officer = system.token(sub="officer-1", role="officer", agency="pontiac-pd")
    supervisor = system.token(sub="sup-1", role="supervisor", agency=CM_AGENCY)
    case_manager = system.token(sub="cm-1", role="case_manager", agency=CM_AGENCY)
    auditor = system.token(sub="auditor-1", role="auditor", agency="county-audit")
    async with system.client("casework", supervisor) as casework:
        assert (await casework.put("/case-managers/cm-1")).status_code == 204
    async with system.client("intake", officer) as intake:
        made = await intake.post("/referrals", json=referral_body(), headers=fresh_key())
    assert made.status_code == 201, made.text
    case_id = case_id_for_referral(UUID(made.json()["referral_id"]))
    base = f"/cases/{case_id}"
    before_opening = datetime.now(UTC)

    reported: list[tuple[datetime, dict[str, Any]]] = []
    async with system.client("casework", case_manager) as casework:

        async def assigned() -> dict[str, Any] | None:
            response = await casework.get(base)
            case: dict[str, Any] = response.json()
            return case if response.status_code == 200 and case["case_manager"] else None

        opened = await wait_for(assigned, timeout=60, what="the case")
        reported.append((datetime.now(UTC), opened))
        contact = {
            "contacted_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
            "method": "in_person",
            "notes": "met at the drop-in centre",
        }
        for command, body in [("contacts", contact), ("closure", {"reason": "graduated"})]:
            response = await casework.post(f"{base}/{command}", json=body)
            assert response.status_code in {200, 201}, response.text
            reported.append((datetime.now(UTC), response.json()["case"]))

    async def ledger_has_closure() -> bool:
        async with system.client("audit", auditor) as audit:
            history = (await audit.get(f"/ledger/cases/{case_id}/history")).json()
        return any(e["event_type"] == "CaseClosed" for e in history["entries"])

    await wait_for(ledger_has_closure, timeout=60, what="the closure in the ledger")
    async with system.client("audit", auditor) as audit:
        for instant, casework_said in reported:
            response = await audit.get(
                f"/ledger/cases/{case_id}/as-of", params={"at": instant.isoformat()}
            )
            assert response.status_code == 200, response.text
            state = response.json()["state"]
            assert {k: state[k] for k in COMPARED} == {k: casework_said[k] for k in COMPARED}
        earlier = await audit.get(
            f"/ledger/cases/{case_id}/as-of", params={"at": before_opening.isoformat()}
        )
    assert [s["coarse_status"] for _, s in reported] == [
        "working_with_case_manager",
        "engaged",
        "closed",
    ]
    assert earlier.json()["state"] is None
