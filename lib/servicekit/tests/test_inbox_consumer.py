"""The inbox consumer: one effect per event however often it is delivered, bounded retries,
and what cannot be handled parked where operators can replay or discard it, never blocking the
rest."""

import asyncio
import itertools
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import nats.js.errors
import pytest
from nats.js import JetStreamContext

from offramp_contracts import EventEnvelope, payload_of
from servicekit import dead_letters
from servicekit.inbox import ConsumerPolicy, Delivered, Handler, InboxConsumer, Unprocessable
from servicekit.settings import ServiceSettings

QUICK = ConsumerPolicy(
    max_attempts=3, backoff_seconds=(0.2,), ack_wait_seconds=5, fetch_timeout_seconds=0.5
)
NAME = "kit-consumer"


class Kit:
    """The pieces a consumer test works with, on the test's own stream and schema."""

    def __init__(
        self,
        settings: ServiceSettings,
        pool: asyncpg.Pool,
        js: JetStreamContext,
        events: Any,
        effects: Any,
        background: Any,
        wait_for: Any,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.js = js
        self.events = events
        self.effects = effects
        self.background = background
        self.wait_for = wait_for

    def consumer(self, handler: Handler, name: str = NAME) -> InboxConsumer:
        return InboxConsumer(
            pool=self.pool,
            js=self.js,
            stream=self.settings.stream_name,
            name=name,
            subjects=[f"{self.settings.subject_root}.>"],
            handler=handler,
            policy=QUICK,
        )

    def start(self, consumer: InboxConsumer) -> None:
        self.background(consumer.run())

    async def publish(self, event: EventEnvelope, *, msg_id: str | None = None) -> None:
        await self.js.publish(
            self.events.subject(event),
            event.wire_json(),
            stream=self.settings.stream_name,
            headers={"Nats-Msg-Id": msg_id or str(event.event_id)},
        )

    async def publish_raw(self, body: bytes) -> None:
        subject = f"{self.settings.subject_root}.pontiac.casework.ClientEngaged"
        await self.js.publish(subject, body, stream=self.settings.stream_name)

    async def caught_up(self, consumer: InboxConsumer) -> None:
        """Wait until the server has nothing left to give this consumer: all acked."""
        stream_last = (await self.js.stream_info(self.settings.stream_name)).state.last_seq

        async def done() -> bool:
            try:
                info = await self.js.consumer_info(self.settings.stream_name, consumer.name)
            except nats.js.errors.NotFoundError:
                return False  # the consumer's loop has not created its durable yet
            return bool(
                info.num_pending == 0
                and info.num_ack_pending == 0
                and info.ack_floor.stream_seq == stream_last
            )

        await self.wait_for(done, timeout=10, what=f"{consumer.name} to ack everything")

    async def inbox_rows(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM inbox"))

    async def letters(self) -> list[asyncpg.Record]:
        return list(await self.pool.fetch("SELECT * FROM dead_letters ORDER BY id"))

    async def parked_count(self) -> int:
        return len(await dead_letters.parked(self.pool))


@pytest.fixture
def kit(
    settings: ServiceSettings,
    pool: asyncpg.Pool,
    js: JetStreamContext,
    events: Any,
    effects: Any,
    background: Any,
    wait_for: Any,
) -> Kit:
    return Kit(settings, pool, js, events, effects, background, wait_for)


class Faulty:
    """A handler that records its effect and then fails for chosen events, a set number of
    times or until it is fixed; its failed effects must be rolled back with the inbox row."""

    def __init__(self, kit: Kit, fail_times: int | None = None) -> None:
        self.kit = kit
        self.fail_times = fail_times
        self.failing: set[UUID] = set()
        self.calls: dict[UUID, int] = {}
        self.called_at: dict[UUID, list[float]] = {}
        self.broken = True

    async def __call__(self, conn: asyncpg.Connection, delivered: Delivered) -> None:
        event_id = delivered.event.event_id
        self.calls[event_id] = self.calls.get(event_id, 0) + 1
        self.called_at.setdefault(event_id, []).append(asyncio.get_running_loop().time())
        await self.kit.effects.record(conn, delivered)
        if event_id not in self.failing or not self.broken:
            return
        if self.fail_times is None or self.calls[event_id] <= self.fail_times:
            raise RuntimeError(f"handler fault on attempt {self.calls[event_id]}")


async def test_an_event_delivered_twice_has_one_effect_and_one_inbox_row(kit: Kit) -> None:
    event = kit.events.engaged("case-1", 1)
    # Different message ids, so JetStream stores and delivers both copies.
    await kit.publish(event, msg_id="first-copy")
    await kit.publish(event, msg_id="second-copy")
    consumer = kit.consumer(kit.effects.record)
    kit.start(consumer)

    await kit.caught_up(consumer)
    assert await kit.effects.count(event.event_id) == 1
    assert await kit.inbox_rows() == 1
    assert consumer.handled == 1
    assert await kit.letters() == []


async def test_handle_runs_the_handler_once_per_event_id(kit: Kit) -> None:
    consumer = kit.consumer(kit.effects.record)
    event = kit.events.engaged("case-1", 1)
    delivered = Delivered(event, kit.events.subject(event))

    assert await consumer.handle(delivered) is True
    assert await consumer.handle(delivered) is False
    assert await kit.effects.count() == 1
    assert (
        await kit.pool.fetchval(
            "SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id = $2", NAME, event.event_id
        )
        == 1
    )


async def test_another_consumer_of_the_same_schema_handles_the_event_for_itself(kit: Kit) -> None:
    event = kit.events.engaged("case-1", 1)
    delivered = Delivered(event, kit.events.subject(event))

    assert await kit.consumer(kit.effects.record, name="one").handle(delivered) is True
    assert await kit.consumer(kit.effects.record, name="two").handle(delivered) is True
    assert await kit.effects.count() == 2


async def test_a_handler_that_fails_twice_then_succeeds_is_retried_and_has_one_effect(
    kit: Kit,
) -> None:
    handler = Faulty(kit, fail_times=2)
    event = kit.events.engaged("case-1", 1)
    handler.failing.add(event.event_id)
    await kit.publish(event)
    consumer = kit.consumer(handler)
    kit.start(consumer)

    await kit.wait_for(lambda: kit.effects.count(), timeout=10, what="the third attempt")
    await kit.caught_up(consumer)
    assert handler.calls[event.event_id] == 3
    # Each retry waited for the back-off rather than coming straight back.
    times = handler.called_at[event.event_id]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= QUICK.backoff_seconds[0] * 0.9, gaps
    assert await kit.effects.count() == 1
    assert await kit.inbox_rows() == 1
    assert await kit.letters() == []


async def test_a_handler_that_always_fails_parks_one_dead_letter_and_the_next_event_is_handled(
    kit: Kit,
) -> None:
    handler = Faulty(kit)
    poison, healthy = kit.events.engaged("case-1", 1), kit.events.engaged("case-2", 1)
    handler.failing.add(poison.event_id)
    await kit.publish(poison)
    await kit.publish(healthy)
    consumer = kit.consumer(handler)
    kit.start(consumer)

    await kit.wait_for(kit.parked_count, timeout=10, what="the poison event to be parked")
    await kit.caught_up(consumer)

    [letter] = await kit.letters()
    assert letter["consumer"] == NAME
    assert letter["event_id"] == poison.event_id
    assert letter["subject"] == kit.events.subject(poison)
    assert EventEnvelope.from_wire(letter["body"]) == poison
    assert letter["deliveries"] == QUICK.max_attempts
    assert letter["status"] == "parked"
    assert "handler fault" in letter["error"]
    assert handler.calls[poison.event_id] == QUICK.max_attempts
    assert await kit.effects.count(poison.event_id) == 0
    assert await kit.effects.count(healthy.event_id) == 1

    # The healthy event did not wait for the poison one to run out of attempts.
    healthy_at = await kit.pool.fetchval(
        "SELECT handled_at FROM inbox WHERE event_id = $1", healthy.event_id
    )
    assert healthy_at < letter["parked_at"]


async def test_an_event_the_handler_calls_unprocessable_is_parked_on_its_first_delivery(
    kit: Kit,
) -> None:
    async def cannot(conn: asyncpg.Connection, delivered: Delivered) -> None:
        await kit.effects.record(conn, delivered)
        raise Unprocessable("policy version 2019.1 is not held here")

    event = kit.events.engaged("case-1", 1)
    await kit.publish(event)
    consumer = kit.consumer(cannot)
    kit.start(consumer)

    await kit.wait_for(kit.parked_count, timeout=10, what="the event to be parked")
    await kit.caught_up(consumer)
    [letter] = await kit.letters()
    assert letter["deliveries"] == 1
    assert letter["error"] == "unprocessable: policy version 2019.1 is not held here"
    assert await kit.effects.count(event.event_id) == 0
    assert await kit.inbox_rows() == 0


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"hello": "world"}', b"\xff\xfe\x00", b""],
    ids=["broken-json", "not-an-envelope", "not-utf8", "empty"],
)
async def test_a_malformed_message_is_parked_at_once_and_the_next_event_is_handled(
    kit: Kit, body: bytes
) -> None:
    healthy = kit.events.engaged("case-1", 1)
    await kit.publish_raw(body)
    await kit.publish(healthy)
    consumer = kit.consumer(kit.effects.record)
    kit.start(consumer)

    await kit.wait_for(lambda: kit.effects.count(), timeout=10, what="the healthy event")
    await kit.caught_up(consumer)

    [letter] = await kit.letters()
    assert letter["event_id"] is None
    assert letter["deliveries"] == 1
    assert letter["body"] == body
    assert letter["error"].startswith("malformed event")
    assert await kit.effects.count(healthy.event_id) == 1


