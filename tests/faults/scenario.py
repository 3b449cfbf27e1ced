"""The faults, in turn, while the load runs: every service SIGKILLed and restarted, nats-server
and PostgreSQL SIGKILLed and restarted, a consumer paused past its ack wait, a duplicate and a
malformed message put straight onto the stream. Then the load stops and the system is left to
settle; the tests reconcile what it holds against what the load was told."""

import contextlib
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID, uuid4

import asyncpg
import nats
from nats.js import JetStreamContext

from offramp_contracts import EventEnvelope, subject_for
from offramp_devstack.waiting import wait_for
from tests.bus import signed_headers
from tests.faults.load import (
    Answer,
    CaseCommand,
    Load,
    LoadRecord,
    ReferralRequest,
    Target,
    send_command,
    send_referral,
)
from tests.faults.stack import (
    CASE_AGENCY,
    CONSUMER_ACK_WAIT_SECONDS,
    SERVICES,
    STREAM,
    SUBJECT_ROOT,
    Stack,
)
from tests.referrals import referral_body

PAUSED_SERVICE = "notify"
PAUSED_CONSUMER = "notify-triggers-v1"
# Not an event at all; on a subject that an intake, a notify, a casework consumer and the
# ledger all take.
MALFORMED_SUBJECT = f"{SUBJECT_ROOT}.pontiac.casework.CaseClosed"
MALFORMED_BODY = b'{"event_type": "CaseClosed", "data": "this is not an event"}'
DUPLICATED = (("intake", "ReferralAdmitted"), ("casework", "CaseOpened"))


def fault_rounds() -> int:
    """How many times every kill happens in one run: 1 in `make test`; a soak before a release
    sets OFFRAMP_FAULT_ROUNDS=20 (the reconciliation afterwards is the same)."""
    rounds = int(os.environ.get("OFFRAMP_FAULT_ROUNDS", "1"))
    if rounds < 1:
        raise ValueError(f"OFFRAMP_FAULT_ROUNDS must be 1 or more, not {rounds}")
    return rounds


class System(Target, Protocol):
    """A running system the scenario's steps read and write: the fault suite's, or the
    scale-out test's."""

    async def connect(self) -> asyncpg.Connection: ...

    @property
    def nats_servers(self) -> list[str]: ...

    def nats_connect_options(self) -> dict[str, str]:
        """What `nats.connect` takes besides the servers: the bus's admin credentials."""
        ...


@dataclass
class OutageProbe:
    """A write sent while PostgreSQL was down, and what came of it."""

    referral: ReferralRequest
    contact: CaseCommand
    during: list[Answer] = field(default_factory=list)


@dataclass(frozen=True)
class Duplicate:
    """A real event published again under a new message id."""

    event_id: UUID
    event_type: str
    subject: str
    stored_again: bool  # JetStream kept the copy: consumers were really handed it twice


@dataclass
class Record:
    load: LoadRecord
    probes: list[OutageProbe]  # one for each round's PostgreSQL outage
    duplicates: list[Duplicate]
    paused: dict[str, Any]
    faults: list[str] = field(default_factory=list)
    # How long each step took, from the fault until the load was served again.
    seconds: dict[str, float] = field(default_factory=dict)


async def run_scenario(stack: Stack) -> Record:
    await register_case_manager(stack)
    load = Load(stack)
    steps = Steps()
    load.start()
    try:
        async with steps.timed("warm-up"):
            await progress(load, referrals=6, commands=4, what="the load to warm up")
        probes = []
        for _ in range(fault_rounds()):
            for name in SERVICES:
                async with steps.fault(f"kill -9 {name}", load):
                    stack.services[name].kill()
                    await stack.services[name].start()
            async with steps.fault("kill -9 nats-server", load):
                stack.nats.server.kill()
                await stack.restart_nats()
                await stack.all_ready()
            async with steps.fault("kill -9 postgres", load):
                probes.append(await postgres_outage(stack, load))
        async with steps.fault(f"SIGSTOP {PAUSED_SERVICE} past its ack wait", load):
            paused = await pause_past_ack_wait(stack)
        async with steps.fault("duplicates and a malformed message", load):
            duplicates = await publish_duplicates_and_malformed(stack)
    finally:
        record = await load.stop()
    async with steps.timed("settling"):
        await settled(stack)
    return Record(record, probes, duplicates, paused, steps.faults, steps.seconds)


