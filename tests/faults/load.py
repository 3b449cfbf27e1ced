"""The load the faults happen under: officers referring people from patrol cars, and case
managers logging contacts, assessing and closing cases, all over HTTP, each request recorded
with what came back.

Officers and case managers behave as the README asks of a patrol car with bad signal: every
referral and every case command carries an Idempotency-Key, and on a 503 or a lost connection
it is sent again with the same key, body and correlation id after the Retry-After, until the
service gives a definite answer. So every request ends accepted or refused, never unknown, and
the reconciliation can ask of each accepted one exactly one set of events.
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, Protocol
from uuid import UUID, uuid4

import httpx

from offramp_contracts.identifiers import case_id_for_referral
from tests.faults.stack import CASE_AGENCY
from tests.referrals import referral_body

PROBLEM_JSON = "application/problem+json"
# Pacing between one officer's (or case manager's) requests: enough load to have requests in
# flight at every fault, little enough for a loaded two-core machine.
REFERRAL_EVERY_SECONDS = 0.25
COMMAND_EVERY_SECONDS = 0.15
GIVE_UP_AFTER_SECONDS = 120.0


class Target(Protocol):
    """What the load is sent to: the fault suite's system, or the scale-out test's replicas."""

    def token(self, sub: str, role: str, agency: str) -> str: ...

    def client(self, service: str, token: str, timeout: float = 10) -> httpx.AsyncClient: ...


@dataclass(frozen=True)
class Answer:
    """One HTTP attempt: the status, or the transport error when there was none."""

    status: int | None
    error: str | None = None
    retry_after: str | None = None
    content_type: str | None = None
    problem_type: str | None = None

    @classmethod
    def of(cls, response: httpx.Response) -> "Answer":
        content_type = response.headers.get("content-type", "").split(";")[0] or None
        problem = response.json() if content_type == PROBLEM_JSON else {}
        return cls(
            status=response.status_code,
            retry_after=response.headers.get("retry-after"),
            content_type=content_type,
            problem_type=problem.get("type"),
        )


@dataclass
class ReferralRequest:
    """One referral as the officer means it, however many times it was sent."""

    key: str
    correlation_id: UUID
    answers: list[Answer] = field(default_factory=list)
    referral_id: UUID | None = None
    status: str | None = None
    # When the definite answer came (time.monotonic()), for throughput.
    answered_at: float | None = None

    @property
    def accepted(self) -> bool:
        return self.referral_id is not None

    @property
    def case_id(self) -> UUID:
        assert self.referral_id is not None
        return case_id_for_referral(self.referral_id)


CommandKind = Literal["contact", "assessment", "closure"]
Outcome = Literal["accepted", "refused"]


@dataclass
class CaseCommand:
    """One case command as the case manager means it, however many times it was sent."""

    kind: CommandKind
    case_id: UUID
    correlation_id: UUID
    key: str = field(default_factory=lambda: str(uuid4()))
    answers: list[Answer] = field(default_factory=list)
    outcome: Outcome | None = None
    stored: list[str] = field(default_factory=list)
    answered_at: float | None = None

    @property
    def answer(self) -> Answer | None:
        """The last answer: the definite one, once there is one."""
        return self.answers[-1] if self.answers else None


@dataclass
class LoadRecord:
    referrals: list[ReferralRequest] = field(default_factory=list)
    commands: list[CaseCommand] = field(default_factory=list)

    def accepted_referrals(self) -> list[ReferralRequest]:
        return [r for r in self.referrals if r.accepted]

    def summary(self) -> dict[str, int]:
        """How much load there was, and how much of it met a fault."""
        answers = self.answers()
        return {
            "referrals": len(self.referrals),
            "referral attempts": sum(len(r.answers) for r in self.referrals),
            "case commands": len(self.commands),
            "command attempts": sum(len(c.answers) for c in self.commands),
            "commands accepted": sum(1 for c in self.commands if c.outcome == "accepted"),
            "no connection": sum(1 for a in answers if a.status is None),
            "503": sum(1 for a in answers if a.status == 503),
        }

    def accepted_since(self, since: float) -> int:
        """Referrals and commands accepted after `since` (time.monotonic())."""
        times = [r.answered_at for r in self.referrals if r.accepted] + [
            c.answered_at for c in self.commands if c.outcome == "accepted"
        ]
        return sum(1 for t in times if t is not None and t > since)

    def answers(self) -> list[Answer]:
        return [a for r in self.referrals for a in r.answers] + [
            a for c in self.commands for a in c.answers
        ]


async def send_referral(
    http: httpx.AsyncClient, request: ReferralRequest, *, body: dict[str, Any] | None = None
) -> None:
    """Until a definite answer: a 2xx (the referral, made now or before) or a 4xx."""
    body = body or referral_body("social_contact")
    headers = {"Idempotency-Key": request.key, "X-Correlation-Id": str(request.correlation_id)}
    deadline = asyncio.get_running_loop().time() + GIVE_UP_AFTER_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        try:
            response = await http.post("/referrals", json=body, headers=headers)
        except httpx.TransportError as error:
            request.answers.append(Answer(status=None, error=type(error).__name__))
            await asyncio.sleep(0.2)  # the car's own back-off before it tries again
            continue
        answer = Answer.of(response)
        request.answers.append(answer)
        if response.status_code == 503:
            await asyncio.sleep(float(answer.retry_after or 1))
            continue
        if response.is_success:
            made = response.json()
            request.referral_id = UUID(made["referral_id"])
            request.status = made["status"]
            request.answered_at = time.monotonic()
        return


async def send_command(
    http: httpx.AsyncClient, command: CaseCommand, *, retry: bool = True
) -> None:
    """Until a definite answer, as `send_referral`: a 2xx (stored now, or by an attempt whose
    answer was lost) or a 4xx. With `retry=False` once only: a 503 then is its refusal (the
    service says nothing was done)."""
    path, body = _command_request(command)
    headers = {"Idempotency-Key": command.key, "X-Correlation-Id": str(command.correlation_id)}
    deadline = asyncio.get_running_loop().time() + GIVE_UP_AFTER_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        try:
            response = await http.post(path, json=body, headers=headers)
        except httpx.TransportError as error:
            command.answers.append(Answer(status=None, error=type(error).__name__))
            if not retry:
                return
            await asyncio.sleep(0.2)
            continue
        answer = Answer.of(response)
        command.answers.append(answer)
        if response.status_code == 503 and retry:
            await asyncio.sleep(float(answer.retry_after or 1))
            continue
        if response.is_success:
            command.outcome = "accepted"
            command.stored = list(response.json()["stored"])
            command.answered_at = time.monotonic()
        else:
            command.outcome = "refused"
        return


def _command_request(command: CaseCommand) -> tuple[str, dict[str, Any]]:
    base = f"/cases/{command.case_id}"
    if command.kind == "contact":
        at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=random.randint(1, 600))
        return f"{base}/contacts", {"contacted_at": at.isoformat(), "method": "in_person"}
    if command.kind == "assessment":
        return f"{base}/intake-assessment", {
            "needs": ["housing", "medical"],
            "release_signed_on": date.today().isoformat(),
        }
    return f"{base}/closure", {"reason": "graduated"}


@dataclass
class Load:
    """Officers and case managers at work until `stop` is awaited."""

    stack: Target
    record: LoadRecord = field(default_factory=LoadRecord)
    officers: int = 2
    case_managers: int = 2
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list["asyncio.Task[None]"] = field(default_factory=list)
    _assessed: set[UUID] = field(default_factory=set)
    _closed: set[UUID] = field(default_factory=set)

    def start(self) -> None:
        for n in range(self.officers):
            self._tasks.append(asyncio.create_task(self._officer(n)))
        for n in range(self.case_managers):
            self._tasks.append(asyncio.create_task(self._case_manager(n)))

    async def stop(self) -> LoadRecord:
        """Let every request in flight reach its definite answer, then stop."""
        self._stopping.set()
        await asyncio.gather(*self._tasks)
        return self.record

    def accepted_count(self) -> int:
        return len(self.record.accepted_referrals())

    def accepted_commands(self) -> int:
        return sum(1 for c in self.record.commands if c.outcome == "accepted")

    async def _officer(self, n: int) -> None:
        token = self.stack.token(f"officer-{n}", "officer", "pontiac-pd")
        async with self.stack.client("intake", token) as http:
            await self._every(REFERRAL_EVERY_SECONDS, lambda: self._refer(http))

    async def _refer(self, http: httpx.AsyncClient) -> None:
        request = ReferralRequest(key=str(uuid4()), correlation_id=uuid4())
        self.record.referrals.append(request)
        await send_referral(http, request)

    async def _case_manager(self, n: int) -> None:
        token = self.stack.token("cm-1", "case_manager", CASE_AGENCY)
        async with self.stack.client("casework", token) as http:
            await self._every(COMMAND_EVERY_SECONDS, lambda: self._work_a_case(http))

    async def _work_a_case(self, http: httpx.AsyncClient) -> None:
        open_cases = [
            r.case_id for r in self.record.accepted_referrals() if r.case_id not in self._closed
        ]
        if not open_cases:
            return
        case_id = random.choice(open_cases)
        kind: CommandKind = "contact"
        if case_id not in self._assessed and random.random() < 0.3:
            kind = "assessment"
        elif len(open_cases) > 10 and random.random() < 0.05:
            kind = "closure"
        command = CaseCommand(kind, case_id, uuid4())
        self.record.commands.append(command)
        await send_command(http, command)
        if command.outcome == "accepted":
            if kind == "assessment":
                self._assessed.add(case_id)
            elif kind == "closure":
                self._closed.add(case_id)

    async def _every(self, seconds: float, work: Callable[[], Awaitable[None]]) -> None:
        while not self._stopping.is_set():
            await work()
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
            except TimeoutError:
                pass