async def _park_one(kit: Kit, handler: Faulty) -> tuple[InboxConsumer, EventEnvelope, int]:
    event = kit.events.engaged("case-1", 1)
    handler.failing.add(event.event_id)
    await kit.publish(event)
    consumer = kit.consumer(handler)
    kit.start(consumer)
    await kit.wait_for(kit.parked_count, timeout=10, what="the event to be parked")
    await kit.caught_up(consumer)
    [letter] = await dead_letters.parked(kit.pool)
    return consumer, event, letter.id


async def test_replaying_a_parked_letter_after_the_fault_is_fixed_has_one_effect(kit: Kit) -> None:
    handler = Faulty(kit)
    consumer, event, letter_id = await _park_one(kit, handler)

    handler.broken = False
    assert await dead_letters.replay(kit.pool, letter_id, consumer) is True

    assert await kit.effects.count(event.event_id) == 1
    assert await dead_letters.parked(kit.pool) == []
    [letter] = await kit.letters()
    assert letter["status"] == "replayed" and letter["resolved_at"] is not None
    with pytest.raises(LookupError):
        await dead_letters.replay(kit.pool, letter_id, consumer)
    assert await kit.effects.count(event.event_id) == 1


async def test_a_replay_that_still_fails_leaves_the_letter_parked(kit: Kit) -> None:
    handler = Faulty(kit)
    consumer, event, letter_id = await _park_one(kit, handler)

    with pytest.raises(RuntimeError, match="handler fault"):
        await dead_letters.replay(kit.pool, letter_id, consumer)

    assert [p.id for p in await dead_letters.parked(kit.pool)] == [letter_id]
    assert await kit.effects.count(event.event_id) == 0


