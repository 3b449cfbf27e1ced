"""Audit ledger ingest: events per second taken off the bus and appended with their hashes,
against a bare JetStream pull-consume-and-ack loop over the same stream in the same batch size.

The ledger is filled with whole case histories (admission, opening, assignment, contacts,
engagement, closing), published onto JetStream as the services' relays publish them, each
signed by its producer (intake's and casework's event keys, put in the keyring the audit
process trusts), while audit runs as its own process. `fill` is shared with the replay
benchmark.
"""

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

import nats
import uuid6
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nats.js import JetStreamContext

from bench.harness import loadavg, report, servers
from bench.system import CM_AGENCY, JURISDICTION, OFFICER_AGENCY, STREAM, Stack, stack, started
from offramp_contracts import Actor, EventEnvelope, subject_for
from offramp_contracts.events.base import EventPayload, StaffRef
from offramp_contracts.events.casework import (
    CaseClosed,
    CaseManagerAssigned,
    CaseOpened,
    ClientEngaged,
    ContactLogged,
)
from offramp_contracts.events.intake import ReferralAdmitted
from offramp_contracts.identifiers import case_id_for_referral
from offramp_devstack.waiting import wait_for
from servicekit.event_keys import add_to_keyring
from servicekit.events import new_event
from servicekit.provenance import EventSigner

# Cases, of seven events each: quick ≈ 2,100 events, full ≈ 50,000.
SIZES = {"smoke": 10, "quick": 300, "full": 7200}
BATCH = 256  # the ledger writer's default batch size


def case_history(n: int) -> tuple[UUID, list[EventEnvelope]]:
    """One participant's path through the programme as its services would have stored it."""
    referral_id = uuid6.uuid7()
    case_id = case_id_for_referral(referral_id)
    officer = StaffRef(subject=f"officer-{n % 10}", agency=OFFICER_AGENCY)
    manager = StaffRef(subject=f"cm-{n % 5}", agency=CM_AGENCY)
    contacts = [uuid4(), uuid4()]
    now = datetime.now(UTC)
    case: list[EventPayload] = [
        CaseOpened(
            case_id=case_id,
            referral_id=referral_id,
            door="social_contact",
            referring_officer=officer,
            policy_version="2026.1",
        ),
        CaseManagerAssigned(case_id=case_id, case_manager=manager),
        ContactLogged(
            case_id=case_id,
            contact_id=contacts[0],
            logged_by=manager,
            contacted_at=now,
            method="in_person",
            notes="met at the drop-in centre; talked about housing and an ID card",
        ),
        ClientEngaged(case_id=case_id, contact_id=contacts[0]),
        ContactLogged(
            case_id=case_id,
            contact_id=contacts[1],
            logged_by=manager,
            contacted_at=now,
            method="phone",
            notes="follow-up call",
        ),
        CaseClosed(case_id=case_id, referral_id=referral_id, reason="graduated"),
    ]
    admitted = ReferralAdmitted(
        referral_id=referral_id,
        door="social_contact",
        referring_officer=officer,
        policy_version="2026.1",
        from_waitlist=False,
    )
    correlation = uuid4()
    events = [
        _event(admitted, f"referral-{referral_id}", 3, officer, "officer", correlation),
        *(
            _event(payload, f"case-{case_id}", version, manager, "case_manager", correlation)
            for version, payload in enumerate(case, start=1)
        ),
    ]
    return case_id, events


def _event(
    payload: EventPayload, stream: str, version: int, who: StaffRef, role: str, correlation: UUID
) -> EventEnvelope:
    return new_event(
        payload,
        stream_id=stream,
        stream_version=version,
        jurisdiction=JURISDICTION,
        actor=Actor(subject=who.subject, agency=who.agency, role=role),
        correlation_id=correlation,
        causation_id=None,
    )


@dataclass(frozen=True)
class Filled:
    case_ids: list[UUID]
    events: int
    seconds: float  # from the first publish until every event was in the ledger
    publish_seconds: float  # of which publishing them all took this long