@dataclass
class Steps:
    faults: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.asynccontextmanager
    async def timed(self, name: str) -> AsyncIterator[None]:
        began = time.monotonic()
        yield
        self.seconds[name] = round(time.monotonic() - began, 1)

    @contextlib.asynccontextmanager
    async def fault(self, name: str, load: Load) -> AsyncIterator[None]:
        """The fault, then until officers and case managers are served again."""
        async with self.timed(name):
            yield
            self.faults.append(name)
            await progress(load, referrals=2, commands=2, what=f"work to go on after {name}")


async def register_case_manager(stack: Target) -> None:
    token = stack.token("sup-1", "supervisor", CASE_AGENCY)
    async with stack.client("casework", token) as http:
        response = await http.put("/case-managers/cm-1")
    assert response.status_code == 204, response.text


async def progress(load: Load, *, referrals: int, commands: int, what: str) -> None:
    """Wait until the load has had this many more referrals and commands accepted."""
    want_referrals = load.accepted_count() + referrals
    want_commands = load.accepted_commands() + commands

    async def moved_on() -> bool:
        return load.accepted_count() >= want_referrals and load.accepted_commands() >= want_commands

    await wait_for(moved_on, timeout=90, what=what, every=0.1)


async def postgres_outage(stack: Stack, load: Load) -> OutageProbe:
    """Kill PostgreSQL; while it is down, a referral and a contact must get 503 with
    Retry-After as problem+json; then start it again."""
    officer = stack.token("officer-probe", "officer", "pontiac-pd")
    staff = stack.token("cm-1", "case_manager", CASE_AGENCY)
    accepted = load.record.accepted_referrals()
    probe = OutageProbe(
        referral=ReferralRequest(key=str(uuid4()), correlation_id=uuid4()),
        contact=CaseCommand("contact", accepted[0].case_id, uuid4()),
    )
    stack.postgres.server.kill()
    async with stack.client("intake", officer) as intake, stack.client("casework", staff) as cw:

        async def refused_for_now() -> bool:
            response = await intake.post(
                "/referrals",
                json=_probe_body(),
                headers={
                    "Idempotency-Key": probe.referral.key,
                    "X-Correlation-Id": str(probe.referral.correlation_id),
                },
            )
            probe.during.append(Answer.of(response))
            return response.status_code == 503

        await wait_for(refused_for_now, timeout=30, what="a 503 while postgres is down")
        await send_command(cw, probe.contact, retry=False)
        probe.during.append(probe.contact.answer or Answer(status=None))
    await stack.restart_postgres()
    await stack.all_ready()
    async with stack.client("intake", officer) as intake:
        # The officer sends the same referral again, with the same key, now that it is back.
        await send_referral(intake, probe.referral, body=_probe_body())
    return probe


def _probe_body() -> dict[str, Any]:
    return referral_body("social_contact")


async def pause_past_ack_wait(stack: Stack) -> dict[str, Any]:
    """SIGSTOP a consumer's process while it holds messages, until they have been unacked for
    longer than its ack wait, then let it go on."""
    service = stack.services[PAUSED_SERVICE]
    async with jetstream(stack) as js:
        for _ in range(5):
            service.pause()
            try:
                held = await wait_for(
                    lambda: _held_past_ack_wait(js),
                    timeout=CONSUMER_ACK_WAIT_SECONDS * 4,
                    what="messages held by the paused consumer past its ack wait",
                    every=0.1,
                )
            except AssertionError:
                held = None  # it held nothing when it stopped: let it fetch, and try again
            finally:
                service.resume()
            await service.wait_ready()
            if held is not None:
                found: dict[str, Any] = held
                return found
    raise AssertionError(f"{PAUSED_CONSUMER} never held a message while paused")


