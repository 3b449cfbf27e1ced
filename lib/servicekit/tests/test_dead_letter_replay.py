"""What operators do with a parked dead letter: replay it once the fault is fixed (one effect),
or discard it; only the consumer that parked it replays it, and a resolved letter stays so."""

import pytest

from lib.servicekit.tests.inbox_kit import Faulty, Kit, park_one
from servicekit import dead_letters


async def test_replaying_a_parked_letter_after_the_fault_is_fixed_has_one_effect(kit: Kit) -> None:
    handler = Faulty(kit)
    consumer, event, letter_id = await park_one(kit, handler)

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
    consumer, event, letter_id = await park_one(kit, handler)

    with pytest.raises(RuntimeError, match="handler fault"):
        await dead_letters.replay(kit.pool, letter_id, consumer)

    assert [p.id for p in await dead_letters.parked(kit.pool)] == [letter_id]
    assert await kit.effects.count(event.event_id) == 0


async def test_a_letter_is_replayed_only_by_the_consumer_that_parked_it(kit: Kit) -> None:
    handler = Faulty(kit)
    _, _, letter_id = await park_one(kit, handler)

    with pytest.raises(LookupError):
        await dead_letters.replay(kit.pool, letter_id, kit.consumer(handler, name="someone-else"))
    assert [p.id for p in await dead_letters.parked(kit.pool)] == [letter_id]


async def test_discarding_a_parked_letter_marks_it_discarded_without_an_effect(kit: Kit) -> None:
    handler = Faulty(kit)
    consumer, event, letter_id = await park_one(kit, handler)

    await dead_letters.discard(kit.pool, letter_id)

    assert await dead_letters.parked(kit.pool) == []
    [letter] = await kit.letters()
    assert letter["status"] == "discarded" and letter["resolved_at"] is not None
    with pytest.raises(LookupError):
        await dead_letters.discard(kit.pool, letter_id)
    with pytest.raises(LookupError):
        await dead_letters.replay(kit.pool, letter_id, consumer)
    assert await kit.effects.count(event.event_id) == 0