async def test_a_letter_is_replayed_only_by_the_consumer_that_parked_it(kit: Kit) -> None:
    handler = Faulty(kit)
    _, _, letter_id = await _park_one(kit, handler)

    with pytest.raises(LookupError):
        await dead_letters.replay(kit.pool, letter_id, kit.consumer(handler, name="someone-else"))
    assert [p.id for p in await dead_letters.parked(kit.pool)] == [letter_id]


async def test_discarding_a_parked_letter_marks_it_discarded_without_an_effect(kit: Kit) -> None:
    handler = Faulty(kit)
    consumer, event, letter_id = await _park_one(kit, handler)

    await dead_letters.discard(kit.pool, letter_id)

    assert await dead_letters.parked(kit.pool) == []
    [letter] = await kit.letters()
    assert letter["status"] == "discarded" and letter["resolved_at"] is not None
    with pytest.raises(LookupError):
        await dead_letters.discard(kit.pool, letter_id)
    with pytest.raises(LookupError):
        await dead_letters.replay(kit.pool, letter_id, consumer)
    assert await kit.effects.count(event.event_id) == 0


async def test_a_consumer_keeps_consuming_after_its_durable_is_deleted_on_the_server(
    kit: Kit,
) -> None:
    before = kit.events.engaged("case-1", 1)
    await kit.publish(before)
    consumer = kit.consumer(kit.effects.record)
    kit.start(consumer)
    await kit.caught_up(consumer)

    await kit.js.delete_consumer(kit.settings.stream_name, consumer.name)
    after = kit.events.engaged("case-1", 2)
    await kit.publish(after)

    await kit.wait_for(
        lambda: kit.effects.count(after.event_id), timeout=15, what="the re-created consumer"
    )
    # The re-created durable starts from the beginning again; the inbox absorbs the repeat.
    await kit.caught_up(consumer)
    assert await kit.effects.count(before.event_id) == 1
    assert await kit.effects.count() == 2