async def _held_past_ack_wait(js: JetStreamContext) -> dict[str, Any] | None:
    """The paused consumer's unacked messages, once the last of them was delivered longer
    than an ack wait ago (and more)."""
    info = await js.consumer_info(STREAM, PAUSED_CONSUMER)
    last = info.delivered.last_active if info.delivered else None
    if not info.num_ack_pending or last is None:
        return None
    held_for = (datetime.now(UTC) - last).total_seconds()
    if held_for <= CONSUMER_ACK_WAIT_SECONDS * 1.5:
        return None
    return {"num_ack_pending": info.num_ack_pending, "held_seconds": round(held_for, 1)}


async def publish_duplicates_and_malformed(stack: System) -> list[Duplicate]:
    """A copy of real events under a new message id (past JetStream's duplicate window, as a
    republished outbox row would be), and a message that is no event at all."""
    duplicates = []
    conn = await stack.connect()
    try:
        async with jetstream(stack) as js:
            for schema, event_type in DUPLICATED:
                body = await conn.fetchval(
                    f"SELECT envelope FROM {schema}.events WHERE event_type = $1 "
                    "ORDER BY position LIMIT 1",
                    event_type,
                )
                event = EventEnvelope.model_validate_json(body)
                subject = subject_for(SUBJECT_ROOT, event.jurisdiction, event.event_type)
                headers = signed_headers(stack, event, msg_id=f"copy-{event.event_id}")
                ack = await js.publish(subject, event.wire_json(), headers=headers)
                duplicates.append(
                    Duplicate(event.event_id, event.event_type, subject, not ack.duplicate)
                )
            await js.publish(
                MALFORMED_SUBJECT, MALFORMED_BODY, headers={"Nats-Msg-Id": str(uuid4())}
            )
    finally:
        await conn.close()
    return duplicates


async def settled(stack: System) -> None:
    """Nothing left to do anywhere: every outbox empty, every consumer has acked all it was
    given, and the ledger holds as many events as the four event stores, twice in a row."""
    conn = await stack.connect()
    last: tuple[int, ...] = ()
    try:
        async with jetstream(stack) as js:

            async def quiet() -> bool:
                nonlocal last
                now = await _activity(conn, js)
                outboxes, unacked, stored, ledger, _stream_last = now
                still = outboxes == 0 and unacked == 0 and stored == ledger and now == last
                last = now
                return still

            await wait_for(quiet, timeout=120, what="the system to settle", every=0.5)
    finally:
        await conn.close()


async def _activity(conn: asyncpg.Connection, js: JetStreamContext) -> tuple[int, ...]:
    outboxes = stored = 0
    for schema in SERVICES:
        outboxes += await conn.fetchval(f"SELECT count(*) FROM {schema}.outbox")
        stored += await conn.fetchval(f"SELECT count(*) FROM {schema}.events")
    ledger = await conn.fetchval("SELECT count(*) FROM audit.ledger")
    unacked = 0
    for info in await js.consumers_info(STREAM):
        unacked += (info.num_pending or 0) + (info.num_ack_pending or 0)
    stream_last = (await js.stream_info(STREAM)).state.last_seq
    return outboxes, unacked, stored, ledger, stream_last


@contextlib.asynccontextmanager
async def jetstream(stack: System) -> AsyncIterator[JetStreamContext]:
    """A JetStream context on a connection of its own, closed afterwards."""
    client = await nats.connect(stack.nats_servers, **stack.nats_connect_options())
    try:
        yield client.jetstream()
    finally:
        await client.close()
