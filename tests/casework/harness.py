"""Casework alone on the real servers: the service in this process, ReferralAdmitted events
published onto JetStream as intake publishes them, and HTTP clients with tokens of any role.

Casework is driven by the event it consumes, not through intake, so these tests hold whatever
intake's own rules (review, waitlist) decide before a referral is admitted."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import uuid6
from nats.aio.client import Client as NATS

from offramp_contracts import Actor, EventEnvelope, payload_of
from offramp_contracts.events.base import Door, EventPayload, StaffRef
from offramp_contracts.events.intake import ReferralAdmitted
from offramp_contracts.identifiers import case_id_for_referral
from servicekit.auth import LocalIssuer
from servicekit.events import new_event
from tests.bus import republish
from tests.conftest import RunningService, wait_for

PONTIAC_CM_AGENCY = "pontiac-case-management"
OFFICER = StaffRef(subject="officer-7", agency="pontiac-pd")


@dataclass
class Casework:
    service: RunningService
    issuer: LocalIssuer
    nats: NATS
    subject_root: str
    isolation: Any

    def token(self, sub: str, role: str, agency: str, jurisdiction: str = "pontiac") -> str:
        return self.issuer.issue(
            subject=sub, roles=[role], agency=agency, jurisdiction=jurisdiction
        )

    def client(self, token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.service.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def staff(self, sub: str = "cm-1", role: str = "case_manager") -> httpx.AsyncClient:
        return self.client(self.token(sub, role, PONTIAC_CM_AGENCY))

    async def register(
        self, *subjects: str, agency: str = PONTIAC_CM_AGENCY, jurisdiction: str = "pontiac"
    ) -> None:
        token = self.token("supervisor-1", "supervisor", agency, jurisdiction)
        async with self.client(token) as http:
            for subject in subjects:
                response = await http.put(f"/case-managers/{subject}")
                assert response.status_code == 204, response.text

    async def admit(
        self,
        door: Door = "arrest_diversion",
        *,
        jurisdiction: str = "pontiac",
        officer: StaffRef = OFFICER,
        policy_version: str = "2026.1",
    ) -> UUID:
        return await admit(
            self.nats,
            self.isolation,
            door,
            jurisdiction=jurisdiction,
            officer=officer,
            policy_version=policy_version,
        )

    async def events(self, case_id: UUID) -> list[EventEnvelope]:
        rows = await self.service.runtime.pool.fetch(
            "SELECT envelope FROM events WHERE stream_id = $1 ORDER BY stream_version",
            f"case-{case_id}",
        )
        return [EventEnvelope.model_validate_json(row["envelope"]) for row in rows]

    async def payloads(self, case_id: UUID, event_type: str) -> list[Any]:
        return [payload_of(e) for e in await self.events(case_id) if e.event_type == event_type]

    async def wait_for_event(
        self, case_id: UUID, event_type: str, count: int = 1, timeout: float = 30
    ) -> list[EventPayload]:
        async def stored() -> list[Any] | None:
            found = await self.payloads(case_id, event_type)
            return found if len(found) >= count else None

        found: list[EventPayload] = await wait_for(
            stored, timeout=timeout, what=f"{count} {event_type} in case {case_id}"
        )
        return found

    async def opened(self, case_id: UUID, *, assigned: bool = True) -> None:
        await self.wait_for_event(case_id, "CaseManagerAssigned" if assigned else "CaseOpened")


async def admit(
    nats: NATS,
    isolation: Any,
    door: Door = "arrest_diversion",
    *,
    jurisdiction: str = "pontiac",
    officer: StaffRef = OFFICER,
    policy_version: str = "2026.1",
    referral_id: UUID | None = None,
) -> UUID:
    """Publishes a ReferralAdmitted as intake would; returns the id of the case it opens."""
    referral_id = referral_id or uuid6.uuid7()
    event = new_event(
        ReferralAdmitted(
            referral_id=referral_id,
            door=door,
            referring_officer=officer,
            policy_version=policy_version,
            from_waitlist=False,
        ),
        stream_id=f"referral-{referral_id}",
        stream_version=3,
        jurisdiction=jurisdiction,
        actor=Actor(subject=officer.subject, agency=officer.agency, role="officer"),
        correlation_id=uuid4(),
        causation_id=None,
    )
    await republish(nats, isolation, event)
    return case_id_for_referral(referral_id)
