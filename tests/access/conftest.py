"""A Pontiac case with care details in it, made through the services' own APIs, for the tests
of who may see what: the referring officer's arrest diversion, approved by the prosecutor,
admitted and assigned; another waiting for the prosecutor; the case manager's assessment, contact, goal, service
referral and a reported non-compliance, each carrying a marker (`CARE_DETAIL`) that must never
reach anyone outside the case-management agency but the auditor."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from offramp_contracts.identifiers import case_id_for_referral
from tests.access.policy import home_agency
from tests.casework.consent import release_form
from tests.conftest import System, wait_for
from tests.referrals import fresh_key, referral_body

CARE_DETAIL = "CARE-DETAIL-heroin-relapse-bipolar"
SUBJECTS = {
    "officer": "officer-1",
    "case_manager": "cm-1",
    "supervisor": "sup-1",
    "prosecutor": "ada-1",
}


def subject_of(role: str) -> str:
    return SUBJECTS.get(role, f"{role}-1")


@dataclass(frozen=True)
class Seeded:
    referral_id: UUID
    case_id: UUID
    awaiting_review: UUID
    goal_id: UUID
    service_referral_id: UUID
    release_id: UUID
    message_id: UUID

    def path_values(self) -> dict[str, str]:
        """A value for every path parameter of every service: the seeded records where the
        parameter names one, harmless made-up names otherwise."""
        return {
            "referral_id": str(self.referral_id),
            "case_id": str(self.case_id),
            "goal_id": str(self.goal_id),
            "service_referral_id": str(self.service_referral_id),
            "release_id": str(self.release_id),
            "message_id": str(self.message_id),
            "subject": "probe-cm",
            "agency": "probe-agency",
            "role": "prosecutor",
            "subscription_id": str(uuid4()),
            "delivery_id": str(uuid4()),
            "number": "1",
            "dead_letter_id": "999999999",
            "report": "equity",
        }


def token(system: System, service: str, role: str, **changes: str) -> str:
    """The token of the seeded person holding `role` (their agency as seen by `service`)."""
    claims = {"sub": subject_of(role), "agency": home_agency(service, role), **changes}
    return system.token(role=role, **claims)


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


@pytest.fixture
async def seeded(system: System) -> Seeded:
    async with system.client("casework", token(system, "casework", "supervisor")) as casework:
        await _ok(await casework.put("/case-managers/cm-1"), 204)

    async with system.client("intake", token(system, "intake", "officer")) as intake:
        made = [
            await _ok(
                await intake.post(
                    "/referrals", json=referral_body("arrest_diversion"), headers=fresh_key()
                ),
                201,
            )
            for _ in range(2)
        ]
    assert [m["status"] for m in made] == ["awaiting_review"] * 2
    async with system.client("intake", token(system, "intake", "prosecutor")) as intake:
        admitted = await _ok(
            await intake.post(
                f"/referrals/{made[0]['referral_id']}/review",
                json={"verdict": "approved", "reason": "first contact"},
            )
        )
    assert admitted["status"] == "admitted"
    waiting = made[1]
    referral_id = UUID(admitted["referral_id"])
    case_id = case_id_for_referral(referral_id)

    async with system.client("casework", token(system, "casework", "case_manager")) as cm:

        async def assigned() -> bool:
            response = await cm.get(f"/cases/{case_id}")
            return response.status_code == 200 and response.json()["case_manager"] == "cm-1"

        await wait_for(assigned, timeout=60, what="the case opened and assigned to cm-1")
        case = f"/cases/{case_id}"
        await _ok(
            await cm.post(
                f"{case}/intake-assessment",
                json={
                    "needs": ["housing", "substance_use_treatment"],
                    "notes": CARE_DETAIL,
                    "release_signed_on": date.today().isoformat(),
                },
            )
        )
        await _ok(
            await cm.post(
                f"{case}/contacts",
                json={
                    "contacted_at": datetime.now(UTC).isoformat(),
                    "method": "phone",
                    "notes": CARE_DETAIL,
                },
            ),
            201,
        )
        goal = await _ok(await cm.post(f"{case}/goals", json={"description": CARE_DETAIL}), 201)
        service = await _ok(
            await cm.post(
                f"{case}/service-referrals",
                json={"service": "detox", "provider": CARE_DETAIL, "notes": CARE_DETAIL},
            ),
            201,
        )
        release = await _ok(await cm.post(f"{case}/releases", json=release_form(case_id)), 201)
        await _ok(
            await cm.post(
                f"{case}/non-compliance",
                json={
                    "condition": "keep in contact with the case manager",
                    "details": CARE_DETAIL,
                },
            )
        )

    async with system.client("notify", token(system, "notify", "officer")) as notify:

        async def told() -> list[Any] | None:
            messages = (await notify.get("/inbox")).json()
            return (
                messages if any(m["trigger"] == "NonComplianceReported" for m in messages) else None
            )

        messages = await wait_for(told, timeout=60, what="the officer told of non-compliance")

    return Seeded(
        referral_id=referral_id,
        case_id=case_id,
        awaiting_review=UUID(waiting["referral_id"]),
        goal_id=UUID(goal["id"]),
        service_referral_id=UUID(service["id"]),
        release_id=UUID(release["release_id"]),
        message_id=UUID(messages[0]["message_id"]),
    )
