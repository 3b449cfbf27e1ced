"""The inbox consumer: one effect per event however often it is delivered, by however many
copies, holders or re-created durables (its retries and parking: test_inbox_parking.py)."""

from lib.servicekit.tests.inbox_kit import NAME, QUICK, Kit
from servicekit.inbox import Delivered


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