def signers(config: Stack) -> dict[str, EventSigner]:
    """An event key for each producer of the histories, in the keyring audit reads (the
    embedded default's, beside the token issuer's key): the ledger appends only what a
    producer it trusts signed, and parks the rest."""
    keyring = config.servers.home / "event-keys"
    made = {p: EventSigner(p, Ed25519PrivateKey.generate()) for p in ("intake", "casework")}
    for signer in made.values():
        add_to_keyring(keyring, signer.public)
    return made


async def publish_signed(
    js: JetStreamContext, messages: list[tuple[str, bytes, dict[str, str]]], *, window: int = 256
) -> float:
    """Publishes (subject, body, headers) with `window` acks outstanding, each with a fresh
    Nats-Msg-Id beside its signature headers; returns the seconds it took."""
    began = time.perf_counter()
    for start in range(0, len(messages), window):
        await asyncio.gather(
            *(
                js.publish(subject, body, headers={**headers, "Nats-Msg-Id": str(uuid4())})
                for subject, body, headers in messages[start : start + window]
            )
        )
    return time.perf_counter() - began


async def fill(config: Stack, cases: int) -> Filled:
    """Publishes `cases` histories onto the bus, signed by their producers, while audit runs and
    waits until every event is in the ledger."""
    histories = [case_history(n) for n in range(cases)]
    events = [e for _, history in histories for e in history]
    keys = signers(config)
    messages = []
    for e in events:
        subject = subject_for("bench", e.jurisdiction, e.event_type)
        messages.append((subject, e.wire_json(), keys[subject.split(".")[2]].headers(e)))
    ids = [e.event_id for e in events]
    conn = await config.connect("audit")
    client = await nats.connect(config.servers.nats.url, **config.servers.nats.connect_options())
    try:

        async def all_in_ledger() -> bool:
            # max(seq) is an index lookup; the exact count runs only once it can be true (the
            # ledger also holds the CheckpointSigned events audit publishes on its own).
            if await conn.fetchval("SELECT coalesce(max(seq), 0) FROM ledger") < len(ids):
                return False
            found = await conn.fetchval(
                "SELECT count(*) FROM ledger WHERE event_id = ANY($1::uuid[])", ids
            )
            return bool(found == len(ids))

        began = time.perf_counter()
        publish_seconds = await publish_signed(client.jetstream(), messages)
        await wait_for(
            all_in_ledger, timeout=60 + len(ids) / 50, what="every event in the ledger", every=0.1
        )
        seconds = time.perf_counter() - began
    finally:
        await client.close()
        await conn.close()
    return Filled([case_id for case_id, _ in histories], len(ids), seconds, publish_seconds)


async def raw_consume(js: JetStreamContext, count: int) -> float:
    """A fresh durable pull consumer over the same stream: fetch, ack each, until `count`."""
    sub = await js.pull_subscribe("bench.>", durable="bench-raw", stream=STREAM)
    consumed = 0
    began = time.perf_counter()
    while consumed < count:
        try:
            msgs = await sub.fetch(BATCH, timeout=10)
        except TimeoutError:  # nats-py's own or asyncio's; the messages are there, go on
            continue
        for msg in msgs:
            await msg.ack()
        consumed += len(msgs)
    seconds = time.perf_counter() - began
    await sub.unsubscribe()
    return seconds


async def measure_ingest(size: str) -> None:
    load = loadavg()
    with servers() as running:
        config = await stack(running, "bench_ledger")
        async with started(config, "audit"):
            filled = await fill(config, SIZES[size])
            client = await nats.connect(running.nats.url, **running.nats.connect_options())
            try:
                raw_seconds = await raw_consume(client.jetstream(), filled.events)
            finally:
                await client.close()
    count = filled.events
    ours, theirs = count / filled.seconds, count / raw_seconds
    report(
        "audit_ingest",
        size,
        [
            {
                "events": count,
                "ledger_events_per_s": round(ours, 1),
                "publishing_s": round(filled.publish_seconds, 2),
                "raw_consume_ack_per_s": round(theirs, 1),
                "ratio": round(ours / theirs, 3),
            }
        ],
        load_before=load,
        notes=(
            f"{count} events of {SIZES[size]} case histories published while audit runs, until "
            f"all are in the ledger; raw: a bare pull consumer fetching {BATCH} at a time and "
            "acking each, over the same stream"
        ),
    )


def main(size: str) -> None:
    asyncio.run(measure_ingest(size))
