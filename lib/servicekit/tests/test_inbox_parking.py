"""The inbox consumer's bounded retries: a failing handler is retried with back-off, and what
cannot be handled (always failing, unprocessable, malformed) is parked as one dead letter at
once or after its attempts, never blocking the events behind it."""

import itertools
from uuid import uuid4

import asyncpg
import pytest

from lib.servicekit.tests.inbox_kit import NAME, QUICK, Faulty, Kit
from offramp_contracts import EventEnvelope, payload_of
from servicekit.inbox import ConsumerPolicy, Delivered, InboxConsumer, Unprocessable


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

    # The ack is lost on its way: the server never hears of it and delivers the message again.
    first.ack = lost_on_the_way  # type: ignore[method-assign]
    assert await consumer.deliver(first) == "parked"
    [again] = await sub.fetch(1, timeout=10)  # back after the ack wait
    assert again.metadata.num_delivered == 2
    assert await consumer.deliver(again) == "parked"
    await sub.unsubscribe()

    [letter] = await kit.letters()
    assert letter["stream_seq"] == first.metadata.sequence.stream
    assert letter["deliveries"] == 1
