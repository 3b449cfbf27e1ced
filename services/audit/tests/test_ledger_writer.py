"""The ledger writer against the real bus: a writer that takes over keeps each stream in order
(what the writer before it fetched and never acked comes first, not an ack wait later behind
newer events), and what can never be appended is parked once, however often it comes."""

import asyncio
from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from audit.adapters.checkpoint_store import Checkpointer
from audit.adapters.ledger_writer import LedgerWriter, WriterConfig
from audit.domain.checkpoint import CheckpointPolicy
from offramp_contracts import Actor, EventEnvelope
from offramp_contracts.events.casework import ClientEngaged
from servicekit.events import new_event
from servicekit.eventstore import EventStore
from servicekit.jetstream import ensure_stream
from servicekit.outbox import notify_channel
from servicekit.settings import ServiceSettings
from tests.conftest import wait_for
from tests.producers import PRODUCER_KEYS, SIGNERS

ACK_WAIT = 60.0


def engaged(case_id: Any, version: int) -> EventEnvelope:
    return new_event(
        ClientEngaged(case_id=case_id, contact_id=uuid4()),
        stream_id=f"case-{case_id}",
        stream_version=version,
        jurisdiction="pontiac",
        actor=Actor(subject="cm-1", agency="alliance", role="case_manager"),
        correlation_id=uuid4(),
        causation_id=None,
    )


async def a_writer(
    servers: Any, isolation: Any, nats_client: NATS, ack_wait: float
) -> tuple[LedgerWriter, JetStreamContext]:
    js = nats_client.jetstream()
    await ensure_stream(js, ServiceSettings(**isolation.settings(servers)))
    writer = LedgerWriter(
        config=WriterConfig(
            dsn=isolation.database_url,
            schema="audit",
            stream=isolation.stream_name,
            subjects=[f"{isolation.subject_root}.>"],
            batch_size=10,
            ack_wait_seconds=ack_wait,
            lease_retry_seconds=0.2,
        ),
        js=js,
        keyring=PRODUCER_KEYS,
        checkpointer=Checkpointer(
            key=Ed25519PrivateKey.generate(),
            policy=CheckpointPolicy(every_entries=1000, every_seconds=3600),
            origin="offramp-ledger",
            jurisdiction="county",
            store=EventStore(
                subject_root=isolation.subject_root, notify_channel=notify_channel("audit")
            ),
        ),
    )
    return writer, js


async def test_what_a_dead_writer_left_unacked_enters_the_ledger_before_what_followed(
    servers: Any, isolation: Any, nats_client: NATS, owner_pool: asyncpg.Pool
) -> None:
    writer, js = await a_writer(servers, isolation, nats_client, ACK_WAIT)
    subject = f"{isolation.subject_root}.pontiac.casework.ClientEngaged"
    case_id = uuid4()
    first, second = engaged(case_id, 1), engaged(case_id, 2)

    # The writer before: it fetched the stream's first event and died before acking it.
    await js.publish(subject, first.wire_json(), headers=SIGNERS["casework"].headers(first))
    await js.add_consumer(isolation.stream_name, config=writer.consumer_config())
    dead = await js.pull_subscribe_bind(
        durable=writer.consumer_config().durable_name, stream=isolation.stream_name
    )
    [held] = await dead.fetch(1, timeout=10)
    assert held.data == first.wire_json()
    await dead.unsubscribe()
    await js.publish(subject, second.wire_json(), headers=SIGNERS["casework"].headers(second))

    task = asyncio.create_task(writer.run())
    try:

        async def appended() -> list[Any]:
            rows = await owner_pool.fetch("SELECT event_id FROM ledger ORDER BY seq")
            return [row["event_id"] for row in rows] if len(rows) >= 2 else []

        order = await wait_for(
            appended, timeout=ACK_WAIT / 3, what="both events, well before the ack wait"
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert order == [first.event_id, second.event_id]


async def test_a_message_that_is_no_event_is_parked_once_though_its_ack_was_lost(
    servers: Any,
    isolation: Any,
    nats_client: NATS,
    owner_pool: asyncpg.Pool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer, js = await a_writer(servers, isolation, nats_client, ack_wait=1)
    acks: list[int] = []
    really_ack = Msg.ack

    async def first_ack_lost(msg: Msg) -> None:
        acks.append(msg.metadata.num_delivered)
        if len(acks) > 1:
            await really_ack(msg)

    monkeypatch.setattr(Msg, "ack", first_ack_lost)
    await js.publish(f"{isolation.subject_root}.pontiac.casework.CaseClosed", b"{not an event")

    task = asyncio.create_task(writer.run())
    try:
        await wait_for(lambda: _at_least(acks, 2), timeout=30, what="the message to come back")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert acks[:2] == [1, 2]
    letters = await owner_pool.fetch("SELECT consumer, body FROM dead_letters")
    assert [(r["consumer"], bytes(r["body"])) for r in letters] == [
        ("audit-ledger-v2", b"{not an event")
    ]
    assert await owner_pool.fetchval("SELECT count(*) FROM ledger") == 0


async def _at_least(items: list[int], n: int) -> bool:
    return len(items) >= n
