"""The outbox relay: events per second from commit to JetStream ack, against raw pipelined
JetStream publishes of the same messages from nats-py on the same server.

The relay sends each batch of 256 rows in one burst in stream order, awaits the acks in order,
and deletes rows only after their acks (ADR 0003). Two baselines keep the same window of
publishes in flight and ignore order: `js.publish` calls gathered (a task and a request each),
and bursts of `js.publish_async` (the least nats-py can do per message). A quick run takes a fraction of a second a side, so one
hiccup of a shared machine moves it: the two sides take turns for a few rounds, and the figures
are each side's median.
"""

import asyncio
import statistics
import time
from uuid import uuid4

import asyncpg
import nats
from nats.js import JetStreamContext

from bench.harness import loadavg, publish_all, report, servers
from offramp_contracts import Actor, EventEnvelope
from offramp_contracts.events.casework import ClientEngaged
from servicekit.events import new_event
from servicekit.eventstore import EventStore
from servicekit.jetstream import ensure_stream
from servicekit.migrations import migrate, plumbing_migrations
from servicekit.outbox import OutboxRelay, notify_channel
from servicekit.settings import ServiceSettings

SIZES = {"smoke": 100, "quick": 2000, "full": 50000}
ROUNDS = {"smoke": 1, "quick": 5, "full": 3}
WINDOW = 256
ACTOR = Actor(subject="bench", agency="offramp", role="system")


async def publish_async_all(
    js: JetStreamContext, messages: list[tuple[str, bytes]], *, window: int
) -> float:
    """Publishes (subject, body) pairs in bursts of `window` with `publish_async`, each with a
    fresh Nats-Msg-Id, awaiting each burst's acks; returns the seconds it took."""
    began = time.perf_counter()
    for start in range(0, len(messages), window):
        acks = [
            await js.publish_async(subject, body, headers={"Nats-Msg-Id": str(uuid4())})
            for subject, body in messages[start : start + window]
        ]
        await asyncio.gather(*acks)
    return time.perf_counter() - began


def _events(count: int, round_: int) -> list[EventEnvelope]:
    return [
        new_event(
            ClientEngaged(case_id=uuid4(), contact_id=uuid4()),
            stream_id=f"case-{round_}-{n}",
            stream_version=1,
            jurisdiction="pontiac",
            actor=ACTOR,
            correlation_id=uuid4(),
            causation_id=None,
        )
        for n in range(count)
    ]


async def measure(size: str) -> None:
    count, rounds = SIZES[size], ROUNDS[size]
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
        client = await nats.connect(running.nats.url, **running.nats.connect_options())
        js = client.jetstream()
        await ensure_stream(js, settings)
        relay = OutboxRelay(dsn=dsn, schema="relay", js=js, stream="BENCH")

        relay_seconds: list[float] = []
        raw_seconds: list[float] = []
        async_seconds: list[float] = []
        for round_ in range(rounds):
            events = _events(count, round_)
            for start in range(0, count, 500):
                async with conn.transaction():
                    for event in events[start : start + 500]:
                        await store.append(conn, event.stream_id, 0, [event])
            began = time.perf_counter()
            relayed = await relay.drain(conn)
            relay_seconds.append(time.perf_counter() - began)
            assert relayed == count, (relayed, count)

            raw = [("bench.pontiac.casework.Raw", e.wire_json()) for e in events]
            raw_seconds.append(await publish_all(js, raw, window=WINDOW))
            async_seconds.append(await publish_async_all(js, raw, window=WINDOW))
        assert relay.published == count * rounds, (relay.published, count * rounds)
        await client.close()
        await conn.close()

    ours = count / statistics.median(relay_seconds)
    theirs = count / statistics.median(raw_seconds)
    floor = count / statistics.median(async_seconds)
    report(
        "outbox_relay",
        size,
        [
            {
                "events": count,
                "rounds": rounds,
                "relay_events_per_s": round(ours, 1),
                "raw_pipelined_publishes_per_s": round(theirs, 1),
                "ratio": round(ours / theirs, 3),
                "raw_publish_async_per_s": round(floor, 1),
                "ratio_to_publish_async": round(ours / floor, 3),
                "relay_per_s_each_round": [round(count / s) for s in relay_seconds],
                "raw_per_s_each_round": [round(count / s) for s in raw_seconds],
                "publish_async_per_s_each_round": [round(count / s) for s in async_seconds],
            }
        ],
        load_before=load,
        notes=(
            f"relay drains {count} committed events a round, {rounds} rounds taking turns with "
            f"raw publishes of the same messages ({WINDOW} in flight: gathered js.publish, then "
            "bursts of js.publish_async); medians of the rounds"
        ),
    )


def main(size: str) -> None:
    asyncio.run(measure(size))
