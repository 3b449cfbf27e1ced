"""The outbox relay: events per second from commit to JetStream ack, against raw pipelined
JetStream publishes of the same messages from nats-py on the same server.

The relay publishes one message at a time, in stream order, and deletes rows only after their
acks (ADR 0003); the baseline keeps a window of publishes in flight and ignores order.
"""

import asyncio
import time
from uuid import uuid4

import asyncpg
import nats

from bench.harness import loadavg, publish_all, report, servers
from offramp_contracts import Actor
from offramp_contracts.events.casework import ClientEngaged
from servicekit.events import new_event
from servicekit.eventstore import EventStore
from servicekit.jetstream import ensure_stream
from servicekit.migrations import migrate, plumbing_migrations
from servicekit.outbox import OutboxRelay, notify_channel
from servicekit.settings import ServiceSettings

SIZES = {"smoke": 100, "quick": 2000, "full": 50000}
WINDOW = 256
ACTOR = Actor(subject="bench", agency="offramp", role="system")


async def measure(size: str) -> None:
    count = SIZES[size]
    load = loadavg()
    with servers() as running:
        dsn = await running.postgres.create_database("bench_relay")
        settings = ServiceSettings(
            database_url=dsn,
            nats_url=running.nats.url,
            db_schema="relay",
            subject_root="bench",
            stream_name="BENCH",
        )
        conn = await asyncpg.connect(dsn)
        await conn.execute("CREATE SCHEMA relay")
        await conn.execute("SET search_path TO relay")
        await migrate(conn, "relay", plumbing_migrations())
        store = EventStore(subject_root="bench", notify_channel=notify_channel("relay"))
        events = [
            new_event(
                ClientEngaged(case_id=uuid4(), contact_id=uuid4()),
                stream_id=f"case-{n}",
                stream_version=1,
                jurisdiction="pontiac",
                actor=ACTOR,
                correlation_id=uuid4(),
                causation_id=None,
            )
            for n in range(count)
        ]
        for start in range(0, count, 500):
            async with conn.transaction():
                for event in events[start : start + 500]:
                    await store.append(conn, event.stream_id, 0, [event])

        client = await nats.connect(running.nats.url, **running.nats.connect_options())
        js = client.jetstream()
        await ensure_stream(js, settings)
        relay = OutboxRelay(dsn=dsn, schema="relay", js=js, stream="BENCH")
        began = time.perf_counter()
        while await relay.drain_once(conn):
            pass
        relay_seconds = time.perf_counter() - began
        assert relay.published == count, (relay.published, count)

        raw = [("bench.pontiac.casework.Raw", e.wire_json()) for e in events]
        raw_seconds = await publish_all(js, raw, window=WINDOW)
        await client.close()
        await conn.close()

    ours, theirs = count / relay_seconds, count / raw_seconds
    report(
        "outbox_relay",
        size,
        [
            {
                "events": count,
                "relay_events_per_s": round(ours, 1),
                "raw_pipelined_publishes_per_s": round(theirs, 1),
                "ratio": round(ours / theirs, 3),
            }
        ],
        load_before=load,
        notes=f"relay drains {count} committed events; raw publishes keep {WINDOW} in flight",
    )


def main(size: str) -> None:
    asyncio.run(measure(size))