async def test_deliveries_that_never_failed_are_not_attempts_and_park_nothing(kit: Kit) -> None:
    """Lost acks, restarts and pauses past the ack wait deliver a message again; only the
    handler's own failures count towards parking it."""
    event = kit.events.engaged("case-1", 1)
    await kit.publish(event)
    consumer = kit.consumer(kit.effects.record)
    # Another holder of the same durable takes the message and hands it back, again and again,
    # as a replica that died or lost its connection each time would.
    await kit.js.add_consumer(kit.settings.stream_name, config=consumer.consumer_config())
    sub = await kit.js.pull_subscribe_bind(durable=consumer.name, stream=kit.settings.stream_name)
    for _ in range(QUICK.max_attempts + 2):
        [msg] = await sub.fetch(1, timeout=5)
        await msg.nak()
    await sub.unsubscribe()

    kit.start(consumer)
    await kit.caught_up(consumer)
    assert await kit.effects.count(event.event_id) == 1
    assert await kit.letters() == []


async def test_an_event_whose_data_does_not_fit_its_type_is_parked_on_its_first_delivery(
    kit: Kit,
) -> None:
    good = kit.events.engaged("case-1", 1)
    bad = EventEnvelope.model_validate(
        {**good.model_dump(), "event_id": uuid4(), "data": {"case_id": "not a case"}}
    )

    async def typed(conn: asyncpg.Connection, delivered: Delivered) -> None:
        payload_of(delivered.event)  # what every real handler does first
        await kit.effects.record(conn, delivered)

    await kit.publish(bad)
    await kit.publish(good)
    consumer = kit.consumer(typed)
    kit.start(consumer)

    await kit.wait_for(kit.parked_count, timeout=10, what="the event to be parked")
    await kit.caught_up(consumer)
    [letter] = await kit.letters()
    assert letter["event_id"] == bad.event_id
    assert letter["deliveries"] == 1
    assert letter["error"].startswith("malformed event data")
    assert await kit.effects.count(good.event_id) == 1


async def test_a_message_parked_again_after_its_ack_was_lost_is_one_dead_letter(
    kit: Kit,
) -> None:
    consumer = InboxConsumer(
        pool=kit.pool,
        js=kit.js,
        stream=kit.settings.stream_name,
        name=NAME,
        subjects=[f"{kit.settings.subject_root}.>"],
        handler=kit.effects.record,
        policy=ConsumerPolicy(ack_wait_seconds=1, fetch_timeout_seconds=0.5),
    )
    await kit.js.add_consumer(kit.settings.stream_name, config=consumer.consumer_config())
    sub = await kit.js.pull_subscribe_bind(durable=NAME, stream=kit.settings.stream_name)
    await kit.publish_raw(b"{not json")

    [first] = await sub.fetch(1, timeout=5)

    async def lost_on_the_way() -> None:
        pass

    first.ack = lost_on_the_way  # type: ignore[method-assign]
    assert await consumer.deliver(first) == "parked"
    [again] = await sub.fetch(1, timeout=10)  # back after the ack wait
    assert again.metadata.num_delivered == 2
    assert await consumer.deliver(again) == "parked"
    await sub.unsubscribe()

    [letter] = await kit.letters()
    assert letter["stream_seq"] == first.metadata.sequence.stream
    assert letter["deliveries"] == 1
