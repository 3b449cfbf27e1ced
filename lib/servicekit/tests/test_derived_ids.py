"""Derived event ids: a retried step recreates the id it had the first time, and the id is a
well-formed UUIDv7 that sorts by the instant it names."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

from servicekit.events import derived_event_id

AT = datetime(2025, 3, 14, 15, 9, 26, 535_000, tzinfo=UTC)


def test_the_same_key_and_instant_give_the_same_id() -> None:
    assert derived_event_id("wf-1/CaseOpened", AT) == derived_event_id("wf-1/CaseOpened", AT)


def test_the_same_instant_in_another_time_zone_gives_the_same_id() -> None:
    elsewhere = AT.astimezone(timezone(timedelta(hours=-5)))
    assert derived_event_id("wf-1/CaseOpened", elsewhere) == derived_event_id("wf-1/CaseOpened", AT)


def test_the_id_is_a_uuid_version_7_with_the_rfc_4122_variant() -> None:
    for key in ("wf-1/CaseOpened", "", "ü/ß", "x" * 1000):
        value = derived_event_id(key, AT)
        assert value.version == 7
        assert value.variant == uuid.RFC_4122
        assert uuid.UUID(str(value)) == value


def test_the_time_part_is_the_instant_in_unix_milliseconds() -> None:
    value = derived_event_id("wf-1/CaseOpened", AT)
    assert value.int >> 80 == int(AT.timestamp()) * 1000 + AT.microsecond // 1000
    for millis in range(1000):
        at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
        expected = 1_735_689_600_000 + millis
        assert derived_event_id("k", at).int >> 80 == expected, at


def test_different_keys_give_different_ids() -> None:
    keys = [f"wf-{n}/CaseManagerAssigned/{m}" for n in range(50) for m in range(4)]
    assert len({derived_event_id(k, AT) for k in keys}) == len(keys)


def test_the_same_key_at_another_instant_gives_another_id() -> None:
    later = AT + timedelta(milliseconds=1)
    assert derived_event_id("wf-1/reminder", AT) != derived_event_id("wf-1/reminder", later)


def test_ids_sort_by_their_instant_whatever_their_keys() -> None:
    instants = [AT + timedelta(milliseconds=n * 7) for n in range(100)]
    ids = [derived_event_id(f"key-{(n * 37) % 100}", at) for n, at in enumerate(instants)]
    assert sorted(ids) == ids
    assert sorted(ids, key=str) == ids
