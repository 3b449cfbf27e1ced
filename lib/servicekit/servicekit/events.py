"""Building envelopes: fresh ids and clock for new facts, derived ids for facts that a retried
step must recreate identically (Temporal activities, timers)."""

import hashlib
from datetime import UTC, datetime
from uuid import UUID

import uuid6

from offramp_contracts import Actor, EventEnvelope, EventPayload

SYSTEM_AGENCY = "offramp"


def system_actor(service: str) -> Actor:
    return Actor(subject=f"service:{service}", agency=SYSTEM_AGENCY, role="system")


def derived_event_id(key: str, at: datetime) -> UUID:
    """A UUIDv7 whose time part is `at` and whose random part is a hash of `key`.

    Same key and instant, same id: an activity retried after a crash appends an event with the
    id it had the first time, and the event store refuses the second copy.
    """
    millis = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:10], "big")
    rand_a = (digest >> 62) & 0xFFF
    rand_b = digest & ((1 << 62) - 1)
    value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return UUID(int=value)


def new_event(
    payload: EventPayload,
    *,
    stream_id: str,
    stream_version: int,
    jurisdiction: str,
    actor: Actor,
    correlation_id: UUID,
    causation_id: UUID | None,
    occurred_at: datetime | None = None,
    event_id: UUID | None = None,
) -> EventEnvelope:
    now = datetime.now(UTC)
    return EventEnvelope(
        event_id=event_id or uuid6.uuid7(),
        event_type=payload.event_type,
        schema_version=payload.schema_version,
        stream_id=stream_id,
        stream_version=stream_version,
        jurisdiction=jurisdiction,
        occurred_at=occurred_at or now,
        recorded_at=now,
        actor=actor,
        correlation_id=correlation_id,
        causation_id=causation_id,
        data=payload.model_dump(mode="json"),
    )
