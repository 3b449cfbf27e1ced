"""The batch inbox consumer: a fetched batch in one transaction, with the inbox's promise kept
(one effect per event id, however often it is delivered or re-driven), and anything unusual in
a batch handled one message at a time (a malformed message parked, the rest handled once)."""

from collections.abc import Sequence
from typing import Any

import asyncpg
import nats.js.errors
from nats.js import JetStreamContext

from servicekit.batch_inbox import BatchInboxConsumer
from servicekit.inbox import ConsumerPolicy, Delivered
from servicekit.settings import ServiceSettings

POLICY = ConsumerPolicy(
    max_attempts=3, backoff_seconds=(0.2,), ack_wait_seconds=5, fetch_timeout_seconds=0.5,
    batch_size=64,
)  # fmt: skip


class Recorder:
    """Records each event it is given, one row a call: a second effect would show."""

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []
        self.single = 0

    async def one(self, conn: asyncpg.Connection, delivered: Delivered) -> None:
        self.single += 1
        await conn.execute("INSERT INTO effects (event_id) VALUES ($1)", delivered.event.event_id)

    async def many(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        self.batch_sizes.append(len(batch))
        await conn.executemany(
            "INSERT INTO effects (event_id) VALUES ($1)", [(d.event.event_id,) for d in batch]
        )


def consumer(
    settings: ServiceSettings, pool: asyncpg.Pool, js: JetStreamContext, recorder: Recorder
) -> BatchInboxConsumer:
    return BatchInboxConsumer(
        pool=pool, js=js, stream=settings.stream_name, name="kit-batch",
        subjects=[f"{settings.subject_root}.>"], handler=recorder.one,
        batch_handler=recorder.many, policy=POLICY,
    )  # fmt: skip


async def caught_up(
    js: JetStreamContext, settings: ServiceSettings, name: str, wait_for: Any
) -> None:
    last = (await js.stream_info(settings.stream_name)).state.last_seq

    async def done() -> bool:
        try:
            info = await js.consumer_info(settings.stream_name, name)
        except nats.js.errors.NotFoundError:
            return False
        return bool(
            not info.num_pending and not info.num_ack_pending and info.ack_floor.stream_seq == last
        )

    await wait_for(done, timeout=20, what=f"{name} to ack everything")


async def publish(js: JetStreamContext, settings: ServiceSettings, events: Any, event: Any,
                  msg_id: str) -> None:  # fmt: skip
    await js.publish(
        events.subject(event), event.wire_json(), stream=settings.stream_name,
        headers={"Nats-Msg-Id": msg_id},
    )  # fmt: skip


async def test_a_batch_has_one_effect_per_event_id_even_for_copies_and_events_handled_before(
    settings: ServiceSettings, pool: asyncpg.Pool, js: JetStreamContext, events: Any,
    effects: Any, background: Any, wait_for: Any,
) -> None:  # fmt: skip
    recorder = Recorder()
    batch = consumer(settings, pool, js, recorder)
    sent = [events.engaged(f"case-{n}", 1) for n in range(40)]
    # Handled before the batch comes (a rebuild resumed, a second redrive of the same ledger).
    assert await batch.handle(Delivered(sent[0], events.subject(sent[0])))
    for n, event in enumerate(sent):
        await publish(js, settings, events, event, f"first-{n}")
    for n, event in enumerate(sent[:10]):  # copies under other message ids
        await publish(js, settings, events, event, f"again-{n}")
    background(batch.run())

    await caught_up(js, settings, batch.name, wait_for)
    assert await effects.count() == 40
    assert all([await effects.count(e.event_id) == 1 for e in sent])
    assert await pool.fetchval("SELECT count(*) FROM inbox WHERE consumer = 'kit-batch'") == 40
    assert batch.handled == 40  # one by handle() above, 39 in batches
    assert recorder.single == 1 and sum(recorder.batch_sizes) == 39 and batch.batches >= 1


async def test_a_malformed_message_in_a_batch_is_parked_and_the_rest_handled_once(
    settings: ServiceSettings, pool: asyncpg.Pool, js: JetStreamContext, events: Any,
    effects: Any, background: Any, wait_for: Any,
) -> None:  # fmt: skip
    recorder = Recorder()
    batch = consumer(settings, pool, js, recorder)
    sent = [events.engaged(f"case-{n}", 1) for n in range(5)]
    for n, event in enumerate(sent[:2]):
        await publish(js, settings, events, event, f"first-{n}")
    subject = f"{settings.subject_root}.pontiac.casework.ClientEngaged"
    await js.publish(subject, b"not an event", stream=settings.stream_name)
    for n, event in enumerate(sent[2:], start=2):
        await publish(js, settings, events, event, f"first-{n}")
    background(batch.run())

    await caught_up(js, settings, batch.name, wait_for)
    assert all([await effects.count(e.event_id) == 1 for e in sent])
    assert await effects.count() == 5
    letters = await pool.fetch("SELECT error FROM dead_letters")
    assert [r["error"].split(":")[0] for r in letters] == ["malformed event"]
