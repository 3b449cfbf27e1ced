"""What people do in the console, each over the services' own APIs with the person's token.
The console decides nothing the services decide: it gathers, orders and forwards."""

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from console.adapters.services import ServiceApi, Services
from console.domain.caseload import due_order, what_is_due
from console.domain.referral_body import referral_body


class Console:
    def __init__(self, services: Services) -> None:
        self._s = services

    async def unread(self, token: str) -> int:
        return len(await self._s.notify.inbox(token, status="unread"))

    async def referral_form(self, token: str) -> dict[str, Any]:
        form: dict[str, Any] = await self._s.intake.referral_form(token)
        return form

    async def refer(
        self, token: str, fields: dict[str, str], idempotency_key: str, offset_minutes: int
    ) -> dict[str, Any]:
        form = await self.referral_form(token)
        body = referral_body(fields, form["questions"], offset_minutes)
        referral: dict[str, Any] = await self._s.intake.refer(token, body, idempotency_key)
        return referral

    async def caseload(self, token: str) -> list[dict[str, Any]]:
        now = datetime.now(UTC).replace(tzinfo=None)
        cases = due_order(await self._s.casework.cases(token))
        return [{**case, "due": what_is_due(case, now)} for case in cases]

    async def case_page(
        self, token: str, case_id: UUID, *, supervisor: bool = False
    ) -> dict[str, Any]:
        """The case, its history (newest first) and its releases; for a supervisor also the
        roster's active case managers, whom the case can be given to."""
        case, history, releases = await asyncio.gather(
            self._s.casework.case(token, case_id),
            self._s.casework.history(token, case_id),
            self._s.casework.releases(token, case_id),
        )
        others: list[dict[str, Any]] = []
        if supervisor:
            roster = await self._s.casework.roster(token)
            others = [
                p for p in roster if p.get("active") and p.get("subject") != case["case_manager"]
            ]
        timeline = [{**entry, "by": _who(entry["actor"])} for entry in reversed(history)]
        return {"case": case, "timeline": timeline, "releases": releases, "reassign_to": others}

    async def alerts(self, token: str) -> list[dict[str, Any]]:
        """The prosecutor's inbox messages that ask for a decision or tell of an arrest."""
        messages: list[dict[str, Any]] = await self._s.notify.inbox(token)
        return messages

    async def health(self) -> list[dict[str, Any]]:
        async def one(api: ServiceApi) -> dict[str, Any]:
            ready, answer = await api.readiness()
            return {"service": api.name, "ready": ready, "checks": _checks(answer)}

        return list(await asyncio.gather(*(one(api) for api in self._s.all())))


def _who(actor: dict[str, str]) -> str:
    """A person by their sign-in name and agency; a service acting on its own (an admitted
    referral assigned, a timer run out) by its name."""
    if actor.get("role") == "system":
        return f"{actor.get('subject', '').removeprefix('service:')}, on its own"
    return f"{actor['subject']} ({actor['agency']})"


def _checks(answer: Any) -> dict[str, str]:
    if isinstance(answer, dict):
        checks = answer.get("checks") or {"service": answer.get("status", "unknown")}
        return {str(k): str(v) for k, v in checks.items()}
    return {"service": str(answer)}
