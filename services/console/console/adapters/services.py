"""The console's clients of intake, casework, notify, audit and outcomes. Each call carries the signed-in
person's own token, so every rule, projection and access event stays with the service; a
refusal becomes a `ServiceError` whose message a person can read."""

from typing import Any
from uuid import UUID

import httpx

from console.domain.messages import readable

Json = Any


class ServiceError(Exception):
    """A service refused, or could not be reached; `message` is for people."""

    def __init__(self, service: str, status: int, message: str) -> None:
        super().__init__(f"{service}: {status} {message}")
        self.service = service
        self.status = status
        self.message = message


class ServiceApi:
    def __init__(self, name: str, http: httpx.AsyncClient, base_url: str) -> None:
        self.name = name
        self._http = http
        self._base = base_url.rstrip("/")

    async def call(
        self,
        method: str,
        path: str,
        token: str | None,
        *,
        json: Json = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            response = await self._http.request(
                method, self._base + path, json=json, params=params, headers=sent
            )
        except httpx.HTTPError:
            raise ServiceError(
                self.name,
                503,
                f"The {self.name} service could not be reached. Please try again in a moment.",
            ) from None
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = None
            raise ServiceError(
                self.name, response.status_code, readable(response.status_code, problem)
            )
        return response

    async def readiness(self) -> tuple[bool, Json]:
        """`/readyz` as it answers, 503 included: operators want to see which check failed."""
        try:
            response = await self._http.get(self._base + "/readyz")
        except httpx.HTTPError as error:
            return False, {"status": f"unreachable ({type(error).__name__})"}
        try:
            return response.status_code == 200, response.json()
        except ValueError:
            return False, {"status": f"answered {response.status_code}"}

    async def get(self, path: str, token: str | None, **params: Any) -> Json:
        response = await self.call("GET", path, token, params=params or None)
        return response.json()

    async def post(
        self, path: str, token: str, body: Json, headers: dict[str, str] | None = None
    ) -> Json:
        response = await self.call("POST", path, token, json=body, headers=headers)
        return response.json() if response.content else None

    async def dead_letters(self, token: str) -> Json:
        """The messages this service's consumers parked in the operator's jurisdiction."""
        return await self.get("/dead-letters", token)

    async def settle_dead_letter(self, token: str, letter_id: int, action: str) -> Json:
        """`replay` or `discard` one parked message."""
        return await self.post(f"/dead-letters/{letter_id}/{action}", token, None)


class Intake(ServiceApi):
    async def referral_form(self, token: str) -> Json:
        return await self.get("/referral-form", token)

    async def my_referrals(self, token: str) -> Json:
        return await self.get("/referrals", token)

    async def refer(self, token: str, body: Json, idempotency_key: str) -> Json:
        return await self.post("/referrals", token, body, {"Idempotency-Key": idempotency_key})

    async def reviews(self, token: str) -> Json:
        return await self.get("/reviews", token)

    async def review(self, token: str, referral_id: UUID, verdict: str, reason: str) -> Json:
        body = {"verdict": verdict, "reason": reason}
        return await self.post(f"/referrals/{referral_id}/review", token, body)


class Casework(ServiceApi):
    async def cases(self, token: str) -> Json:
        return await self.get("/cases", token)

    async def case(self, token: str, case_id: UUID) -> Json:
        return await self.get(f"/cases/{case_id}", token)

    async def history(self, token: str, case_id: UUID) -> Json:
        """The case's events as casework recorded them, oldest first, each with its line."""
        return await self.get(f"/cases/{case_id}/history", token)

    async def command(self, token: str, case_id: UUID, what: str, body: Json) -> Json:
        return await self.post(f"/cases/{case_id}/{what}", token, body)

    async def add_goal(self, token: str, case_id: UUID, description: str) -> Json:
        return await self.command(token, case_id, "goals", {"description": description})

    async def change_goal(
        self, token: str, case_id: UUID, goal_id: UUID, change: str, description: str
    ) -> Json:
        """`updated` rewords an open goal; `achieved` and `dropped` settle it, with a note."""
        path = f"/cases/{case_id}/goals/{goal_id}"
        body = {"description": description}
        if change == "updated":
            return (await self.call("PATCH", path, token, json=body)).json()
        return await self.post(f"{path}/{change}", token, body)

    async def refer_to_service(
        self, token: str, case_id: UUID, service: str, provider: str, notes: str
    ) -> Json:
        body = {"service": service, "provider": provider, "notes": notes}
        return await self.command(token, case_id, "service-referrals", body)

    async def record_service_outcome(
        self, token: str, case_id: UUID, service_referral_id: UUID, outcome: str, notes: str
    ) -> Json:
        path = f"/cases/{case_id}/service-referrals/{service_referral_id}/outcome"
        return await self.post(path, token, {"outcome": outcome, "notes": notes})

    async def close(self, token: str, case_id: UUID, reason: str) -> Json:
        return await self.command(token, case_id, "closure", {"reason": reason})

    async def reassign(self, token: str, case_id: UUID, case_manager: str) -> Json:
        body = {"case_manager": case_manager}
        response = await self.call("PUT", f"/cases/{case_id}/case-manager", token, json=body)
        return response.json()

    async def releases(self, token: str, case_id: UUID) -> Json:
        return await self.get(f"/cases/{case_id}/releases", token)

    async def revoke(self, token: str, case_id: UUID, release_id: UUID, method: str) -> Json:
        path = f"/cases/{case_id}/releases/{release_id}/revocation"
        return await self.post(path, token, {"method": method})

    async def disclosure(self, token: str, case_id: UUID) -> Json:
        return await self.get(f"/cases/{case_id}/disclosure", token)

    async def roster(self, token: str) -> Json:
        return await self.get("/case-managers", token)

    async def add_case_manager(self, token: str, subject: str) -> None:
        await self.call("PUT", f"/case-managers/{subject}", token)

    async def retire_case_manager(self, token: str, subject: str) -> None:
        await self.call("DELETE", f"/case-managers/{subject}", token)


class Notify(ServiceApi):
    async def inbox(self, token: str, status: str = "all") -> Json:
        return await self.get("/inbox", token, status=status)

    async def mark_read(self, token: str, message_id: UUID) -> None:
        await self.call("POST", f"/inbox/{message_id}/read", token)

    async def deliveries(self, token: str, status: str) -> Json:
        return await self.get("/deliveries", token, status=status)

    async def retry(self, token: str, delivery_id: UUID) -> None:
        await self.call("POST", f"/deliveries/{delivery_id}/retry", token)


class Audit(ServiceApi):
    async def verify(self, token: str) -> Json:
        return await self.get("/ledger/verify", token)

    async def checkpoints(self, token: str) -> Json:
        return await self.get("/ledger/checkpoints", token)

    async def case_history(self, token: str, case_id: UUID) -> Json:
        return await self.get(f"/ledger/cases/{case_id}/history", token)

    async def referral_history(self, token: str, referral_id: UUID) -> Json:
        return await self.get(f"/ledger/referrals/{referral_id}/history", token)

    async def as_of(self, token: str, case_id: UUID, at: str) -> Json:
        return await self.get(f"/ledger/cases/{case_id}/as-of", token, at=at)

    async def export(self, token: str, first: int, last: int) -> bytes:
        response = await self.call(
            "GET", "/ledger/export", token, params={"first": first, "last": last}
        )
        return response.content


class Outcomes(ServiceApi):
    async def report(self, token: str, name: str) -> Json:
        return await self.get(f"/reports/{name}", token)


class Services:
    """The five services, over one connection pool."""

    def __init__(self, http: httpx.AsyncClient, urls: dict[str, str]) -> None:
        self.http = http
        self.intake = Intake("intake", http, urls["intake"])
        self.casework = Casework("casework", http, urls["casework"])
        self.notify = Notify("notify", http, urls["notify"])
        self.audit = Audit("audit", http, urls["audit"])
        self.outcomes = Outcomes("outcomes", http, urls["outcomes"])

    def all(self) -> tuple[ServiceApi, ...]:
        return (self.intake, self.casework, self.notify, self.audit, self.outcomes)

    def named(self, name: str) -> ServiceApi | None:
        return next((api for api in self.all() if api.name == name), None)
